#include "kernels/cuda/cudnn_conv.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/status.h"

namespace sceald::kernels::cuda {

namespace {

enum class Direction { Forward, BackwardData, BackwardFilter };

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::Forward:
      return "conv2d forward";
    case Direction::BackwardData:
      return "conv2d backward-data";
    case Direction::BackwardFilter:
      return "conv2d backward-filter";
  }
  return "conv2d";
}

struct Candidate {
  int algo;
  std::size_t workspace;
  cudnnMathType_t math;
};

// Descriptors and ranked algorithms of one problem. The math type lives on
// the convolution descriptor and is set per candidate, so a plan is used by
// one caller at a time (its mutex).
struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  std::vector<Candidate> candidates;
  std::string passed_over;  // "algo: reason" for each one the ranking dropped, for errors and the verbose log
  std::mutex mutex;
  ~Plan() {
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (x) cudnnDestroyTensorDescriptor(x);
  }
};

using Key = std::array<std::int64_t, 21>;

Key make_key(const ConvProblem& p, const ConvSettings& s, Direction d) {
  // clang-format off
  return {p.N, p.C, p.H, p.W, p.O, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.Ho, p.Wo,
          p.is_double ? 1 : 0, s.precise ? 1 : 0, static_cast<std::int64_t>(s.workspace_cap), s.device,
          static_cast<std::int64_t>(d), 0};
  // clang-format on
}

// Never destroyed: plans may be in use while statics are torn down at exit.
std::mutex& cache_mutex() {
  static std::mutex* m = new std::mutex;
  return *m;
}
std::map<Key, std::unique_ptr<Plan>>& cache() {
  static auto* c = new std::map<Key, std::unique_ptr<Plan>>;
  return *c;
}

int as_int(std::int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX)
    throw std::runtime_error(std::string("conv2d: ") + what + " = " + std::to_string(v) +
                             " is outside cuDNN's int range; split the batch");
  return static_cast<int>(v);
}

// The legacy API limits every tensor to 2^31 elements.
void check_elements(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d, const char* what) {
  if (a * b * c * d > INT_MAX)
    throw std::runtime_error(std::string("conv2d: the ") + what + " has " + std::to_string(a * b * c * d) +
                             " elements, more than cuDNN's limit of 2^31 - 1; lower the batch size");
}

bool is_tensor_op(cudnnMathType_t m) { return m == CUDNN_TENSOR_OP_MATH || m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION; }

// Algorithms that sum the products directly, as the CPU does (implicit or
// explicit GEMM); the others transform the data (FFT, Winograd) and round
// differently. Precise mode tries these first.
bool sums_directly(Direction d, int algo) {
  switch (d) {
    case Direction::Forward:
      return algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM || algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ||
             algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM || algo == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
    case Direction::BackwardData:
      return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 || algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
    case Direction::BackwardFilter:
      return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 || algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1 ||
             algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
  }
  return false;
}

// cuDNN's documentation calls these non-deterministic (they add with
// atomics). The heuristic's determinism field says so too; precise mode
// excludes them by name as well, so a field left unset cannot let one in.
bool documented_nondeterministic(Direction d, int algo) {
  switch (d) {
    case Direction::Forward:
      return false;
    case Direction::BackwardData:
      return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
    case Direction::BackwardFilter:
      return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 || algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
  }
  return false;
}

// SCEALD_CUDNN_VERBOSE=1: each new plan's algorithms, and the ones passed over, on stderr.
bool verbose() {
  static const bool on = [] {
    const char* v = std::getenv("SCEALD_CUDNN_VERBOSE");
    return v != nullptr && std::string(v) == "1";
  }();
  return on;
}

// cuDNN 9 reports sub-codes (e.g. 3001..3999 for NOT_SUPPORTED); compare categories.
bool not_supported(cudnnStatus_t status) { return CUDNN_STATUS_CATEGORY(status) == CUDNN_STATUS_NOT_SUPPORTED; }
bool bad_param(cudnnStatus_t status) { return CUDNN_STATUS_CATEGORY(status) == CUDNN_STATUS_BAD_PARAM; }

