// `sceald convert`: a published PyTorch checkpoint (or a .safetensors file)
// into our network's weights, as .safetensors with metadata. The work is
// nets::convert_checkpoint; this parses options and prints its report.
#include <iostream>

#include "apps/cli_checks.h"
#include "apps/command_registry.h"
#include "nets/convert.h"

namespace sceald::apps {
namespace {

struct ConvertArgs {
  std::string in, out, arch, key_map = "auto", convention, stem = "imagenet";
  std::int64_t num_classes = 0;
  nets::NetSpec net;
  std::uint64_t seed = 0;
  bool list_matched = false;
};

void run(const ConvertArgs& args) {
  nets::ConvertOptions options;
  options.in_path = args.in;
  options.out_path = args.out;
  options.net = args.net;
  options.net.arch = nets::parse_arch(args.arch);
  options.net.stem = nets::parse_resnet_stem(args.stem);
  if (options.net.arch != nets::Arch::VGG10AutoEncoder) {
    SCEALD_CHECK(args.num_classes >= 1, "--num-classes ", args.num_classes == 0 ? "is required" : "must be >= 1",
                 " for ", args.arch, " (7 for the seven expressions)");
    options.net.num_classes = args.num_classes;
  }
  options.key_map = nets::parse_key_map(args.key_map);
  options.input_convention = args.convention;
  options.seed = args.seed;
  const nets::ConversionReport report = nets::convert_checkpoint(options);
  std::cout << report.summary(args.list_matched);
}

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("convert", "Convert a PyTorch checkpoint into sceald weights (.safetensors)");
  auto args = std::make_shared<ConvertArgs>();
  cmd->add_option("--in", args->in, "the checkpoint: .pth/.pt/.tar (zip or legacy) or .safetensors")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--arch", args->arch, "vgg16, vgg16_bn, resnet18 or vgg10ae")->required();
  cmd->add_option("--num-classes", args->num_classes, "our class count (a head of another size is initialised afresh)");
  cmd->add_option("--key-map", args->key_map, "auto, torchvision, vggface or dream")->capture_default_str();
  cmd->add_option("--width-mult", args->net.width, "width multiplier of the network")->capture_default_str();
  cmd->add_option("--in-channels", args->net.in_channels, "input channels of the network")->capture_default_str();
  cmd->add_option("--stem", args->stem, "resnet18: imagenet, small or cifar (nets/resnet18.h)")->capture_default_str();
  cmd->add_option("--side", args->net.side, "vgg10ae: input side")->capture_default_str();
  cmd->add_option("--code-dim", args->net.code_dim, "vgg10ae: code dimension d")->capture_default_str();
  cmd->add_option("--hidden", args->net.hidden, "vgg10ae: hidden width h")->capture_default_str();
  cmd->add_option("--input-convention", args->convention,
                  "override the recorded input convention: imagenet, vggface, grey01 or a full description");
  cmd->add_option("--seed", args->seed, "seed of the tensors initialised afresh")
      ->capture_default_str()
      ->check(whole_number());
  cmd->add_flag("--list-matched", args->list_matched, "list every matched tensor too");
  cmd->add_option("--out", args->out, "the .safetensors file to write")->required();
  cmd->callback([args] { run(*args); });
}

const CommandRegistration registration("convert", setup);

}  // namespace
}  // namespace sceald::apps
