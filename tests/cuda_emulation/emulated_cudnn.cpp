// TEST-ONLY implementation of the stand-in cuDNN (cudnn.h of this folder):
// descriptors, the fixed heuristic menu, and direct-loop convolutions on host
// memory that validate their arguments as cuDNN does and report on stderr why
// a call failed.
#include "cudnn.h"

#include <atomic>
#include <climits>
#include <cmath>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>
#include <vector>

#include "emulated_device.h"

struct cudnnContext {
  cudaStream_t stream = nullptr;
};

struct cudnnTensorStruct {
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  int n = 0, c = 0, h = 0, w = 0;
};

struct cudnnFilterStruct {
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  int k = 0, c = 0, h = 0, w = 0;
};

struct cudnnConvolutionStruct {
  bool set = false;
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;  // cuDNN's default too
};

namespace {

constexpr std::size_t kGiB = std::size_t{1} << 30;

enum class Direction { Forward, BackwardData, BackwardFilter };

cudnnStatus_t fail(const char* api, cudnnStatus_t status, const std::string& why) {
  cuda_emulation::report(api, why + " (" + cudnnGetErrorString(status) + ")");
  return status;
}

bool known_type(cudnnDataType_t t) { return t == CUDNN_DATA_FLOAT || t == CUDNN_DATA_DOUBLE; }

const char* type_name(cudnnDataType_t t) {
  switch (t) {
    case CUDNN_DATA_FLOAT:
      return "CUDNN_DATA_FLOAT";
    case CUDNN_DATA_DOUBLE:
      return "CUDNN_DATA_DOUBLE";
  }
  return "an unsupported data type";
}

bool is_tensor_op(cudnnMathType_t m) { return m == CUDNN_TENSOR_OP_MATH || m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION; }

std::string dims(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d) {
  std::string s = "[";
  for (std::int64_t v : {a, b, c, d}) s.append(s.size() > 1 ? ", " : "").append(std::to_string(v));
  return s + "]";
}

// cuDNN's legacy descriptors hold at most 2^31 - 1 elements.
bool too_many_elements(int a, int b, int c, int d) {
  return static_cast<std::int64_t>(a) * b * c * d > static_cast<std::int64_t>(INT_MAX);
}

// One output dimension: 1 + (H + 2p - ((k - 1) d + 1)) / s; 0 when the
// dilated kernel does not fit the padded input.
std::int64_t output_dim(std::int64_t in, std::int64_t k, std::int64_t pad, std::int64_t stride, std::int64_t dil) {
  const std::int64_t span = (k - 1) * dil + 1;
  if (in + 2 * pad < span) return 0;
  return 1 + (in + 2 * pad - span) / stride;
}

// A validated convolution, from its descriptors.
struct Problem {
  int N, C, H, W, O, kh, kw, ph, pw, sh, sw, dh, dw, Ho, Wo;
  bool is_double;
  cudnnConvolutionMode_t mode;
  cudnnMathType_t math;

