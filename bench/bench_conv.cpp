// Convolution throughput, layer by layer: each of VGG16's 13 conv layers at
// 48x48 batch 64 and at 224x224 batch 1 (the shapes of bench_gemm), forward
// (conv2d with bias) and backward (grad input + grad weight + grad bias in one
// autograd pass), through the engine's op exactly as training calls it.
// GFLOPS counts 2 multiply-adds' worth per output element of each GEMM
// (forward 1x, backward 2x the forward's work), per wall-clock second.
//
// The fwd_im2col / fwd_dense / fwd_row / fwd_tap cases force one forward path each
// (kernels/cpu/conv_gemm.h); fwd is the automatic choice.
//
//   OMP_NUM_THREADS=2 ./bench_conv
//   OMP_NUM_THREADS=2 ./bench_conv --benchmark_filter='48x48.*fwd_' \
//     --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true
//   OMP_NUM_THREADS=1 ./bench_conv --benchmark_filter=48x48
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <utility>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/conv.h"
#include "engine/rng.h"
#include "kernels/cpu/conv_gemm.h"

namespace {

using namespace sceald;

struct Layer {
  const char* name;
  std::int64_t cin, cout, div;  // spatial side = image side / div
};
const Layer kLayers[] = {{"conv1_1", 3, 64, 1},    {"conv1_2", 64, 64, 1},   {"conv2_1", 64, 128, 2},
                         {"conv2_2", 128, 128, 2}, {"conv3_1", 128, 256, 4}, {"conv3_2", 256, 256, 4},
                         {"conv3_3", 256, 256, 4}, {"conv4_1", 256, 512, 8}, {"conv4_2", 512, 512, 8},
                         {"conv4_3", 512, 512, 8}, {"conv5_1", 512, 512, 16}, {"conv5_2", 512, 512, 16},
                         {"conv5_3", 512, 512, 16}};

struct Case {
  Tensor x, w, b;
  double forward_flops;
};

Case make_case(const Layer& l, std::int64_t side, std::int64_t batch) {
  Generator gen(7);
  const std::int64_t s = side / l.div;
  Case c{gen.normal({batch, l.cin, s, s}, 0, 1), gen.normal({l.cout, l.cin, 3, 3}, 0, 0.05),
         gen.normal({l.cout}, 0, 0.1), 2.0 * double(batch) * s * s * l.cout * l.cin * 9};
  return c;
}

void set_rate(benchmark::State& state, double flops) {
  state.counters["GFLOPS"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void forward(benchmark::State& state, Layer l, std::int64_t side, std::int64_t batch) {
  Case c = make_case(l, side, batch);
  NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(conv2d(c.x, c.w, c.b, {{1, 1}, {1, 1}, {1, 1}}));
  set_rate(state, c.forward_flops);
}

// The forward through one path of kernels/cpu/conv_gemm.h, to compare them on each layer.
void forward_path(benchmark::State& state, Layer l, std::int64_t side, std::int64_t batch,
                  kernels::cpu::ConvForwardPath path) {
  Case c = make_case(l, side, batch);
  NoGradGuard no_grad;
  kernels::cpu::conv_force_forward_path(path);
  for (auto _ : state) benchmark::DoNotOptimize(conv2d(c.x, c.w, c.b, {{1, 1}, {1, 1}, {1, 1}}));
  kernels::cpu::conv_force_forward_path(std::nullopt);
  set_rate(state, c.forward_flops);
}

void backward(benchmark::State& state, Layer l, std::int64_t side, std::int64_t batch) {
  Case c = make_case(l, side, batch);
  c.x.set_requires_grad(true);
  c.w.set_requires_grad(true);
  c.b.set_requires_grad(true);
  Tensor y = conv2d(c.x, c.w, c.b, {{1, 1}, {1, 1}, {1, 1}});
  const Tensor grad = Tensor::ones(y.shape());
  for (auto _ : state) {
    state.PauseTiming();
    y = conv2d(c.x, c.w, c.b, {{1, 1}, {1, 1}, {1, 1}});
    state.ResumeTiming();
    y.backward(grad);
  }
  set_rate(state, 2.0 * c.forward_flops);
}

int register_all() {
  struct Config {
    const char* name;
    std::int64_t side, batch;
  };
  for (const Config& cfg : {Config{"48x48_b64", 48, 64}, Config{"224x224_b1", 224, 1}})
    for (const Layer& l : kLayers) {
      const std::string base = std::string(cfg.name) + "/" + l.name;
      benchmark::RegisterBenchmark((base + "/fwd").c_str(), forward, l, cfg.side, cfg.batch)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      benchmark::RegisterBenchmark((base + "/bwd").c_str(), backward, l, cfg.side, cfg.batch)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      using kernels::cpu::ConvForwardPath;
      for (auto [name, path] : {std::pair{"im2col", ConvForwardPath::Im2col},
                                std::pair{"dense", ConvForwardPath::ImplicitDense},
                                std::pair{"row", ConvForwardPath::ImplicitPerKernelRow},
                                std::pair{"tap", ConvForwardPath::ImplicitPerTap}})
        benchmark::RegisterBenchmark((base + "/fwd_" + name).c_str(), forward_path, l, cfg.side, cfg.batch, path)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    }
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
