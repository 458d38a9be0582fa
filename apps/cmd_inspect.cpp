// `sceald inspect FILE`: names, shapes, dtypes and metadata of a weights file.
#include <iostream>

#include "apps/command_registry.h"
#include "engine/io/safetensors.h"

namespace sceald::apps {
namespace {

void inspect(const std::string& path) {
  const io::SafetensorsFile file = io::load_safetensors(path);
  std::cout << path << ": safetensors, " << file.tensors.size() << " tensors\n";
  std::int64_t total = 0;
  for (const auto& [name, t] : file.tensors) {
    std::cout << "  " << name << "  " << dtype_name(t.dtype()) << shape_str(t.shape()) << "\n";
    total += t.numel();
  }
  std::cout << "  total elements: " << total << "\n";
  for (const auto& [key, value] : file.metadata) std::cout << "  metadata " << key << " = " << value << "\n";
}

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("inspect", "List the tensors and metadata of a weights file");
  auto path = std::make_shared<std::string>();
  cmd->add_option("file", *path, "a .safetensors file")->required()->check(CLI::ExistingFile);
  cmd->callback([path] { inspect(*path); });
}

const CommandRegistration registration("inspect", setup);

}  // namespace
}  // namespace sceald::apps
