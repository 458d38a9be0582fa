// `sceald forward`: run converted weights on a .npy batch and write the
// logits or features as .npy. The work is nets::forward_npy.
#include <iostream>

#include "apps/command_registry.h"
#include "engine/tensor.h"
#include "nets/convert.h"

namespace sceald::apps {
namespace {

struct ForwardArgs {
  std::string arch;
  std::string stem = "imagenet";
  std::int64_t num_classes = 0;
  nets::ForwardOptions options;
};

void run(ForwardArgs& args) {
  args.options.net.arch = nets::parse_arch(args.arch);
  args.options.net.stem = nets::parse_resnet_stem(args.stem);
  if (args.options.net.arch != nets::Arch::VGG10AutoEncoder) {
    SCEALD_CHECK(args.num_classes >= 1, "--num-classes ", args.num_classes == 0 ? "is required" : "must be >= 1",
                 " for ", args.arch);
    args.options.net.num_classes = args.num_classes;
  } else if (args.options.layer == "logits") {
    args.options.layer = "code";
  }
  const Tensor out = nets::forward_npy(args.options);
  std::cout << args.options.output_path << ": " << args.options.layer << " " << dtype_name(out.dtype())
            << shape_str(out.shape()) << "\n";
}

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("forward", "Run converted weights on a .npy batch (NCHW, already normalised)");
  auto args = std::make_shared<ForwardArgs>();
  nets::ForwardOptions& o = args->options;
  cmd->add_option("--arch", args->arch, "vgg16, vgg16_bn, resnet18 or vgg10ae")->required();
  cmd->add_option("--num-classes", args->num_classes, "class count of the weights");
  cmd->add_option("--weights", o.weights_path, "a .safetensors file from sceald convert")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--input", o.input_path, "a .npy array [N, C, H, W], float32, normalised")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--output", o.output_path, "the .npy file to write")->required();
  cmd->add_option("--layer", o.layer, "logits or feature (vgg10ae: code or reconstruction)")->capture_default_str();
  cmd->add_option("--width-mult", o.net.width, "width multiplier of the network")->capture_default_str();
  cmd->add_option("--in-channels", o.net.in_channels, "input channels of the network")->capture_default_str();
  cmd->add_option("--stem", args->stem, "resnet18: imagenet, small or cifar (nets/resnet18.h)")->capture_default_str();
  cmd->add_option("--side", o.net.side, "vgg10ae: input side")->capture_default_str();
  cmd->add_option("--code-dim", o.net.code_dim, "vgg10ae: code dimension d")->capture_default_str();
  cmd->add_option("--hidden", o.net.hidden, "vgg10ae: hidden width h")->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "images per forward pass")->capture_default_str();
  cmd->add_option("--device", o.device, "cpu or cuda[:N]")->capture_default_str();
  cmd->callback([args] { run(*args); });
}

const CommandRegistration registration("forward", setup);

}  // namespace
}  // namespace sceald::apps
