// `sceald eval`: a trained run's metrics on a dataset split. The work is train::evaluate_checkpoint.
#include <iostream>
#include <memory>

#include "apps/command_registry.h"
#include "apps/progress.h"
#include "engine/cuda/math_mode.h"
#include "engine/error.h"
#include "nets/sceald/evaluate.h"
#include "nets/sceald/reports.h"
#include "nets/sceald/shipped_model.h"

namespace sceald::apps {
namespace {

struct EvalArgs {
  train::EvalRequest request;
  std::string json;
  std::string math = "precise";
  std::string tta = "none";
};

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("eval", "Evaluate a trained run on a dataset split");
  auto a = std::make_shared<EvalArgs>();
  cmd->add_option("--checkpoint", a->request.checkpoint,
                  "run folder or checkpoint file (default: the shipped FERPlus model, with --data-root)");
  cmd->add_option("--dataset", a->request.dataset, "default: the run's");
  cmd->add_option("--data-root", a->request.data_root, "default: the run's");
  cmd->add_option("--split", a->request.split, "default: the run's validation split");
  cmd->add_option("--labels", a->request.labels,
                  "plurality, majority, votes or fer2013 (default: the run's --val-labels)");
  cmd->add_option("--tta", a->tta, "test-time augmentation: none, or flip (softmax averaged with the mirror image)")
      ->capture_default_str();
  cmd->add_option("--batch-size", a->request.batch_size)->capture_default_str();
  cmd->add_option("--device", a->request.device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--math", a->math, "CUDA math: precise or fast (TF32 allowed)")
      ->check(CLI::IsMember({"fast", "precise"}))
      ->capture_default_str();
  cmd->add_option("--json", a->json, "also write the metrics here");
  cmd->callback([a] {
    const cuda::MathModeGuard math(cuda::parse_math_mode(a->math));
    a->request.tta = train::parse_tta(a->tta);
    if (a->request.checkpoint.empty())  // its config names the folder it was trained from, on another machine
      SCEALD_CHECK(!a->request.data_root.empty(), "the shipped model (", train::shipped_model_path(),
                   ") needs --data-root: the FERPlus folder to evaluate it on");
    a->request.checkpoint = train::checkpoint_or_shipped(a->request.checkpoint);
    Progress progress;
    train::TrainHooks hooks;
    hooks.batch = [&](const std::string& s, int e, std::int64_t d, std::int64_t t) { progress.update(s, e, d, t); };
    const auto r = train::evaluate_checkpoint(a->request, hooks);
    progress.finish_line();
    const auto j = train::metrics_json(r);
    std::cout << j.dump(2) << "\n";
    if (!a->json.empty()) train::write_json_file(a->json, j);
  });
}

const CommandRegistration registration("eval", setup);

}  // namespace
}  // namespace sceald::apps