  std::size_t esize() const { return is_double ? sizeof(double) : sizeof(float); }
  std::size_t x_elems() const { return std::size_t(N) * C * H * W; }
  std::size_t w_elems() const { return std::size_t(O) * C * kh * kw; }
  std::size_t y_elems() const { return std::size_t(N) * O * Ho * Wo; }
  std::size_t x_bytes() const { return x_elems() * esize(); }
  std::size_t w_bytes() const { return w_elems() * esize(); }
  std::size_t y_bytes() const { return y_elems() * esize(); }
};

// The names of x, w and y in each direction's argument list (for messages).
struct Names {
  const char* x;
  const char* w;
  const char* y;
};

constexpr Names names_of(Direction d) {
  switch (d) {
    case Direction::Forward:
      return {"x", "w", "y"};
    case Direction::BackwardData:
      return {"dx", "w", "dy"};
    case Direction::BackwardFilter:
      return {"x", "dw", "dy"};
  }
  return {"x", "w", "y"};
}

// Checks x, w, conv and y (which may be null unless need_y) as cuDNN does and
// fills `p`; on failure reports and returns the status.
cudnnStatus_t describe(const char* api, Direction d, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                       cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, bool need_y, Problem& p) {
  const Names n = names_of(d);
  if (!x) return fail(api, CUDNN_STATUS_BAD_PARAM, std::string("the ") + n.x + " descriptor is null");
  if (!w) return fail(api, CUDNN_STATUS_BAD_PARAM, std::string("the ") + n.w + " descriptor is null");
  if (!conv) return fail(api, CUDNN_STATUS_BAD_PARAM, "the convolution descriptor is null");
  if (need_y && !y) return fail(api, CUDNN_STATUS_BAD_PARAM, std::string("the ") + n.y + " descriptor is null");
  if (!x->set) return fail(api, CUDNN_STATUS_BAD_PARAM, std::string("the ") + n.x + " descriptor was never set");
  if (!w->set) return fail(api, CUDNN_STATUS_BAD_PARAM, std::string("the ") + n.w + " descriptor was never set");
  if (!conv->set) return fail(api, CUDNN_STATUS_BAD_PARAM, "the convolution descriptor was never set");
  if (y && !y->set) return fail(api, CUDNN_STATUS_BAD_PARAM, std::string("the ") + n.y + " descriptor was never set");
  if (x->type != w->type || x->type != conv->type || (y && y->type != x->type))
    return fail(api, CUDNN_STATUS_BAD_PARAM,
                std::string("data types disagree: ") + n.x + " " + type_name(x->type) + ", " + n.w + " " +
                    type_name(w->type) + ", convolution " + type_name(conv->type) +
                    (y ? std::string(", ") + n.y + " " + type_name(y->type) : std::string()));
  if (w->c != x->c)
    return fail(api, CUDNN_STATUS_BAD_PARAM,
                std::string("the filter has ") + std::to_string(w->c) + " input channels, " + n.x + " has " +
                    std::to_string(x->c) + " (groups are not supported)");
  const std::int64_t ho = output_dim(x->h, w->h, conv->pad_h, conv->stride_h, conv->dil_h);
  const std::int64_t wo = output_dim(x->w, w->w, conv->pad_w, conv->stride_w, conv->dil_w);
  if (ho < 1 || wo < 1)
    return fail(api, CUDNN_STATUS_BAD_PARAM,
                "the dilated filter " + std::to_string(w->h) + "x" + std::to_string(w->w) +
                    " does not fit the padded input " + dims(x->n, x->c, x->h, x->w));
  if (y && (y->n != x->n || y->c != w->k || y->h != ho || y->w != wo))
    return fail(api, CUDNN_STATUS_BAD_PARAM,
                std::string("the ") + n.y + " descriptor is " + dims(y->n, y->c, y->h, y->w) +
                    ", the convolution's output is " + dims(x->n, w->k, ho, wo));
  p = Problem{x->n,
              x->c,
              x->h,
              x->w,
              w->k,
              w->h,
              w->w,
              conv->pad_h,
              conv->pad_w,
              conv->stride_h,
              conv->stride_w,
              conv->dil_h,
              conv->dil_w,
              static_cast<int>(ho),
              static_cast<int>(wo),
              x->type == CUDNN_DATA_DOUBLE,
              conv->mode,
              conv->math};
  return CUDNN_STATUS_SUCCESS;
}

// One entry of the heuristics' fixed menu.
struct Entry {
  int algo;
  cudnnDeterminism_t determinism;
  cudnnMathType_t math;
  std::size_t workspace;
};

// The menu, in the order the heuristics return it: designed to exercise the
// engine's ranking (an FFT first, tensor-op and FMA twins, non-deterministic
// algorithms, workspaces from none to more than any cap).
std::vector<Entry> menu(Direction d, const Problem& p) {
  const bool f = !p.is_double;
  const cudnnMathType_t fma = f ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
  const cudnnMathType_t tensor = f ? CUDNN_TENSOR_OP_MATH : CUDNN_DEFAULT_MATH;
  const cudnnDeterminism_t det = CUDNN_DETERMINISTIC, nondet = CUDNN_NON_DETERMINISTIC;
  switch (d) {
    case Direction::Forward: {
      const std::size_t column = std::size_t(p.C) * p.kh * p.kw * p.Ho * p.Wo * p.esize();
      return {{CUDNN_CONVOLUTION_FWD_ALGO_FFT, det, CUDNN_DEFAULT_MATH,
               64 * (p.x_bytes() + p.y_bytes() + p.w_bytes()) + kGiB},
              {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, det, tensor, column},
              {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, det, fma, 0},
              {CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED, det, fma, p.y_bytes()}};
    }
    case Direction::BackwardData:
      return {{CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, nondet, fma, 0},
              {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, det, tensor, p.x_bytes()},
              {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, det, fma, p.x_bytes()},
              {CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING, det, fma, kGiB + p.x_bytes()}};
    case Direction::BackwardFilter:
      return {{CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, nondet, fma, 0},
              {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3, nondet, fma, 0},
              {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, det, tensor, p.w_bytes()},
              {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, det, fma, p.w_bytes()},
              {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT, det, fma, kGiB}};
  }
  return {};
}

// The menu entry of `algo` (null when it is not on the menu).
const Entry* find_algo(const std::vector<Entry>& m, int algo) {
  for (const Entry& e : m)
    if (e.algo == algo) return &e;
  return nullptr;
}

// Whether `algo` runs with the descriptor's math type; reports why not.
cudnnStatus_t check_algo(const char* api, Direction d, const Problem& p, int algo, std::size_t& workspace) {
  const std::vector<Entry> m = menu(d, p);
  const Entry* e = find_algo(m, algo);
  if (!e)
    return fail(api, CUDNN_STATUS_NOT_SUPPORTED,
                "algorithm " + std::to_string(algo) + " is not offered for this problem (not on the menu)");
  if (p.is_double && is_tensor_op(p.math))
    return fail(api, CUDNN_STATUS_NOT_SUPPORTED,
                "algorithm " + std::to_string(algo) + " has no tensor-op math in double precision");
  workspace = e->workspace;
  return CUDNN_STATUS_SUCCESS;
}

template <typename Perf>
cudnnStatus_t heuristic(const char* api, Direction d, cudnnHandle_t handle, cudnnTensorDescriptor_t x,
                        cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y,
                        int requested, int* returned, Perf* perf) {
  if (!handle) return fail(api, CUDNN_STATUS_BAD_PARAM, "the handle is null");
  if (!returned || !perf) return fail(api, CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "an output pointer is null");
  if (requested < 1)
    return fail(api, CUDNN_STATUS_BAD_PARAM, "requestedAlgoCount is " + std::to_string(requested));
  Problem p{};
  if (const cudnnStatus_t s = describe(api, d, x, w, conv, y, true, p); s != CUDNN_STATUS_SUCCESS) return s;
  const std::vector<Entry> m = menu(d, p);
  int count = 0;
  for (const Entry& e : m) {
    if (count == requested) break;
    Perf r{};
    r.algo = static_cast<decltype(r.algo)>(e.algo);
    r.status = CUDNN_STATUS_SUCCESS;
    r.time = static_cast<float>(count);
    r.memory = e.workspace;
    r.determinism = e.determinism;
    r.mathType = e.math;
    perf[count++] = r;
  }
  *returned = count;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t workspace_size(const char* api, Direction d, cudnnHandle_t handle, cudnnTensorDescriptor_t x,
                             cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y,
                             int algo, std::size_t* bytes) {
  if (!handle) return fail(api, CUDNN_STATUS_BAD_PARAM, "the handle is null");
  if (!bytes) return fail(api, CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "sizeInBytes is null");
  Problem p{};
  if (const cudnnStatus_t s = describe(api, d, x, w, conv, y, true, p); s != CUDNN_STATUS_SUCCESS) return s;
  std::size_t need = 0;
  if (const cudnnStatus_t s = check_algo(api, d, p, algo, need); s != CUDNN_STATUS_SUCCESS) return s;
  *bytes = need;
  return CUDNN_STATUS_SUCCESS;
}

// ---- the record of execution calls

struct Record {
  std::mutex mutex;
  cuda_emulation::CudnnCall last{"", -1, CUDNN_DEFAULT_MATH, 0};
  std::uint64_t calls = 0;
};

// Never destroyed: a test's static teardown may still ask.
Record& record() {
  static Record* r = new Record;
  return *r;
}

// Each non-deterministic run takes the next number; it sets that run's summation order.
std::atomic<std::uint64_t> nondeterministic_runs{0};

// ---- arithmetic

template <typename T>
std::vector<T> load(const void* src, std::size_t n, bool tf32) {
  std::vector<T> v(n);
  std::memcpy(v.data(), src, n * sizeof(T));
  if constexpr (std::is_same_v<T, float>)
    if (tf32)
      for (float& e : v) e = cuda_emulation::round_to_tf32(e);
  return v;
}

// The order of one run's sums: natural, or (non-deterministic algorithms)
// rotated and/or reversed by the run's number, as atomics would add them.
struct Order {
  bool reverse = false;
  std::uint64_t rotate = 0;
};

template <typename T>
struct Terms {
  std::vector<T> a, b;
  void clear() {
    a.clear();
    b.clear();
  }
  void add(T x, T y) {
    a.push_back(x);
    b.push_back(y);
  }
  T sum(const Order& o) const {
    const std::size_t n = a.size();
    T acc = 0;
    if (n == 0) return acc;
    const std::size_t start = static_cast<std::size_t>(o.rotate % n);
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t j = start + i < n ? start + i : start + i - n;
      if (o.reverse) j = n - 1 - j;
      acc = std::fma(a[j], b[j], acc);
    }
    return acc;
  }
};

// out = alpha * value + beta * out; out is not read when beta is 0.
template <typename T>
void store(T* out, std::size_t i, T value, T alpha, T beta) {
  out[i] = beta == T(0) ? alpha * value : alpha * value + beta * out[i];
}

// The filter element that multiplies tap (ky, kx): flipped for CUDNN_CONVOLUTION.
std::size_t filter_index(const Problem& p, int o, int c, int ky, int kx) {
  const int fy = p.mode == CUDNN_CONVOLUTION ? p.kh - 1 - ky : ky;
  const int fx = p.mode == CUDNN_CONVOLUTION ? p.kw - 1 - kx : kx;
  return ((std::size_t(o) * p.C + c) * p.kh + fy) * p.kw + fx;
}

// Forward: in_a = x, in_b = w, out = y. Backward data: in_a = dy, in_b = w,
// out = dx. Backward filter: in_a = x, in_b = dy, out = dw.
template <typename T>
void compute(Direction d, const Problem& p, const void* in_a, const void* in_b, void* out_v, const void* alpha_v,
             const void* beta_v, bool tf32, Order order) {
  const T alpha = *static_cast<const T*>(alpha_v), beta = *static_cast<const T*>(beta_v);
  T* out = static_cast<T*>(out_v);
  Terms<T> t;
  auto x_at = [&](const std::vector<T>& x, int n, int c, int h, int w) {
    return x[((std::size_t(n) * p.C + c) * p.H + h) * p.W + w];
  };
  auto y_at = [&](const std::vector<T>& y, int n, int o, int h, int w) {
    return y[((std::size_t(n) * p.O + o) * p.Ho + h) * p.Wo + w];
  };
  switch (d) {
    case Direction::Forward: {
      const std::vector<T> x = load<T>(in_a, p.x_elems(), tf32), w = load<T>(in_b, p.w_elems(), tf32);
      std::size_t i = 0;
      for (int n = 0; n < p.N; ++n)
        for (int o = 0; o < p.O; ++o)
          for (int oh = 0; oh < p.Ho; ++oh)
            for (int ow = 0; ow < p.Wo; ++ow, ++i) {
              t.clear();
              for (int c = 0; c < p.C; ++c)
                for (int ky = 0; ky < p.kh; ++ky) {
                  const int ih = oh * p.sh - p.ph + ky * p.dh;
                  if (ih < 0 || ih >= p.H) continue;
                  for (int kx = 0; kx < p.kw; ++kx) {
                    const int iw = ow * p.sw - p.pw + kx * p.dw;
                    if (iw < 0 || iw >= p.W) continue;
                    t.add(x_at(x, n, c, ih, iw), w[filter_index(p, o, c, ky, kx)]);
                  }
                }
              store(out, i, t.sum(order), alpha, beta);
            }
      break;
    }
    case Direction::BackwardData: {
      const std::vector<T> dy = load<T>(in_a, p.y_elems(), tf32), w = load<T>(in_b, p.w_elems(), tf32);
      std::size_t i = 0;
      for (int n = 0; n < p.N; ++n)
        for (int c = 0; c < p.C; ++c)
          for (int ih = 0; ih < p.H; ++ih)
            for (int iw = 0; iw < p.W; ++iw, ++i) {
              t.clear();
              for (int o = 0; o < p.O; ++o)
                for (int ky = 0; ky < p.kh; ++ky) {
                  const int th = ih + p.ph - ky * p.dh;  // = oh * sh
                  if (th < 0 || th % p.sh != 0 || th / p.sh >= p.Ho) continue;
                  for (int kx = 0; kx < p.kw; ++kx) {
                    const int tw = iw + p.pw - kx * p.dw;
                    if (tw < 0 || tw % p.sw != 0 || tw / p.sw >= p.Wo) continue;
                    t.add(y_at(dy, n, o, th / p.sh, tw / p.sw), w[filter_index(p, o, c, ky, kx)]);
                  }
                }
              store(out, i, t.sum(order), alpha, beta);
            }
      break;
    }
    case Direction::BackwardFilter: {
      const std::vector<T> x = load<T>(in_a, p.x_elems(), tf32), dy = load<T>(in_b, p.y_elems(), tf32);
      for (int o = 0; o < p.O; ++o)
        for (int c = 0; c < p.C; ++c)
          for (int ky = 0; ky < p.kh; ++ky)
            for (int kx = 0; kx < p.kw; ++kx) {
              t.clear();
              for (int n = 0; n < p.N; ++n)
                for (int oh = 0; oh < p.Ho; ++oh) {
                  const int ih = oh * p.sh - p.ph + ky * p.dh;
                  if (ih < 0 || ih >= p.H) continue;
                  for (int ow = 0; ow < p.Wo; ++ow) {
                    const int iw = ow * p.sw - p.pw + kx * p.dw;
                    if (iw < 0 || iw >= p.W) continue;
                    t.add(y_at(dy, n, o, oh, ow), x_at(x, n, c, ih, iw));
                  }
                }
              store(out, filter_index(p, o, c, ky, kx), t.sum(order), alpha, beta);
            }
      break;
    }
  }
}

struct Range {
  const char* what;
  const void* p;
  std::size_t bytes;
};

bool overlap(const Range& a, const Range& b) {
  if (a.bytes == 0 || b.bytes == 0) return false;
  const auto a0 = reinterpret_cast<std::uintptr_t>(a.p), b0 = reinterpret_cast<std::uintptr_t>(b.p);
  return a0 < b0 + b.bytes && b0 < a0 + a.bytes;
}

// The common body of the three execution functions. in_a, in_b and out as
// for compute(); the descriptors in cuDNN's x, w, y roles for `d`.
cudnnStatus_t execute(const char* api, Direction d, cudnnHandle_t handle, const void* alpha,
                      cudnnTensorDescriptor_t x_desc, cudnnFilterDescriptor_t w_desc,
                      cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y_desc, int algo, void* workspace,
                      std::size_t workspace_bytes, const void* beta, const void* in_a, const void* in_b, void* out) {
  if (!handle) return fail(api, CUDNN_STATUS_BAD_PARAM, "the handle is null");
  Problem p{};
  if (const cudnnStatus_t s = describe(api, d, x_desc, w_desc, conv, y_desc, true, p); s != CUDNN_STATUS_SUCCESS)
    return s;
  const Names nm = names_of(d);
  // The operands in the order (in_a, in_b, out) with their sizes.
  Range ra{}, rb{}, ro{};
  switch (d) {
    case Direction::Forward:
      ra = {nm.x, in_a, p.x_bytes()}, rb = {nm.w, in_b, p.w_bytes()}, ro = {nm.y, out, p.y_bytes()};
      break;
    case Direction::BackwardData:
      ra = {nm.y, in_a, p.y_bytes()}, rb = {nm.w, in_b, p.w_bytes()}, ro = {nm.x, out, p.x_bytes()};
      break;
    case Direction::BackwardFilter:
      ra = {nm.x, in_a, p.x_bytes()}, rb = {nm.y, in_b, p.y_bytes()}, ro = {nm.w, out, p.w_bytes()};
      break;
  }
  if (!alpha || !beta) return fail(api, CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "alpha or beta is null");
  for (const Range& r : {ra, rb, ro})
    if (!r.p) return fail(api, CUDNN_STATUS_BAD_PARAM_NULL_POINTER, std::string("the ") + r.what + " pointer is null");
  std::size_t need = 0;
  if (const cudnnStatus_t s = check_algo(api, d, p, algo, need); s != CUDNN_STATUS_SUCCESS) return s;
  if (workspace_bytes < need)
    return fail(api, CUDNN_STATUS_BAD_PARAM,
                "algorithm " + std::to_string(algo) + " needs " + std::to_string(need) + " bytes of workspace, " +
                    std::to_string(workspace_bytes) + " were passed");
  if (need > 0 && !workspace)
    return fail(api, CUDNN_STATUS_BAD_PARAM,
                "algorithm " + std::to_string(algo) + " needs " + std::to_string(need) +
                    " bytes of workspace and the workspace pointer is null");
  const Range rw{"workspace", workspace, need};
  for (const Range& r : {ra, rb, ro, rw})
    if (!cuda_emulation::require_device_range(api, r.what, r.p, r.bytes)) return CUDNN_STATUS_BAD_PARAM;
  // cuDNN convolutions are not in-place, and a workspace shared with an
  // operand corrupts it: say so rather than leave it to wrong numbers.
  for (const Range& r : {ra, rb, rw})
    if (overlap(ro, r))
      return fail(api, CUDNN_STATUS_BAD_PARAM, std::string("the output ") + ro.what + " overlaps " + r.what);
  for (const Range& r : {ra, rb})
    if (overlap(rw, r)) return fail(api, CUDNN_STATUS_BAD_PARAM, std::string("the workspace overlaps ") + r.what);
  // What an algorithm leaves in its workspace is garbage to the caller.
  if (need > 0) std::memset(workspace, 0xFF, need);

  Order order;
  const std::vector<Entry> m = menu(d, p);
  if (find_algo(m, algo)->determinism == CUDNN_NON_DETERMINISTIC) {
    const std::uint64_t run = nondeterministic_runs.fetch_add(1);
    order.reverse = (run & 1) != 0;
    order.rotate = run >> 1;
  }
  {
    Record& r = record();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.last = {api, algo, p.math, workspace_bytes};
    ++r.calls;
  }
  const bool tf32 = !p.is_double && is_tensor_op(p.math);
  if (p.is_double)
    compute<double>(d, p, in_a, in_b, out, alpha, beta, false, order);
  else
    compute<float>(d, p, in_a, in_b, out, alpha, beta, tf32, order);
  return CUDNN_STATUS_SUCCESS;
}

template <typename Desc>
cudnnStatus_t create(const char* api, Desc** desc) {
  if (!desc) return fail(api, CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "the descriptor pointer is null");
  *desc = new (std::nothrow) Desc;
  if (!*desc) return fail(api, CUDNN_STATUS_INTERNAL_ERROR, "out of host memory");
  return CUDNN_STATUS_SUCCESS;
}

// Sets a 4-d tensor or filter descriptor after checking its format, type and sizes.
template <typename Desc>
cudnnStatus_t set_4d(const char* api, Desc* desc, cudnnTensorFormat_t format, cudnnDataType_t type, int a, int b,
                     int c, int d) {
  if (!desc) return fail(api, CUDNN_STATUS_BAD_PARAM, "the descriptor is null");
  if (format != CUDNN_TENSOR_NCHW)
    return fail(api, CUDNN_STATUS_BAD_PARAM,
                "format " + std::to_string(static_cast<int>(format)) + " (the emulation has NCHW only)");
  if (!known_type(type))
    return fail(api, CUDNN_STATUS_BAD_PARAM,
                "data type " + std::to_string(static_cast<int>(type)) + " (the emulation has float and double only)");
  if (a < 1 || b < 1 || c < 1 || d < 1) return fail(api, CUDNN_STATUS_BAD_PARAM, "sizes " + dims(a, b, c, d));
  if (too_many_elements(a, b, c, d))
    return fail(api, CUDNN_STATUS_NOT_SUPPORTED, "sizes " + dims(a, b, c, d) + " exceed 2^31 - 1 elements");
  *desc = {true, type, a, b, c, d};
  return CUDNN_STATUS_SUCCESS;
}

// The *AlgorithmMaxCount functions: the number of algorithms of one direction.
cudnnStatus_t max_count(const char* api, cudnnHandle_t handle, int* count, int value) {
  if (!handle) return fail(api, CUDNN_STATUS_BAD_PARAM, "the handle is null");
  if (!count) return fail(api, CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "count is null");
  *count = value;
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

// ---- the API

const char* cudnnGetErrorString(cudnnStatus_t status) {
  switch (status) {
    case CUDNN_STATUS_SUCCESS:
      return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_NOT_INITIALIZED:
      return "CUDNN_STATUS_NOT_INITIALIZED";
    case CUDNN_STATUS_BAD_PARAM:
      return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_BAD_PARAM_NULL_POINTER:
      return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
    case CUDNN_STATUS_NOT_SUPPORTED:
      return "CUDNN_STATUS_NOT_SUPPORTED";
    case CUDNN_STATUS_INTERNAL_ERROR:
      return "CUDNN_STATUS_INTERNAL_ERROR";
    case CUDNN_STATUS_EXECUTION_FAILED:
      return "CUDNN_STATUS_EXECUTION_FAILED";
  }
  return "CUDNN_UNKNOWN_STATUS_FOUND";
}

cudnnStatus_t cudnnCreate(cudnnHandle_t* handle) { return create("cudnnCreate", handle); }

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  delete handle;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t streamId) {
  if (!handle) return fail("cudnnSetStream", CUDNN_STATUS_BAD_PARAM, "the handle is null");
  handle->stream = streamId;  // work runs on the calling thread before each call returns
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* tensorDesc) {
  return create("cudnnCreateTensorDescriptor", tensorDesc);
}

cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t tensorDesc, cudnnTensorFormat_t format,
                                         cudnnDataType_t dataType, int n, int c, int h, int w) {
  return set_4d("cudnnSetTensor4dDescriptor", tensorDesc, format, dataType, n, c, h, w);
}

cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t tensorDesc) {
  delete tensorDesc;  // null is fine, as in cuDNN
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* filterDesc) {
  return create("cudnnCreateFilterDescriptor", filterDesc);
}

cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t filterDesc, cudnnDataType_t dataType,
                                         cudnnTensorFormat_t format, int k, int c, int h, int w) {
  return set_4d("cudnnSetFilter4dDescriptor", filterDesc, format, dataType, k, c, h, w);
}

cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t filterDesc) {
  delete filterDesc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* convDesc) {
  return create("cudnnCreateConvolutionDescriptor", convDesc);
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t convDesc, int pad_h, int pad_w, int u,
                                              int v, int dilation_h, int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t computeType) {
  const char* api = "cudnnSetConvolution2dDescriptor";
  if (!convDesc) return fail(api, CUDNN_STATUS_BAD_PARAM, "the descriptor is null");
  if (pad_h < 0 || pad_w < 0)
    return fail(api, CUDNN_STATUS_BAD_PARAM, "padding " + std::to_string(pad_h) + "x" + std::to_string(pad_w));
  if (u < 1 || v < 1)
    return fail(api, CUDNN_STATUS_BAD_PARAM, "stride " + std::to_string(u) + "x" + std::to_string(v));
  if (dilation_h < 1 || dilation_w < 1)
    return fail(api, CUDNN_STATUS_BAD_PARAM,
                "dilation " + std::to_string(dilation_h) + "x" + std::to_string(dilation_w));
  if (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION)
    return fail(api, CUDNN_STATUS_BAD_PARAM, "mode " + std::to_string(static_cast<int>(mode)));
  if (!known_type(computeType))
    return fail(api, CUDNN_STATUS_BAD_PARAM,
                "compute type " + std::to_string(static_cast<int>(computeType)) +
                    " (the emulation has float and double only)");
  const cudnnMathType_t math = convDesc->math;  // setting the geometry keeps the math type
  *convDesc = {true, pad_h, pad_w, u, v, dilation_h, dilation_w, mode, computeType, math};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t convDesc, cudnnMathType_t mathType) {
  const char* api = "cudnnSetConvolutionMathType";
  if (!convDesc) return fail(api, CUDNN_STATUS_BAD_PARAM, "the descriptor is null");
  if (mathType != CUDNN_DEFAULT_MATH && !is_tensor_op(mathType) && mathType != CUDNN_FMA_MATH)
    return fail(api, CUDNN_STATUS_BAD_PARAM, "math type " + std::to_string(static_cast<int>(mathType)));
  convDesc->math = mathType;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t convDesc) {
  delete convDesc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t convDesc,
                                                    const cudnnTensorDescriptor_t inputTensorDesc,
                                                    const cudnnFilterDescriptor_t filterDesc, int* n, int* c, int* h,
                                                    int* w) {
  const char* api = "cudnnGetConvolution2dForwardOutputDim";
  if (!n || !c || !h || !w) return fail(api, CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "an output pointer is null");
  Problem p{};
  if (const cudnnStatus_t s = describe(api, Direction::Forward, inputTensorDesc, filterDesc, convDesc, nullptr, false, p);
      s != CUDNN_STATUS_SUCCESS)
    return s;
  *n = p.N;
  *c = p.O;
  *h = p.Ho;
  *w = p.Wo;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  return max_count("cudnnGetConvolutionForwardAlgorithmMaxCount", handle, count, CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t handle, const cudnnTensorDescriptor_t srcDesc,
                                                     const cudnnFilterDescriptor_t filterDesc,
                                                     const cudnnConvolutionDescriptor_t convDesc,
                                                     const cudnnTensorDescriptor_t destDesc,
                                                     const int requestedAlgoCount, int* returnedAlgoCount,
                                                     cudnnConvolutionFwdAlgoPerf_t* perfResults) {
  return heuristic("cudnnGetConvolutionForwardAlgorithm_v7", Direction::Forward, handle, srcDesc, filterDesc, convDesc,
                   destDesc, requestedAlgoCount, returnedAlgoCount, perfResults);
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc,
                                                      const cudnnFilterDescriptor_t wDesc,
                                                      const cudnnConvolutionDescriptor_t convDesc,
                                                      const cudnnTensorDescriptor_t yDesc,
                                                      cudnnConvolutionFwdAlgo_t algo, size_t* sizeInBytes) {
  return workspace_size("cudnnGetConvolutionForwardWorkspaceSize", Direction::Forward, handle, xDesc, wDesc, convDesc,
                        yDesc, algo, sizeInBytes);
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void* alpha, const cudnnTensorDescriptor_t xDesc,
                                      const void* x, const cudnnFilterDescriptor_t wDesc, const void* w,
                                      const cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionFwdAlgo_t algo,
                                      void* workSpace, size_t workSpaceSizeInBytes, const void* beta,
                                      const cudnnTensorDescriptor_t yDesc, void* y) {
  return execute("cudnnConvolutionForward", Direction::Forward, handle, alpha, xDesc, wDesc, convDesc, yDesc, algo,
                 workSpace, workSpaceSizeInBytes, beta, x, w, y);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  return max_count("cudnnGetConvolutionBackwardDataAlgorithmMaxCount", handle, count,
                   CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t handle,
                                                          const cudnnFilterDescriptor_t filterDesc,
                                                          const cudnnTensorDescriptor_t diffDesc,
                                                          const cudnnConvolutionDescriptor_t convDesc,
                                                          const cudnnTensorDescriptor_t gradDesc,
                                                          const int requestedAlgoCount, int* returnedAlgoCount,
                                                          cudnnConvolutionBwdDataAlgoPerf_t* perfResults) {
  return heuristic("cudnnGetConvolutionBackwardDataAlgorithm_v7", Direction::BackwardData, handle, gradDesc,
                   filterDesc, convDesc, diffDesc, requestedAlgoCount, returnedAlgoCount, perfResults);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc,
                                                           const cudnnTensorDescriptor_t dyDesc,
                                                           const cudnnConvolutionDescriptor_t convDesc,
                                                           const cudnnTensorDescriptor_t dxDesc,
                                                           cudnnConvolutionBwdDataAlgo_t algo, size_t* sizeInBytes) {
  return workspace_size("cudnnGetConvolutionBackwardDataWorkspaceSize", Direction::BackwardData, handle, dxDesc, wDesc,
                        convDesc, dyDesc, algo, sizeInBytes);
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void* alpha,
                                           const cudnnFilterDescriptor_t wDesc, const void* w,
                                           const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                           const cudnnConvolutionDescriptor_t convDesc,
                                           cudnnConvolutionBwdDataAlgo_t algo, void* workSpace,
                                           size_t workSpaceSizeInBytes, const void* beta,
                                           const cudnnTensorDescriptor_t dxDesc, void* dx) {
  return execute("cudnnConvolutionBackwardData", Direction::BackwardData, handle, alpha, dxDesc, wDesc, convDesc,
                 dyDesc, algo, workSpace, workSpaceSizeInBytes, beta, dy, w, dx);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  return max_count("cudnnGetConvolutionBackwardFilterAlgorithmMaxCount", handle, count,
                   CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t handle,
                                                            const cudnnTensorDescriptor_t srcDesc,
                                                            const cudnnTensorDescriptor_t diffDesc,
                                                            const cudnnConvolutionDescriptor_t convDesc,
                                                            const cudnnFilterDescriptor_t gradDesc,
                                                            const int requestedAlgoCount, int* returnedAlgoCount,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* perfResults) {
  return heuristic("cudnnGetConvolutionBackwardFilterAlgorithm_v7", Direction::BackwardFilter, handle, srcDesc,
                   gradDesc, convDesc, diffDesc, requestedAlgoCount, returnedAlgoCount, perfResults);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t handle,
                                                             const cudnnTensorDescriptor_t xDesc,
                                                             const cudnnTensorDescriptor_t dyDesc,
                                                             const cudnnConvolutionDescriptor_t convDesc,
                                                             const cudnnFilterDescriptor_t gradDesc,
                                                             cudnnConvolutionBwdFilterAlgo_t algo,
                                                             size_t* sizeInBytes) {
  return workspace_size("cudnnGetConvolutionBackwardFilterWorkspaceSize", Direction::BackwardFilter, handle, xDesc,
                        gradDesc, convDesc, dyDesc, algo, sizeInBytes);
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void* alpha,
                                             const cudnnTensorDescriptor_t xDesc, const void* x,
                                             const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                             const cudnnConvolutionDescriptor_t convDesc,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* workSpace,
                                             size_t workSpaceSizeInBytes, const void* beta,
                                             const cudnnFilterDescriptor_t dwDesc, void* dw) {
  return execute("cudnnConvolutionBackwardFilter", Direction::BackwardFilter, handle, alpha, xDesc, dwDesc, convDesc,
                 dyDesc, algo, workSpace, workSpaceSizeInBytes, beta, x, dy, dw);
}

namespace cuda_emulation {

CudnnCall last_cudnn_call() {
  Record& r = record();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.last;
}

std::uint64_t cudnn_calls() {
  Record& r = record();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.calls;
}

}  // namespace cuda_emulation
