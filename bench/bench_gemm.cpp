// sgemm throughput: square sizes, the im2col GEMMs of VGG16 (forward and both
// backward products), and the FMA peak of one core for scale. Every GEMM is
// validated against gemm_reference (a few rows x a few columns) before it is
// timed. When OpenBLAS can be loaded (libopenblas.so.0, found at run time, not
// linked), the same shapes run through cblas_sgemm in the same process with
// the same thread count, each right after ours, and a table of ratios (medians
// over --benchmark_repetitions) closes the run. Rates are per
// wall-clock second (UseRealTime): the work runs on OpenMP threads, and CPU
// time of the main thread would flatter a loaded machine.
//
//   OMP_NUM_THREADS=1 ./bench_gemm                 # one core
//   OMP_NUM_THREADS=2 ./bench_gemm --benchmark_filter=square
//   SCEALD_GEMM_ISA=avx2 ./bench_gemm              # force a micro-kernel
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "kernels/cpu/gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using namespace sceald::kernels::cpu;

struct Shape {
  std::string name;
  std::int64_t M, N, K;
  bool trans_a, trans_b;
};

// VGG16's conv layers as (name, Cin, Cout, spatial divisor). With im2col over
// the whole batch, P = Hout * Wout * batch columns:
//   forward      Y[Cout, P]     = W[Cout, Cin*9]     x col[Cin*9, P]     NN
//   grad input   dcol[Cin*9, P] = W^T[Cin*9, Cout]   x dY[Cout, P]       TN
//   grad weight  dW[Cout, Cin*9] = dY[Cout, P]       x col^T[P, Cin*9]   NT
struct ConvLayer {
  const char* name;
  std::int64_t cin, cout, div;
};
const ConvLayer kVggLayers[] = {
    {"conv1_1", 3, 64, 1}, {"conv1_2", 64, 64, 1}, {"conv3_2", 256, 256, 4}, {"conv5_2", 512, 512, 16}};

std::vector<Shape> all_shapes() {
  std::vector<Shape> shapes;
  for (std::int64_t n : {256, 512, 1024, 2048}) shapes.push_back({"square/" + std::to_string(n), n, n, n, false, false});
  shapes.push_back({"square/1024/TN", 1024, 1024, 1024, true, false});
  shapes.push_back({"square/1024/NT", 1024, 1024, 1024, false, true});
  struct Config {
    const char* name;
    std::int64_t hw, batch;
  };
  for (const Config& cfg : {Config{"vgg16_48x48_b64", 48, 64}, Config{"vgg16_224x224_b1", 224, 1}}) {
    for (const ConvLayer& l : kVggLayers) {
      const std::int64_t side = cfg.hw / l.div, P = side * side * cfg.batch, ck = l.cin * 9;
      const std::string base = std::string(cfg.name) + "/" + l.name;
      shapes.push_back({base + "/fwd", l.cout, P, ck, false, false});
      shapes.push_back({base + "/grad_input", ck, P, l.cout, true, false});
      shapes.push_back({base + "/grad_weight", l.cout, ck, P, false, true});
    }
  }
  // The classifier at batch 64: y[B, out] = x[B, in] W^T, W stored [out, in].
  //   forward      y[B, out]   = x[B, in]   x W^T[in, out]   NT
  //   grad input   dx[B, in]   = dy[B, out] x W[out, in]     NN
  //   grad weight  dW[out, in] = dy^T[out, B] x x[B, in]     TN
  for (auto [name, in, out] : {std::tuple{"fc6", 25088, 4096}, std::tuple{"fc7", 4096, 4096}}) {
    const std::string base = std::string("vgg16_b64/") + name;
    shapes.push_back({base + "/fwd", 64, out, in, false, true});
    shapes.push_back({base + "/grad_input", 64, in, out, false, false});
    shapes.push_back({base + "/grad_weight", out, in, 64, true, false});
  }
  return shapes;
}

// ---- OpenBLAS, loaded at run time ------------------------------------------

using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                            int);
using OpenblasSetThreads = void (*)(int);

struct OpenBlas {
  CblasSgemm sgemm = nullptr;
  OpenblasSetThreads set_threads = nullptr;
};

