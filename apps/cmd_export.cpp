// `sceald export`: a training checkpoint slimmed to what prediction needs
// (the network and its metadata), as the shipped model is made. The work is
// train::export_model.
#include <iostream>
#include <memory>

#include "apps/command_registry.h"
#include "nets/sceald/shipped_model.h"

namespace sceald::apps {
namespace {

struct ExportArgs {
  std::string checkpoint, out;
};

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("export", "Write a checkpoint's network and metadata only, for prediction");
  auto a = std::make_shared<ExportArgs>();
  cmd->add_option("--checkpoint", a->checkpoint, "run folder or checkpoint file (e.g. RUN/checkpoint_best.safetensors)")
      ->required();
  cmd->add_option("--out", a->out, "the .safetensors file to write")->required();
  cmd->callback([a] {
    const std::size_t n = train::export_model(a->checkpoint, a->out);
    std::cout << a->out << ": " << n << " tensors of the network\n";
  });
}

const CommandRegistration registration("export", setup);

}  // namespace
}  // namespace sceald::apps