void describe(Plan& plan, const ConvProblem& p) {
  const cudnnDataType_t type = p.is_double ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  check_elements(p.N, p.C, p.H, p.W, "input");
  check_elements(p.N, p.O, p.Ho, p.Wo, "output");
  check_elements(p.O, p.C, p.kh, p.kw, "weight");
  SCEALD_CUDNN_OK(cudnnCreateTensorDescriptor(&plan.x));
  SCEALD_CUDNN_OK(cudnnCreateTensorDescriptor(&plan.y));
  SCEALD_CUDNN_OK(cudnnCreateFilterDescriptor(&plan.w));
  SCEALD_CUDNN_OK(cudnnCreateConvolutionDescriptor(&plan.conv));
  SCEALD_CUDNN_OK(cudnnSetTensor4dDescriptor(plan.x, CUDNN_TENSOR_NCHW, type, as_int(p.N, "N"), as_int(p.C, "C"),
                                             as_int(p.H, "H"), as_int(p.W, "W")));
  SCEALD_CUDNN_OK(cudnnSetFilter4dDescriptor(plan.w, type, CUDNN_TENSOR_NCHW, as_int(p.O, "O"), as_int(p.C, "C"),
                                             as_int(p.kh, "kh"), as_int(p.kw, "kw")));
  SCEALD_CUDNN_OK(cudnnSetConvolution2dDescriptor(plan.conv, as_int(p.ph, "ph"), as_int(p.pw, "pw"), as_int(p.sh, "sh"),
                                                  as_int(p.sw, "sw"), as_int(p.dh, "dh"), as_int(p.dw, "dw"),
                                                  CUDNN_CROSS_CORRELATION, type));
  int n = 0, c = 0, h = 0, w = 0;
  SCEALD_CUDNN_OK(cudnnGetConvolution2dForwardOutputDim(plan.conv, plan.x, plan.w, &n, &c, &h, &w));
  if (n != p.N || c != p.O || h != p.Ho || w != p.Wo)
    throw std::runtime_error("conv2d: cuDNN computes an output of [" + std::to_string(n) + ", " + std::to_string(c) +
                             ", " + std::to_string(h) + ", " + std::to_string(w) + "], the engine expects [" +
                             std::to_string(p.N) + ", " + std::to_string(p.O) + ", " + std::to_string(p.Ho) + ", " +
                             std::to_string(p.Wo) + "]");
  SCEALD_CUDNN_OK(cudnnSetTensor4dDescriptor(plan.y, CUDNN_TENSOR_NCHW, type, n, c, h, w));
}

// The workspace a candidate needs with math type `math`; false, with cuDNN's
// status, when cuDNN will not run it so.
bool workspace_size(cudnnHandle_t handle, Plan& plan, Direction d, int algo, cudnnMathType_t math, std::size_t& bytes,
                    cudnnStatus_t& status) {
  SCEALD_CUDNN_OK(cudnnSetConvolutionMathType(plan.conv, math));
  status = CUDNN_STATUS_SUCCESS;
  switch (d) {
    case Direction::Forward:
      status = cudnnGetConvolutionForwardWorkspaceSize(handle, plan.x, plan.w, plan.conv, plan.y,
                                                       static_cast<cudnnConvolutionFwdAlgo_t>(algo), &bytes);
      break;
    case Direction::BackwardData:
      status = cudnnGetConvolutionBackwardDataWorkspaceSize(handle, plan.w, plan.y, plan.conv, plan.x,
                                                            static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), &bytes);
      break;
    case Direction::BackwardFilter:
      status = cudnnGetConvolutionBackwardFilterWorkspaceSize(
          handle, plan.x, plan.y, plan.conv, plan.w, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), &bytes);
      break;
  }
  if (not_supported(status) || bad_param(status)) return false;
  SCEALD_CUDNN_OK(status);
  return true;
}

const char* math_name(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_DEFAULT_MATH: return "default math";
    case CUDNN_TENSOR_OP_MATH: return "tensor ops";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "tensor ops with conversion";
    case CUDNN_FMA_MATH: return "FMA";
  }
  return "math ?";
}