const OpenBlas& openblas() {
  static const OpenBlas lib = [] {
    OpenBlas l;
    if (void* h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL)) {
      l.sgemm = reinterpret_cast<CblasSgemm>(dlsym(h, "cblas_sgemm"));
      l.set_threads = reinterpret_cast<OpenblasSetThreads>(dlsym(h, "openblas_set_num_threads"));
      if (!l.sgemm) l.set_threads = nullptr;
    }
    return l;
  }();
  return lib;
}

// ---- operands and validation -----------------------------------------------

struct Operands {
  std::vector<float> A, B, C;
  std::int64_t lda, ldb, ldc;
};

// Uniform in [-1, 1) from a 64-bit LCG: fast enough for a few hundred MB.
void fill_uniform(std::vector<float>& v, std::uint64_t seed) {
  std::uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (float& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = static_cast<float>(static_cast<std::int32_t>(s >> 32)) * (1.0f / 2147483648.0f);
  }
}

Operands make_operands(const Shape& s) {
  Operands op;
  op.lda = s.trans_a ? s.M : s.K;
  op.ldb = s.trans_b ? s.K : s.N;
  op.ldc = s.N;
  op.A.resize(s.M * s.K);
  op.B.resize(s.K * s.N);
  op.C.assign(s.M * s.N, 0.0f);
  fill_uniform(op.A, 1);
  fill_uniform(op.B, 2);
  return op;
}

// Compares C (computed with alpha 1, beta 0) with gemm_reference on the first
// and last rows, each over the first and last 64 columns. Empty on success.
std::string validate(const Shape& s, const Operands& op) {
  const std::int64_t w = std::min<std::int64_t>(64, s.N);
  std::vector<float> ref(w);
  for (std::int64_t i : {std::int64_t{0}, s.M - 1}) {
    for (std::int64_t j0 : {std::int64_t{0}, s.N - w}) {
      const float* a = op.A.data() + (s.trans_a ? i : i * op.lda);
      const float* b = op.B.data() + (s.trans_b ? j0 * op.ldb : j0);
      gemm_reference<float>(s.trans_a, s.trans_b, 1, w, s.K, 1.0f, a, op.lda, b, op.ldb, 0.0f, ref.data(), w);
      for (std::int64_t j = 0; j < w; ++j) {
        const double got = op.C[i * op.ldc + j0 + j], want = ref[j];
        const double tol = 1e-5 + 1e-6 * static_cast<double>(s.K) + 1e-4 * std::fabs(want);
        if (!(std::fabs(got - want) <= tol))
          return "mismatch at (" + std::to_string(i) + ", " + std::to_string(j0 + j) + "): " + std::to_string(got) +
                 " vs reference " + std::to_string(want);
      }
    }
  }
  return {};
}

void set_flops(benchmark::State& state, const Shape& s) {
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * static_cast<double>(s.M) * s.N * s.K,
                                                benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
  state.counters["threads"] = omp_get_max_threads();
}

void bm_sgemm(benchmark::State& state, Shape s) {
  Operands op = make_operands(s);
  // OpenBLAS's workers spin for a while after its last call (about 2^28
  // cycles): let them go to sleep before ours are timed beside them.
  if (openblas().sgemm) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto run = [&] {
    sgemm(s.trans_a, s.trans_b, s.M, s.N, s.K, 1.0f, op.A.data(), op.lda, op.B.data(), op.ldb, 0.0f, op.C.data(),
          op.ldc);
  };
  run();
  if (std::string err = validate(s, op); !err.empty()) {
    state.SkipWithError(("sgemm " + err).c_str());
    return;
  }
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  set_flops(state, s);
  state.SetLabel(sgemm_isa());
}

void bm_openblas(benchmark::State& state, Shape s) {
  const OpenBlas& ob = openblas();
  ob.set_threads(omp_get_max_threads());
  Operands op = make_operands(s);
  constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
  auto run = [&] {
    ob.sgemm(kRowMajor, s.trans_a ? kTrans : kNoTrans, s.trans_b ? kTrans : kNoTrans, static_cast<int>(s.M),
             static_cast<int>(s.N), static_cast<int>(s.K), 1.0f, op.A.data(), static_cast<int>(op.lda),
             op.B.data(), static_cast<int>(op.ldb), 0.0f, op.C.data(), static_cast<int>(op.ldc));
  };
  run();
  if (std::string err = validate(s, op); !err.empty()) {
    state.SkipWithError(("openblas " + err).c_str());
    return;
  }
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  set_flops(state, s);
}

