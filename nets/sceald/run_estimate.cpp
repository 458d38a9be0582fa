#include "nets/sceald/run_estimate.h"

#include <cstdio>

#include "engine/cuda_runtime.h"
#include "nets/benchmark.h"
#include "nets/sceald/run_state.h"

namespace sceald::train {

namespace {

double train_images_per_s(nets::NetSpec spec, const TrainConfig& c) {
  nets::BenchmarkOptions o;
  o.net = spec;
  o.image_size = c.image_size;
  o.batch_size = c.batch_size;
  o.steps = 3;
  o.warmup = 2;  // the first steps pay for allocation and cold caches
  o.device = cuda::select_device(c.device);
  o.seed = c.seed;
  return nets::run_benchmark(o).train_images_per_s;
}

std::string hours_and_minutes(double seconds) {
  char buf[32];
  const int minutes = static_cast<int>(seconds / 60 + 0.5);
  std::snprintf(buf, sizeof buf, "%dh%02dm", minutes / 60, minutes % 60);
  return buf;
}

}  // namespace

RunEstimate estimate_run(const TrainConfig& c, std::int64_t train_images, std::int64_t in_channels) {
  RunEstimate e;
  if (c.stage != "task" && c.ae_epochs > 0) {
    nets::NetSpec ae;
    ae.arch = nets::Arch::VGG10AutoEncoder;
    ae.in_channels = in_channels;
    ae.side = c.image_size;
    ae.code_dim = 300;  // the embedded word vectors' dimension; the time hardly depends on it
    ae.hidden = c.ae_hidden;
    ae.width = c.ae_width;
    e.ae_images_per_s = train_images_per_s(ae, c);
    e.ae_seconds = double(train_images) * c.ae_epochs / e.ae_images_per_s;
  }
  if (c.stage != "ae") {
    e.task_images_per_s = train_images_per_s(task_spec(c, in_channels), c);
    e.task_seconds = double(train_images) * c.epochs / e.task_images_per_s;
  }
  return e;
}

std::string describe_estimate(const RunEstimate& e, const TrainConfig& c, double warn_hours) {
  char line[400];
  std::snprintf(line, sizeof line,
                "estimated training time: %s (Module A: %d epochs at %.0f images/s, %s; task network: %d epochs at "
                "%.0f images/s, %s; evaluation and feature passes come on top)\n",
                hours_and_minutes(e.total_seconds()).c_str(), c.stage == "task" ? 0 : c.ae_epochs, e.ae_images_per_s,
                hours_and_minutes(e.ae_seconds).c_str(), c.stage == "ae" ? 0 : c.epochs, e.task_images_per_s,
                hours_and_minutes(e.task_seconds).c_str());
  std::string out = line;
  if (e.total_seconds() <= warn_hours * 3600) return out;
  const bool ae_dominates = e.ae_seconds > e.task_seconds;
  const std::string advice = c.preset.empty()
                                 ? "The FERPlus recipe that fits about 2 hours on 2 cores is --preset ferplus "
                                   "(docs/RESULTS.md); options you give still win."
                                 : "--preset " + c.preset + " is meant for about 2 hours on 2 cores; this machine "
                                   "measures slower, or options you gave made it larger.";
  std::snprintf(line, sizeof line, "warning: this run will take hours, mostly in %s (%s). %s\n",
                ae_dominates ? "Module A" : "the task network",
                ae_dominates ? "--ae-width-mult, --ae-hidden and --ae-epochs set its cost"
                             : "--arch, --width-mult and --epochs set its cost",
                advice.c_str());
  return out + line;
}

}  // namespace sceald::train