// Keeps the heuristic's ranking; drops what the mode forbids or the cap
// excludes, saying why in plan.passed_over (cuDNN's statuses included, so a
// broken installation shows as such, not as "no algorithm for this shape").
template <typename Perf>
void rank(cudnnHandle_t handle, Plan& plan, Direction d, const ConvSettings& s, bool is_double,
          cudnnMathType_t precise_math, const std::vector<Perf>& perf, int returned) {
  auto pass_over = [&](int algo, const std::string& why) {
    plan.passed_over += (plan.passed_over.empty() ? "" : "; ") + std::to_string(algo) + ": " + why;
  };
  for (int i = 0; i < returned; ++i) {
    const Perf& r = perf[static_cast<std::size_t>(i)];
    const int algo = static_cast<int>(r.algo);
    if (r.status != CUDNN_STATUS_SUCCESS) {
      pass_over(algo, cudnnGetErrorString(r.status));
      continue;
    }
    if (s.precise) {
      if (r.determinism != CUDNN_DETERMINISTIC || documented_nondeterministic(d, algo)) {
        pass_over(algo, "not deterministic");
        continue;
      }
      // float32 tensor ops round to TF32; float64 ones (DMMA) are exact FMAs and may stay.
      if (!is_double && is_tensor_op(r.mathType)) {
        pass_over(algo, "tensor ops (TF32)");
        continue;
      }
    }
    // Fast mode allows TF32 for float32, never the down-conversion to half
    // precision that ALLOW_CONVERSION would also permit.
    const cudnnMathType_t math = s.precise                                             ? precise_math
                                 : r.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION ? CUDNN_TENSOR_OP_MATH
                                                                                       : r.mathType;
    bool seen = false;
    for (const Candidate& c : plan.candidates) seen = seen || (c.algo == static_cast<int>(r.algo) && c.math == math);
    if (seen) continue;
    std::size_t bytes = 0;
    cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
    if (!workspace_size(handle, plan, d, algo, math, bytes, status)) {
      pass_over(algo, std::string(math_name(math)) + ", workspace query: " + cudnnGetErrorString(status));
      continue;
    }
    if (bytes > s.workspace_cap) {
      pass_over(algo, std::string(math_name(math)) + " needs " + std::to_string(bytes) + " bytes of workspace");
      continue;
    }
    plan.candidates.push_back({algo, bytes, math});
  }
  // Precise mode: the direct-sum algorithms first (in the heuristic's order),
  // FFT and Winograd only where none of those can run.
  if (s.precise)
    std::stable_partition(plan.candidates.begin(), plan.candidates.end(),
                          [d](const Candidate& c) { return sums_directly(d, c.algo); });
}

void choose_algorithms(cudnnHandle_t handle, Plan& plan, const ConvProblem& p, const ConvSettings& s, Direction d) {
  // float32: precise is FMA only, fast allows tensor ops (TF32). float64 has
  // no reduced-precision path, so it keeps the default math in both modes.
  const cudnnMathType_t precise_math = p.is_double ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  const cudnnMathType_t query_math =
      s.precise ? precise_math : (p.is_double ? CUDNN_DEFAULT_MATH : CUDNN_TENSOR_OP_MATH);
  SCEALD_CUDNN_OK(cudnnSetConvolutionMathType(plan.conv, query_math));
  int max_count = 0, returned = 0;
  switch (d) {
    case Direction::Forward: {
      SCEALD_CUDNN_OK(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max_count));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
      SCEALD_CUDNN_OK(cudnnGetConvolutionForwardAlgorithm_v7(handle, plan.x, plan.w, plan.conv, plan.y, max_count,
                                                             &returned, perf.data()));
      rank(handle, plan, d, s, p.is_double, precise_math, perf, returned);
      break;
    }
    case Direction::BackwardData: {
      SCEALD_CUDNN_OK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &max_count));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
      SCEALD_CUDNN_OK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, plan.w, plan.y, plan.conv, plan.x, max_count,
                                                                  &returned, perf.data()));
      rank(handle, plan, d, s, p.is_double, precise_math, perf, returned);
      break;
    }
    case Direction::BackwardFilter: {
      SCEALD_CUDNN_OK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &max_count));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
      SCEALD_CUDNN_OK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, plan.x, plan.y, plan.conv, plan.w,
                                                                    max_count, &returned, perf.data()));
      rank(handle, plan, d, s, p.is_double, precise_math, perf, returned);
      break;
    }
  }
  if (plan.candidates.empty())
    throw std::runtime_error(
        std::string(direction_name(d)) + ": cuDNN offers no " + (s.precise ? "deterministic FMA-math " : "") +
        "algorithm for this shape within the " + "workspace cap of " + std::to_string(s.workspace_cap) +
        " bytes (N=" + std::to_string(p.N) + ", C=" + std::to_string(p.C) + ", H=" + std::to_string(p.H) +
        ", W=" + std::to_string(p.W) + ", O=" + std::to_string(p.O) + ", kernel " + std::to_string(p.kh) + "x" +
        std::to_string(p.kw) + "); passed over: " + (plan.passed_over.empty() ? "none" : plan.passed_over));
  if (verbose()) {
    std::string chosen;
    for (const Candidate& c : plan.candidates)
      chosen += (chosen.empty() ? "" : ", ") + std::to_string(c.algo) + " (" + math_name(c.math) + ", " +
                std::to_string(c.workspace) + " B)";
    std::fprintf(stderr,
                 "sceald: cuDNN %s %s N=%lld C=%lld H=%lld W=%lld O=%lld %lldx%lld: algorithms %s; "
                 "passed over: %s\n",
                 direction_name(d), s.precise ? "precise" : "fast", static_cast<long long>(p.N),
                 static_cast<long long>(p.C), static_cast<long long>(p.H), static_cast<long long>(p.W),
                 static_cast<long long>(p.O), static_cast<long long>(p.kh), static_cast<long long>(p.kw),
                 chosen.c_str(), plan.passed_over.empty() ? "none" : plan.passed_over.c_str());
  }
}