// ---- FMA peak: 12 independent accumulator chains per iteration ------------

#if defined(__x86_64__)
__attribute__((target("avx512f,fma"))) __attribute__((noinline)) void fma_chains_avx512(std::int64_t iters,
                                                                                         float* out) {
  __m512 c0 = _mm512_set1_ps(0.1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0,
         c9 = c0, c10 = c0, c11 = c0;
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
  for (std::int64_t i = 0; i < iters; ++i) {
    c0 = _mm512_fmadd_ps(c0, a, b), c1 = _mm512_fmadd_ps(c1, a, b), c2 = _mm512_fmadd_ps(c2, a, b);
    c3 = _mm512_fmadd_ps(c3, a, b), c4 = _mm512_fmadd_ps(c4, a, b), c5 = _mm512_fmadd_ps(c5, a, b);
    c6 = _mm512_fmadd_ps(c6, a, b), c7 = _mm512_fmadd_ps(c7, a, b), c8 = _mm512_fmadd_ps(c8, a, b);
    c9 = _mm512_fmadd_ps(c9, a, b), c10 = _mm512_fmadd_ps(c10, a, b), c11 = _mm512_fmadd_ps(c11, a, b);
    // Keeps the chains in registers and stops the compiler from folding them.
    __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6), "+v"(c7),
                     "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));
  }
  const __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                                   _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)),
                                                 _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11))));
  *out = _mm512_reduce_add_ps(sum);
}

// One thread per OpenMP thread, each running the chains: the machine's peak.
void bm_fma_peak_avx512(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("fma")) {
    state.SkipWithError("no AVX-512 on this CPU");
    return;
  }
  constexpr std::int64_t kIters = 1 << 22;
  const int threads = omp_get_max_threads();
  float sink = 0;
  for (auto _ : state) {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
      float out;
      fma_chains_avx512(kIters, &out);
      sink += out;
    }
  }
  benchmark::DoNotOptimize(sink);
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * 16 * 12 * kIters * threads,
                                                benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
  state.counters["threads"] = threads;
}
#endif

// ---- a console reporter that also prints sgemm / OpenBLAS ratios ---------

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      auto it = run.counters.find("GFLOPS");
      if (it != run.counters.end()) gflops_[run.benchmark_name()].push_back(it->second.value);
    }
  }

  // Medians over the repetitions (--benchmark_repetitions).
  void print_ratios() const {
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      const std::size_t h = v.size() / 2;
      return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
    };
    bool header = false;
    for (const auto& [name, ours] : gflops_) {
      if (name.rfind("sgemm/", 0) != 0) continue;
      auto peer = gflops_.find("openblas/" + name.substr(6));
      if (peer == gflops_.end()) continue;
      if (!header) {
        std::printf("\nGFLOP/s (wall clock, medians of %zu)\n%-52s %10s %10s %7s\n", ours.size(), "shape", "sgemm",
                    "openblas", "ratio");
        header = true;
      }
      const double a = median(ours), b = median(peer->second);
      std::printf("%-52s %10.1f %10.1f %7.2f\n", name.substr(6).c_str(), a * 1e-9, b * 1e-9, a / b);
    }
  }

 private:
  std::map<std::string, std::vector<double>> gflops_;
};

}  // namespace

int main(int argc, char** argv) {
  if (const char* isa = std::getenv("SCEALD_GEMM_ISA")) sgemm_force_isa(isa);
#if defined(__x86_64__)
  benchmark::RegisterBenchmark("fma_peak/avx512", bm_fma_peak_avx512)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
  // Each shape's pair back to back: the machine's speed drifts over a run
  // (by 25% within minutes on shared hosts), so ours and OpenBLAS's must be
  // timed close together; repetitions then give medians of such pairs.
  for (const Shape& s : all_shapes()) {
    benchmark::RegisterBenchmark(("sgemm/" + s.name).c_str(), bm_sgemm, s)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    if (openblas().sgemm && openblas().set_threads)
      benchmark::RegisterBenchmark(("openblas/" + s.name).c_str(), bm_openblas, s)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("sgemm path: %s, OpenMP threads: %d, OpenBLAS: %s\n", sgemm_isa(), omp_get_max_threads(),
              openblas().sgemm ? "loaded" : "not found");
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
