// `sceald inspect FILE`: names, shapes, dtypes and metadata of a weights file
// (.safetensors, a PyTorch .pth/.pt/.tar checkpoint in either format, or .npy).
#include <iostream>

#include "apps/command_registry.h"
#include "nets/convert.h"

namespace sceald::apps {
namespace {

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("inspect", "List the tensors and metadata of a weights file");
  auto path = std::make_shared<std::string>();
  cmd->add_option("file", *path, "a .safetensors, .pth/.pt/.tar (PyTorch) or .npy file")->required();
  cmd->callback([path] { std::cout << nets::describe_weights_file(*path); });
}

const CommandRegistration registration("inspect", setup);

}  // namespace
}  // namespace sceald::apps
