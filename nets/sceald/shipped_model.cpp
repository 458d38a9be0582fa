#include "nets/sceald/shipped_model.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "nets/sceald/run_state.h"

namespace sceald::train {
namespace fs = std::filesystem;

std::string shipped_model_path() {
  const char* dir = std::getenv("SCEALD_MODELS_DIR");
  return (fs::path(dir && *dir ? dir : SCEALD_MODELS_DIR) / kShippedModelFile).string();
}

std::string checkpoint_or_shipped(const std::string& given) {
  if (!given.empty()) return given;
  const std::string path = shipped_model_path();
  SCEALD_CHECK(fs::exists(path), "no --checkpoint given, and the shipped model is not at ", path,
               " (set SCEALD_MODELS_DIR to the folder that holds ", kShippedModelFile,
               ", or give --checkpoint RUN_FOLDER)");
  return path;
}

std::size_t export_model(const std::string& checkpoint, const std::string& out) {
  // load_run checks the file (format, finite weights, the net's names) before anything is written.
  const LoadedRun run = load_run(checkpoint);
  const io::SafetensorsFile f = io::load_safetensors(run.path);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, t] : f.tensors)
    if (name.rfind("model.", 0) == 0) tensors.emplace_back(name, t);
  std::map<std::string, std::string> meta;
  for (const char* key : {"format", "epoch", "config", "class_names", "input_convention", "arch", "width",
                          "in_channels", "num_classes", "best_epoch", "best_accuracy", "best_mean_class_accuracy"})
    if (f.metadata.count(key)) meta[key] = f.metadata.at(key);
  meta["exported_from"] = fs::path(run.path).filename().string();
  io::save_safetensors(out, tensors, meta);
  return tensors.size();
}

}  // namespace sceald::train
