// `sceald train --device cuda`: the whole method (Module A, then the task
// network with label distributions) on the GPU follows the CPU run of the
// same config: the same batches and starting weights, so the per-epoch
// losses agree to float32 rounding accumulated over a few hundred steps; the
// checkpoints hold CPU tensors (a GPU run resumes on the CPU); evaluation
// and prediction on the GPU give the CPU's logits; loader
// batches for a GPU model come in pinned memory.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/cuda/pinned.h"
#include "engine/data/synthetic.h"
#include "engine/io/safetensors.h"
#include "gpu_test.h"
#include "nets/sceald/evaluate.h"
#include "nets/sceald/task_stage.h"

using namespace sceald;
using namespace sceald::train;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("sceald-gpu-train-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(d);
  return d.string();
}

TrainConfig tiny_config(const std::string& data_root) {
  TrainConfig c = synthetic_fast_preset();
  c.data_root = data_root;
  c.image_size = 32;
  c.labels = "fer2013";
  c.arch = "resnet18";
  c.stem = "imagenet";  // the cheapest stem: the emulated device runs this too
  c.width = 0.0625;
  c.ae_width = 0.0625;
  c.ae_hidden = 32;
  c.ae_epochs = 1;
  c.epochs = 2;
  c.ld_start_epoch = 2;
  c.batch_size = 20;
  c.workers = 0;
  c.math = "precise";  // training's default, fast (TF32), would move the losses well past float32 rounding
  return c;
}

std::vector<double> task_losses(const std::string& run_dir) {
  std::vector<double> losses;
  std::ifstream log(run_dir + "/log.jsonl");
  std::string line;
  while (std::getline(log, line)) losses.push_back(nlohmann::json::parse(line).at("loss").get<double>());
  return losses;
}

TEST(GpuTraining, FollowsTheCpuRunAndSavesCpuCheckpoints) {
  SCEALD_REQUIRE_GPU();
  const std::string data = temp_dir("data");
  data::SyntheticOptions so;
  so.train = 120;
  so.valid = so.test = 40;
  so.size = 32;
  so.seed = 5;
  data::generate_synthetic_dataset(data, so);

  TrainConfig c = tiny_config(data);
  const std::string cpu_dir = temp_dir("cpu"), gpu_dir = temp_dir("gpu");
  const RunResult on_cpu = run_training(c, cpu_dir, false, false);
  c.device = "cuda";
  const RunResult on_gpu = run_training(c, gpu_dir, false, false);
  ASSERT_TRUE(on_cpu.sceald && on_cpu.sceald->finished);
  ASSERT_TRUE(on_gpu.sceald && on_gpu.sceald->finished);

  const std::vector<double> a = task_losses(cpu_dir), b = task_losses(gpu_dir);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (std::size_t e = 0; e < a.size(); ++e)
    EXPECT_NEAR(a[e], b[e], 2e-3 * std::fabs(a[e])) << "epoch " << e + 1 << " loss, CPU vs GPU";
  const double acc_cpu = on_cpu.sceald->metrics["accuracy"].get<double>();
  const double acc_gpu = on_gpu.sceald->metrics["accuracy"].get<double>();
  EXPECT_NEAR(acc_cpu, acc_gpu, 0.05);

  const auto f = io::load_safetensors(gpu_dir + "/" + kFinalCheckpoint);
  for (const auto& [name, t] : f.tensors) EXPECT_TRUE(t.device().is_cpu()) << name;

  // `sceald eval` and `sceald predict` of the GPU run, on the GPU and on the
  // CPU, from the same checkpoint: the same logits and probabilities.
  EvalRequest eval;
  eval.checkpoint = gpu_dir;
  eval.workers = 0;
  const EvalResult eval_cpu = evaluate_checkpoint(eval);
  eval.device = "cuda";
  const EvalResult eval_gpu = evaluate_checkpoint(eval);
  ASSERT_EQ(eval_gpu.logits.shape(), eval_cpu.logits.shape());
  const std::vector<double> logits_cpu = eval_cpu.logits.to_vector<double>(),
                            logits_gpu = eval_gpu.logits.to_vector<double>();
  for (std::size_t i = 0; i < logits_cpu.size(); ++i)
    ASSERT_NEAR(logits_gpu[i], logits_cpu[i], 1e-4 * (1.0 + std::fabs(logits_cpu[i]))) << "logit " << i;
  std::vector<std::string> images;
  for (const auto& entry : fs::directory_iterator(fs::path(data) / "FER2013Valid"))
    if (entry.path().extension() == ".png" && images.size() < 3) images.push_back(entry.path().string());
  ASSERT_FALSE(images.empty());
  const auto p_cpu = predict_images(gpu_dir, images, "cpu"), p_gpu = predict_images(gpu_dir, images, "cuda");
  ASSERT_EQ(p_gpu.size(), p_cpu.size());
  for (std::size_t i = 0; i < p_cpu.size(); ++i)
    for (std::size_t k = 0; k < p_cpu[i].size(); ++k) EXPECT_NEAR(p_gpu[i][k], p_cpu[i][k], 1e-5) << images[i];
  for (const auto& d : {data, cpu_dir, gpu_dir}) fs::remove_all(d);
}

TEST(GpuTraining, LoaderBatchesForAGpuModelArePinned) {
  SCEALD_REQUIRE_GPU();
  const std::string data = temp_dir("pinned");
  data::SyntheticOptions so;
  so.train = 10;
  so.valid = so.test = 4;
  so.size = 32;
  data::generate_synthetic_dataset(data, so);
  TrainConfig c = tiny_config(data);
  const TrainingData d = open_training_data(c);
  data::DataLoader loader(d.train, loader_options(c, d.convention, Device::cuda(0), false, false, 0));
  loader.start_epoch(0);
  auto batch = loader.next();
  ASSERT_TRUE(batch.has_value());
  EXPECT_TRUE(cuda::is_pinned(batch->images));
  data::DataLoader plain(d.train, loader_options(c, d.convention, Device::cpu(), false, false, 0));
  plain.start_epoch(0);
  EXPECT_FALSE(cuda::is_pinned(plain.next()->images));
  fs::remove_all(data);
}

}  // namespace