Plan& plan_for(cudnnHandle_t handle, const ConvProblem& p, const ConvSettings& s, Direction d) {
  std::lock_guard<std::mutex> lock(cache_mutex());
  const Key key = make_key(p, s, d);
  auto it = cache().find(key);
  if (it != cache().end()) return *it->second;
  auto plan = std::make_unique<Plan>();
  describe(*plan, p);
  choose_algorithms(handle, *plan, p, s, d);
  return *cache().emplace(key, std::move(plan)).first->second;  // only a complete plan enters the cache
}

// Tries the candidates in rank order; `launch(algo, workspace, bytes)` makes the cuDNN call.
template <typename Launch>
void run(Plan& plan, Direction d, ConvWorkspace& workspace, Launch&& launch) {
  std::lock_guard<std::mutex> lock(plan.mutex);
  bool short_of_memory = false;
  std::string refused;
  for (const Candidate& c : plan.candidates) {
    void* ws = nullptr;
    if (c.workspace > 0) {
      ws = workspace.get(c.workspace);
      if (!ws) {
        short_of_memory = true;
        continue;
      }
    }
    SCEALD_CUDNN_OK(cudnnSetConvolutionMathType(plan.conv, c.math));
    const cudnnStatus_t status = launch(c.algo, ws, c.workspace);
    if (status == CUDNN_STATUS_SUCCESS) return;
    if (!not_supported(status)) fail_cudnn(direction_name(d), status, __FILE__, __LINE__);
    refused.append(" ").append(std::to_string(c.algo)).append(" (").append(cudnnGetErrorString(status)).append(")");
  }
  throw std::runtime_error(std::string(direction_name(d)) + ": no cuDNN algorithm could run" +
                           (short_of_memory ? "; out of GPU memory for the workspace: lower the batch size" : "") +
                           (refused.empty() ? "" : "; refused:" + refused));
}

}  // namespace

void conv2d_forward(cudnnHandle_t handle, const ConvProblem& p, const ConvSettings& s, const void* x, const void* w,
                    void* y, ConvWorkspace& workspace) {
  Plan& plan = plan_for(handle, p, s, Direction::Forward);
  const double one_d = 1.0, zero_d = 0.0;
  const float one_f = 1.0f, zero_f = 0.0f;
  const void* alpha = p.is_double ? static_cast<const void*>(&one_d) : &one_f;
  const void* beta = p.is_double ? static_cast<const void*>(&zero_d) : &zero_f;
  run(plan, Direction::Forward, workspace, [&](int algo, void* ws, std::size_t bytes) {
    return cudnnConvolutionForward(handle, alpha, plan.x, x, plan.w, w, plan.conv,
                                   static_cast<cudnnConvolutionFwdAlgo_t>(algo), ws, bytes, beta, plan.y, y);
  });
}

void conv2d_backward_data(cudnnHandle_t handle, const ConvProblem& p, const ConvSettings& s, const void* grad_y,
                          const void* w, void* grad_x, ConvWorkspace& workspace) {
  Plan& plan = plan_for(handle, p, s, Direction::BackwardData);
  const double one_d = 1.0, zero_d = 0.0;
  const float one_f = 1.0f, zero_f = 0.0f;
  const void* alpha = p.is_double ? static_cast<const void*>(&one_d) : &one_f;
  const void* beta = p.is_double ? static_cast<const void*>(&zero_d) : &zero_f;
  run(plan, Direction::BackwardData, workspace, [&](int algo, void* ws, std::size_t bytes) {
    return cudnnConvolutionBackwardData(handle, alpha, plan.w, w, plan.y, grad_y, plan.conv,
                                        static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), ws, bytes, beta, plan.x,
                                        grad_x);
  });
}

void conv2d_backward_filter(cudnnHandle_t handle, const ConvProblem& p, const ConvSettings& s, const void* x,
                            const void* grad_y, void* grad_w, ConvWorkspace& workspace) {
  Plan& plan = plan_for(handle, p, s, Direction::BackwardFilter);
  const double one_d = 1.0, zero_d = 0.0;
  const float one_f = 1.0f, zero_f = 0.0f;
  const void* alpha = p.is_double ? static_cast<const void*>(&one_d) : &one_f;
  const void* beta = p.is_double ? static_cast<const void*>(&zero_d) : &zero_f;
  run(plan, Direction::BackwardFilter, workspace, [&](int algo, void* ws, std::size_t bytes) {
    return cudnnConvolutionBackwardFilter(handle, alpha, plan.x, x, plan.y, grad_y, plan.conv,
                                          static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), ws, bytes, beta, plan.w,
                                          grad_w);
  });
}

std::size_t conv_plan_cache_size() {
  std::lock_guard<std::mutex> lock(cache_mutex());
  return cache().size();
}

}  // namespace sceald::kernels::cuda
