// Timing a network's forward pass and training step: the library side of
// `sceald benchmark`. The model is the one training builds (build_net), so a
// VGG16 keeps torchvision's adaptive 7x7 pool and its 25088-input fc6.
//
// A training step is what bench/peer_pytorch_vgg16.py times for PyTorch:
// forward, loss, backward, SGD with momentum 0.9 (gradients dropped before
// each step). The loss is cross-entropy against random labels for vgg16 and
// resnet18, and the reconstruction MSE of Eq. 1 for vgg10ae (it has no
// classes). A forward step runs under NoGradGuard in eval mode. Each is
// timed `steps` times after `warmup` untimed runs; the median is reported.
// On CUDA every timed step ends by reading the loss back, which waits for
// the device.
#pragma once

#include <cstdint>
#include <string>

#include "engine/device.h"
#include "nets/convert.h"

namespace sceald::nets {

struct BenchmarkOptions {
  NetSpec net;                   // vgg10ae: net.side is set to image_size
  std::int64_t image_size = 48;
  std::int64_t batch_size = 64;
  int steps = 5;
  int warmup = 2;
  Device device = Device::cpu();
  std::uint64_t seed = 0;
};

struct BenchmarkResult {
  double train_ms_per_step = 0;    // medians
  double forward_ms_per_step = 0;
  double train_images_per_s = 0;
  double forward_images_per_s = 0;
  std::int64_t peak_rss_bytes = 0;  // of this process so far (VmHWM)
  std::int64_t parameters = 0;
  int threads = 1;                  // OpenMP threads of the CPU kernels
};

BenchmarkResult run_benchmark(const BenchmarkOptions& options);

// The process's peak resident set (VmHWM of /proc/self/status), 0 where unknown.
std::int64_t peak_rss_bytes();

}  // namespace sceald::nets
