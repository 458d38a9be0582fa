// The training recipe's parts on a tiny synthetic set: learning-rate
// schedules step by step (against their closed forms, through a resume),
// weight decay, the votes label mode, augmentation, the best-epoch
// checkpoint and what metrics.json says of it, presets and their errors.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numbers>

#include "engine/autograd/grad_mode.h"
#include "engine/data/decode.h"
#include "engine/data/loader.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "nets/sceald/reports.h"
#include "engine/ops/softmax.h"
#include "engine/optim/sgd.h"
#include "nets/sceald/evaluate.h"
#include "nets/sceald/lr_schedule.h"
#include "nets/sceald/run_estimate.h"
#include "nets/sceald/run_state.h"
#include "nets/sceald/shipped_model.h"
#include "nets/sceald/task_stage.h"
#include "support/error_checks.h"
#include "tests/nets/trainer_fixtures.h"

namespace sceald::train {
namespace {
namespace fs = std::filesystem;
using sceald::testing::throws_with;

std::vector<nlohmann::json> read_log(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The rate of each step against the closed forms of lr_schedule.h.
TEST(LrSchedule, StepByStepAgainstTheClosedForms) {
  Tensor p = Tensor::zeros({1});
  optim::SGD sgd({p}, 0.5);
  const int epochs = 4;
  const std::int64_t spe = 10;  // steps per epoch
  LrSchedule cosine{.kind = "cosine", .warmup_epochs = 0.5, .min_lr = 0.01};
  auto s = make_lr_scheduler(cosine, sgd, epochs, spe);
  for (std::int64_t k = 0; k < epochs * spe; ++k) {
    double want;
    if (k < 5)
      want = 0.5 * (0.01 + 0.99 * k / 5.0);  // warm-up over 5 steps from lr/100
    else
      want = 0.01 + (0.5 - 0.01) * (1 + std::cos(std::numbers::pi * (k - 5) / 35.0)) / 2;
    EXPECT_NEAR(sgd.lr(), want, 1e-15) << "step " << k;
    s->step();
  }
  EXPECT_NEAR(sgd.lr(), 0.01, 1e-15);  // after the last step: min_lr

  optim::SGD sgd2({p}, 0.5);
  auto st = make_lr_scheduler({.kind = "step", .step_epochs = 2, .step_gamma = 0.1}, sgd2, epochs, spe);
  st->set_epoch(19);
  EXPECT_DOUBLE_EQ(sgd2.lr(), 0.5);
  st->set_epoch(20);
  EXPECT_NEAR(sgd2.lr(), 0.05, 1e-15);

  optim::SGD sgd3({p}, 0.5);
  auto constant = make_lr_scheduler({}, sgd3, epochs, spe);
  constant->set_epoch(39);
  EXPECT_EQ(sgd3.lr(), 0.5);
}

TrainConfig recipe_config() {
  TrainConfig c = tiny_config();
  c.arch = "resnet18";
  c.stem = "small";
  c.width = 0.0625;
  c.epochs = 3;
  c.ld_start_epoch = 2;
  c.optimizer = "sgd";
  c.lr = 0.05;
  c.weight_decay = 5e-4;
  c.schedule = {.kind = "cosine", .warmup_epochs = 0.5, .min_lr = 0.001};
  c.labels = "votes";
  c.rotate_degrees = 10;
  c.scale_jitter = 0.1;
  c.translate_fraction = 0.05;
  c.erase_probability = 0.5;
  return c;
}

// Stopped after epoch 1 and resumed, a run with every new part switched on
// ends bitwise where the uninterrupted one does; the log's rate per epoch is
// the schedule's rate at the epoch's first step.
TEST(TrainerRecipe, ResumeContinuesTheScheduleExactly) {
  omp_set_num_threads(1);
  const TrainConfig c = recipe_config();
  const std::string a = temp_out("recipe-straight"), b = temp_out("recipe-resumed");
  run_training(c, a, false, false);
  RunControl stop;
  stop.stop_after_epoch = 1;
  run_training(c, b, false, false, {}, stop);
  const RunResult second = run_training(TrainConfig{}, b, true, false);
  ASSERT_TRUE(second.sceald && second.sceald->finished);
  const auto fa = io::load_safetensors(a + "/" + kFinalCheckpoint);
  const auto fb = io::load_safetensors(b + "/" + kFinalCheckpoint);
  for (const auto& [name, t] : fa.tensors) {
    if (t.dtype() == DType::Int64) continue;
    EXPECT_TRUE(t.to(DType::Float64).to_vector<double>() == fb.at(name).to(DType::Float64).to_vector<double>())
        << name << " differs after resume";
  }
  EXPECT_EQ(fa.metadata_at("lr_step"), "30");  // 3 epochs of 200 / 20 batches
  const auto log = read_log(a + "/log.jsonl");
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(read_log(b + "/log.jsonl").size(), 3u);
  Tensor p = Tensor::zeros({1});
  optim::SGD sgd({p}, c.lr);
  auto schedule = make_lr_scheduler(c.schedule, sgd, c.epochs, 10);
  for (int e = 0; e < 3; ++e) {
    schedule->set_epoch(10 * e);
    EXPECT_DOUBLE_EQ(log[e]["lr"].get<double>(), sgd.lr()) << "epoch " << e + 1;
  }
  // SGD with weight decay keeps a momentum buffer; the votes mode needs the distributions and trained.
  EXPECT_NE(fa.find("optim.0.momentum_buffer"), nullptr);
  fs::remove_all(a);
  fs::remove_all(b);
}

// A run started before schedules and best-epoch tracking existed (its
// config.json without those keys, its checkpoint without lr_step and best_*)
// resumes with a constant rate, as it was trained, to the same weights as an
// uninterrupted run of the same options.
TEST(TrainerRecipe, RunsFromBeforeTheScheduleStillResume) {
  omp_set_num_threads(1);
  TrainConfig c = tiny_config();
  c.epochs = 2;
  const std::string a = temp_out("old-straight"), b = temp_out("old-resumed");
  run_training(c, a, false, false);
  RunControl stop;
  stop.stop_after_epoch = 1;
  run_training(c, b, false, false, {}, stop);
  // Make b look like a run of the older program.
  nlohmann::json config = nlohmann::json::parse(io::read_file(b + "/config.json"));
  for (const char* key : {"stem", "weight_decay", "schedule", "ae_schedule", "rotate_degrees", "scale_jitter",
                          "translate_fraction", "erase_probability", "preset"})
    config.erase(key);
  write_json_file(b + "/config.json", config);
  const std::string latest = b + "/" + kLatestCheckpoint;
  io::SafetensorsFile f = io::load_safetensors(latest);
  for (const char* key : {"lr_step", "best_epoch", "best_accuracy", "best_mean_class_accuracy"}) f.metadata.erase(key);
  io::save_safetensors(latest, f.tensors, f.metadata);
  const RunResult resumed = run_training(TrainConfig{}, b, true, false);
  ASSERT_TRUE(resumed.sceald && resumed.sceald->finished);
  const auto fa = io::load_safetensors(a + "/" + kFinalCheckpoint), fb = io::load_safetensors(b + "/" + kFinalCheckpoint);
  for (const auto& [name, t] : fa.tensors)
    if (name.rfind("model.", 0) == 0)
      EXPECT_TRUE(t.to_vector<float>() == fb.at(name).to_vector<float>()) << name << " differs after resume";
  EXPECT_EQ(resumed.sceald->metrics["best_epoch"].get<int>(), 2);  // tracking starts where the old run stopped
  fs::remove_all(a);
  fs::remove_all(b);
}

// checkpoint_best holds the first epoch with the highest validation
// accuracy; metrics.json names it beside the final epoch, and evaluating its
// weights gives its recorded accuracy.
TEST(TrainerRecipe, TheBestEpochIsKeptAndReported) {
  omp_set_num_threads(1);
  TrainConfig c = recipe_config();
  c.labels = "plurality";
  c.epochs = 4;
  const std::string dir = temp_out("recipe-best");
  const RunResult r = run_training(c, dir, false, false);
  ASSERT_TRUE(r.sceald && r.sceald->finished);
  const auto log = read_log(dir + "/log.jsonl");
  ASSERT_EQ(log.size(), 4u);
  int best = 0;
  double best_accuracy = -1;
  for (const auto& rec : log)
    if (rec["val_accuracy"].get<double>() > best_accuracy) {
      best_accuracy = rec["val_accuracy"].get<double>();
      best = rec["epoch"].get<int>();
    }
  const nlohmann::json& m = r.sceald->metrics;
  EXPECT_EQ(m["best_epoch"].get<int>(), best);
  EXPECT_EQ(m["best_accuracy"].get<double>(), best_accuracy);
  EXPECT_EQ(m["final_epoch"].get<int>(), 4);
  EXPECT_EQ(m["accuracy"].get<double>(), log.back()["val_accuracy"].get<double>());
  EXPECT_EQ(m["labels"], "plurality");
  const std::string best_path = dir + "/" + kBestCheckpoint;
  ASSERT_TRUE(fs::exists(best_path));
  const auto f = io::load_safetensors(best_path);
  EXPECT_EQ(f.metadata_at("epoch"), std::to_string(best));
  EvalRequest request;
  request.checkpoint = best_path;
  EXPECT_EQ(evaluate_checkpoint(request).metrics.accuracy, best_accuracy);

  // --tta flip: the log of the softmax averaged over each image and its mirror image, flipped here
  // before normalisation (an independent path from the evaluator's flip of the normalised batch).
  request.tta = Tta::Flip;
  const EvalResult flipped = evaluate_checkpoint(request);
  EXPECT_EQ(metrics_json(flipped)["tta"], "flip");
  EXPECT_EQ(metrics_json(flipped)["labels"], "plurality");
  LoadedRun run = load_run(best_path);
  const data::Dataset val = open_split(run.config, run.config.val_split, run.config.val_labels);
  data::SampleTransform t;
  t.convention = run.convention;
  t.side = run.config.image_size;
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < val.size(); i += 7) {
    data::Image image = data::decode_image(val.samples[i].path, 1);
    const Tensor x = data::image_to_tensor(image, t.convention).reshape({1, 1, t.side, t.side});
    const Tensor xf = data::image_to_tensor(data::flip_horizontal(image), t.convention).reshape({1, 1, t.side, t.side});
    const auto p = softmax(run.net.module->forward(x), 1).to_vector<float>();
    const auto q = softmax(run.net.module->forward(xf), 1).to_vector<float>();
    const auto got = flipped.logits.to_vector<float>();
    for (int k = 0; k < 7; ++k)
      EXPECT_NEAR(std::exp(got[i * 7 + k]), 0.5 * (p[k] + q[k]), 1e-5) << "sample " << i << " class " << k;
  }
  fs::remove_all(dir);
}

// An exported model holds the network and the metadata only, and predicts
// exactly as its checkpoint; without --checkpoint the shipped one is looked
// for under SCEALD_MODELS_DIR.
TEST(TrainerRecipe, ExportedModelsPredictAsTheirCheckpointAndShipUnderTheModelsDir) {
  omp_set_num_threads(1);
  TrainConfig c = recipe_config();
  c.epochs = 2;
  const std::string dir = temp_out("recipe-export");
  run_training(c, dir, false, false);
  const std::string models = dir + "/models";
  fs::create_directories(models);
  const std::string exported = models + "/" + kShippedModelFile;
  EXPECT_GT(export_model(dir + "/" + kBestCheckpoint, exported), 50u);
  const auto f = io::load_safetensors(exported);
  for (const auto& [name, t] : f.tensors) EXPECT_EQ(name.rfind("model.", 0), 0u) << name;
  EXPECT_EQ(f.metadata_at("format"), "sceald-train-v1");
  EXPECT_EQ(f.metadata_at("exported_from"), kBestCheckpoint);
  EXPECT_LT(fs::file_size(exported), fs::file_size(dir + "/" + kBestCheckpoint));  // no optimiser state
  EvalRequest a, b;
  a.checkpoint = dir + "/" + kBestCheckpoint;
  b.checkpoint = exported;
  EXPECT_EQ(evaluate_checkpoint(a).logits.to_vector<float>(), evaluate_checkpoint(b).logits.to_vector<float>());

  ::setenv("SCEALD_MODELS_DIR", models.c_str(), 1);
  EXPECT_EQ(shipped_model_path(), exported);
  EXPECT_EQ(checkpoint_or_shipped(""), exported);
  EXPECT_EQ(checkpoint_or_shipped("RUN"), "RUN");
  ::setenv("SCEALD_MODELS_DIR", (dir + "/nowhere").c_str(), 1);
  EXPECT_TRUE(throws_with([] { checkpoint_or_shipped(""); }, {"no --checkpoint given", "/nowhere/ferplus.safetensors",
                                                              "SCEALD_MODELS_DIR"}));
  ::unsetenv("SCEALD_MODELS_DIR");
  EXPECT_TRUE(throws_with([&] { export_model(dir + "/missing.safetensors", models + "/x.safetensors"); },
                          {"missing.safetensors"}));
  fs::remove_all(dir);
}

// The estimate scales measured rates to the run; the warning names the stage that dominates.
TEST(TrainerRecipe, TheTimeEstimateScalesMeasuredRatesAndWarnsAboutHours) {
  omp_set_num_threads(1);
  TrainConfig c = tiny_config();
  c.ae_epochs = 3;
  c.epochs = 4;
  const RunEstimate e = estimate_run(c, 1000, 1);
  ASSERT_GT(e.ae_images_per_s, 0);
  ASSERT_GT(e.task_images_per_s, 0);
  EXPECT_DOUBLE_EQ(e.ae_seconds, 3000 / e.ae_images_per_s);
  EXPECT_DOUBLE_EQ(e.task_seconds, 4000 / e.task_images_per_s);
  EXPECT_EQ(describe_estimate(e, c).find("warning"), std::string::npos);
  RunEstimate hours = e;
  hours.ae_seconds = 5 * 3600;
  hours.task_seconds = 3600;
  const std::string text = describe_estimate(hours, c);
  EXPECT_NE(text.find("estimated training time: 6h00m"), std::string::npos) << text;
  EXPECT_NE(text.find("mostly in Module A (--ae-width-mult"), std::string::npos) << text;
  EXPECT_NE(text.find("is --preset ferplus"), std::string::npos) << text;
  c.preset = "ferplus";
  EXPECT_NE(describe_estimate(hours, c).find("--preset ferplus is meant for about 2 hours"), std::string::npos);
  c.stage = "task";
  EXPECT_EQ(estimate_run(c, 1000, 1).ae_seconds, 0.0);
}

TEST(TrainerRecipe, NewOptionsRoundTripAndOlderConfigsKeepTheOldBehaviour) {
  TrainConfig c = recipe_config();
  c.ae_schedule = {.kind = "step", .warmup_epochs = 1, .step_epochs = 3, .step_gamma = 0.5};
  c.preset = "ferplus";
  const TrainConfig back = TrainConfig::from_json(nlohmann::json::parse(c.to_json().dump()));
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.schedule, c.schedule);
  EXPECT_EQ(back.ae_schedule, c.ae_schedule);
  nlohmann::json old = c.to_json();
  for (const char* key : {"stem", "weight_decay", "schedule", "ae_schedule", "rotate_degrees", "scale_jitter",
                          "translate_fraction", "erase_probability", "preset"})
    old.erase(key);
  const TrainConfig aged = TrainConfig::from_json(old);
  EXPECT_EQ(aged.schedule, LrSchedule{});
  EXPECT_EQ(aged.schedule.kind, "constant");
  EXPECT_EQ(aged.stem, "imagenet");
  EXPECT_EQ(aged.weight_decay, 0.0);
  EXPECT_EQ(aged.erase_probability, 0.0);
  nlohmann::json broken = c.to_json();
  broken["schedule"] = "cosine";
  EXPECT_TRUE(throws_with([&] { TrainConfig::from_json(broken); }, {"key 'schedule'", "expected an object"}));
}

TEST(TrainerRecipe, BadRecipeOptionsAreNamed) {
  auto refused = [](auto change, std::vector<std::string> words) {
    TrainConfig c = recipe_config();
    change(c);
    return throws_with([&] { c.validate(); }, words);
  };
  EXPECT_TRUE(refused([](TrainConfig& c) { c.schedule.kind = "linear"; }, {"--lr-schedule linear", "cosine"}));
  EXPECT_TRUE(refused([](TrainConfig& c) { c.schedule.warmup_epochs = 9; }, {"--warmup-epochs 9", "[0, 3]"}));
  EXPECT_TRUE(refused([](TrainConfig& c) { c.schedule.min_lr = 1; }, {"--min-lr 1"}));
  EXPECT_TRUE(refused([](TrainConfig& c) { c.ae_schedule.kind = "x"; }, {"--ae-lr-schedule x"}));
  EXPECT_TRUE(refused([](TrainConfig& c) { c.weight_decay = -1; }, {"--weight-decay -1"}));
  EXPECT_TRUE(refused([](TrainConfig& c) { c.stem = "big"; }, {"--stem big", "imagenet, small or cifar"}));
  EXPECT_TRUE(refused([](TrainConfig& c) { c.arch = "vgg19"; }, {"--arch vgg19", "vgg16_bn"}));
  EXPECT_TRUE(refused([](TrainConfig& c) { c.rotate_degrees = 200; }, {"--rotate 200"}));
  EXPECT_TRUE(refused([](TrainConfig& c) { c.scale_jitter = 1; }, {"--scale-jitter 1"}));
  EXPECT_TRUE(refused([](TrainConfig& c) { c.erase_probability = 2; }, {"--erase-prob 2"}));
  EXPECT_TRUE(refused(
      [](TrainConfig& c) {
        c.dataset = "rafdb";
        c.labels = "majority";
      },
      {"--labels majority", "dataset rafdb has one label per image", "--labels plurality"}));
  EXPECT_TRUE(refused(
      [](TrainConfig& c) {
        c.dataset = "affectnet";
        c.labels = "plurality";
        c.val_labels = "votes";
      },
      {"--val-labels votes", "dataset affectnet"}));
  EXPECT_TRUE(throws_with([] { named_preset("imagenet"); }, {"--preset imagenet", "known: ferplus"}));
  TrainConfig preset = named_preset("ferplus");
  preset.data_root = "/data/ferplus";
  EXPECT_NO_THROW(preset.validate());
  EXPECT_EQ(preset.dataset, "ferplus");
}

}  // namespace
}  // namespace sceald::train
