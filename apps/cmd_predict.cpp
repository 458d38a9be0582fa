// `sceald predict`: softmax(z) per image, with class names. The work is train::predict_images.
#include <cstdio>
#include <memory>

#include "apps/command_registry.h"
#include "engine/cuda/math_mode.h"
#include "engine/data/expressions.h"
#include "nets/sceald/evaluate.h"
#include "nets/sceald/shipped_model.h"

namespace sceald::apps {
namespace {

struct PredictArgs {
  std::string checkpoint;
  std::vector<std::string> images;
  std::string device = "cpu";
  std::string math = "precise";
};

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("predict", "Predicted label distribution softmax(z) of each image");
  auto a = std::make_shared<PredictArgs>();
  cmd->add_option("--checkpoint", a->checkpoint, "run folder or checkpoint file (default: the shipped FERPlus model)");
  cmd->add_option("images", a->images, "image files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--device", a->device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--math", a->math, "CUDA math: precise or fast (TF32 allowed)")
      ->check(CLI::IsMember({"fast", "precise"}))
      ->capture_default_str();
  cmd->callback([a] {
    const cuda::MathModeGuard math(cuda::parse_math_mode(a->math));
    const auto probs = train::predict_images(train::checkpoint_or_shipped(a->checkpoint), a->images, a->device);
    for (std::size_t i = 0; i < probs.size(); ++i) {
      std::size_t best = 0;
      for (std::size_t k = 1; k < probs[i].size(); ++k) best = probs[i][k] > probs[i][best] ? k : best;
      std::printf("%s: %s", a->images[i].c_str(), std::string(data::kExpressionNames[best]).c_str());
      for (std::size_t k = 0; k < probs[i].size(); ++k)
        std::printf(" %s=%.4f", std::string(data::kExpressionNames[k]).c_str(), probs[i][k]);
      std::printf("\n");
    }
  });
}

const CommandRegistration registration("predict", setup);

}  // namespace
}  // namespace sceald::apps
