#include "kernels/cpu/conv_gemm.h"

#include <algorithm>
#include <atomic>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/cpu/conv_implicit.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/workspace.h"

namespace sceald::kernels::cpu {

namespace {

// A GEMM with this many columns packs the weight once for plenty of work and
// splits well over threads: on VGG16's 48x48 layers (bench_conv, 2 threads)
// 1,024 columns gave 105-135 GFLOP/s where 16,384 gave 120-160.
constexpr std::int64_t kTargetColumns = 16384;
// An image with this many output pixels is a good GEMM alone; grouping it
// would only add the staging copies of large outputs.
constexpr std::int64_t kColumnsAlone = 2048;
// The largest column matrix a group may build (per thread where images run on threads).
constexpr std::int64_t kMaxColumnBytes = std::int64_t{32} << 20;
// Below this many multiply-adds a parallel region costs more than it saves.
constexpr std::int64_t kParallelMultiplyAdds = std::int64_t{1} << 20;
constexpr std::int64_t kParallelElements = std::int64_t{1} << 15;
// The implicit GEMM packs the whole weight for one pass over the columns;
// with few columns (a deep layer of one image) the im2col GEMM's blocking
// does better (bench_conv fwd_*, 2 threads: VGG16 conv5_2 at 224x224 batch 1,
// 196 columns: 5.5 ms im2col, 7.6 ms dense; at 48x48 batch 64, 576 columns:
// 20 ms im2col, 12 ms per tap).
constexpr std::int64_t kImplicitMinColumns = 384;
// Above this share of taps in the padding, the implicit GEMM skips them tap
// by tap (same benchmark: conv4_2 on 6x6, 21% padding, 63 ms im2col, 56 ms
// dense, 50 ms per tap; conv5_2 on 3x3, 40% padding: 24, 18 and 12 ms;
// but conv3_2 on 12x12, 11% padding: 54 ms dense, 59 ms per tap).
constexpr double kPerTapPaddingShare = 0.15;
// Between the two, it skips the rows above and below the image per kernel
// row (bench_conv fwd_*, medians of 3 interleaved: conv3_2 on 12x12 51.2 ms
// dense, 49.8 per kernel row, 51.6 per tap; conv2_2 on 24x24, 5.5%: 55.6,
// 53.5, 61.0; conv4_2 at 224x224 batch 1, 28x28, 4.7%: 22.2 dense, 23.0).
constexpr double kPerKernelRowPaddingShare = 0.05;
// The weight gradient goes per tap above this share (see conv2d_backward).
constexpr double kPerTapWeightPaddingShare = 0.08;

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int thread_index() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

}  // namespace

ConvBatching conv_batching(std::int64_t N, std::int64_t O, const ConvGeometry& g, std::size_t element_bytes) {
  const std::int64_t rows = g.col_rows(), cols = g.col_cols();
  const std::int64_t image_bytes = rows * cols * static_cast<std::int64_t>(element_bytes);
  std::int64_t group = cols >= kColumnsAlone ? 1
                       : std::clamp<std::int64_t>((kTargetColumns + cols - 1) / cols, 1, std::max<std::int64_t>(N, 1));
  group = std::max<std::int64_t>(1, std::min(group, kMaxColumnBytes / std::max<std::int64_t>(image_bytes, 1)));
  const int threads = max_threads();
  const bool on_threads = group == 1 && threads > 1 && N >= threads && image_bytes <= kMaxColumnBytes &&
                          N * O * rows * cols >= kParallelMultiplyAdds;
  return {group, on_threads};
}

namespace {
std::atomic<int> forced_forward_path{-1};
}

void conv_force_forward_path(std::optional<ConvForwardPath> path) {
  forced_forward_path = path ? static_cast<int>(*path) : -1;
}

namespace {
ImplicitOrder implicit_order(ConvForwardPath path) {
  switch (path) {
    case ConvForwardPath::ImplicitPerKernelRow: return ImplicitOrder::PerKernelRow;
    case ConvForwardPath::ImplicitPerTap: return ImplicitOrder::PerTap;
    default: return ImplicitOrder::Dense;
  }
}
}  // namespace

ConvForwardPath conv_forward_path(std::int64_t N, std::int64_t O, const ConvGeometry& g) {
  const bool implicit = !g.is_pointwise() && implicit_conv_available(N, O, g);
  if (const int forced = forced_forward_path; forced >= 0)
    return implicit ? static_cast<ConvForwardPath>(forced) : ConvForwardPath::Im2col;
  if (!implicit || N * g.Ho * g.Wo < kImplicitMinColumns) return ConvForwardPath::Im2col;
  const double padding = conv_padding_share(g);
  return padding >= kPerTapPaddingShare          ? ConvForwardPath::ImplicitPerTap
         : padding >= kPerKernelRowPaddingShare ? ConvForwardPath::ImplicitPerKernelRow
                                                : ConvForwardPath::ImplicitDense;
}

template <typename T>
void conv2d_forward(const T* x, const T* weight, const T* bias, std::int64_t N, std::int64_t O,
                    const ConvGeometry& g, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    const ConvForwardPath path = conv_forward_path(N, O, g);
    if (path != ConvForwardPath::Im2col) {
      conv2d_forward_implicit(x, weight, bias, N, O, g, y, implicit_order(path));
      return;
    }
  }
  const std::int64_t rows = g.col_rows(), cols = g.col_cols(), image = g.C * g.H * g.W;
  const ConvBatching batching = conv_batching(N, O, g, sizeof(T));

  if (batching.images_per_gemm == 1) {
    // The output of image n is one GEMM's C; the bias is put there first (beta = 1).
    auto one_image = [&](std::int64_t n) {
      const T* xn = x + n * image;
      T* yn = y + n * O * cols;
      const T* col = xn;  // a pointwise convolution reads the image in place
      if (!g.is_pointwise()) {
        T* c = thread_workspace<T>(WorkspaceSlot::ConvColumns, static_cast<std::size_t>(rows * cols));
        im2col(xn, g, c);
        col = c;
      }
      if (bias)
        for (std::int64_t o = 0; o < O; ++o) std::fill(yn + o * cols, yn + (o + 1) * cols, bias[o]);
      gemm(false, false, O, cols, rows, T(1), weight, rows, col, cols, bias ? T(1) : T(0), yn, cols);
    };
    if (batching.images_on_threads) {
#pragma omp parallel for schedule(static)
      for (std::int64_t n = 0; n < N; ++n) one_image(n);
    } else {
      for (std::int64_t n = 0; n < N; ++n) one_image(n);
    }
    return;
  }

  // Groups: col [rows, G cols] -> staged [O, G cols] = weight * col -> y (+ bias).
  const std::int64_t G = batching.images_per_gemm;
  T* col = thread_workspace<T>(WorkspaceSlot::ConvColumns, static_cast<std::size_t>(rows * G * cols));
  T* staged = thread_workspace<T>(WorkspaceSlot::ConvStaging, static_cast<std::size_t>(O * G * cols));
  for (std::int64_t n0 = 0; n0 < N; n0 += G) {
    const std::int64_t in_group = std::min(G, N - n0), ld = in_group * cols;
#pragma omp parallel for schedule(static) if (rows * ld > kParallelElements)
    for (std::int64_t i = 0; i < in_group; ++i) im2col(x + (n0 + i) * image, g, col + i * cols, ld);
    gemm(false, false, O, ld, rows, T(1), weight, rows, col, ld, T(0), staged, ld);
#pragma omp parallel for collapse(2) schedule(static) if (O * ld > kParallelElements)
    for (std::int64_t i = 0; i < in_group; ++i)
      for (std::int64_t o = 0; o < O; ++o) {
        const T* src = staged + o * ld + i * cols;
        T* dst = y + ((n0 + i) * O + o) * cols;
        const T b = bias ? bias[o] : T(0);
        for (std::int64_t p = 0; p < cols; ++p) dst[p] = src[p] + b;
      }
  }
}

namespace {

// With stride 1, grad_x is the forward convolution of grad_y (O channels of
// Ho x Wo) with the weight transposed to [C, O] and flipped in both taps,
// padded by d (k - 1) - p: so it can take the implicit GEMM, with the
// per-tap path skipping the padding as the forward does, and no col2im.
// Returns false (nothing done) where that does not apply.
bool conv2d_backward_data_implicit(const float* grad_y, const float* weight, std::int64_t N, std::int64_t O,
                                   const ConvGeometry& g, float* grad_x) {
  if (g.sh != 1 || g.sw != 1 || g.ph > g.dh * (g.kh - 1) || g.pw > g.dw * (g.kw - 1)) return false;
  const ConvGeometry t{.C = O, .H = g.Ho, .W = g.Wo, .kh = g.kh, .kw = g.kw, .sh = 1, .sw = 1,
                       .ph = g.dh * (g.kh - 1) - g.ph, .pw = g.dw * (g.kw - 1) - g.pw, .dh = g.dh, .dw = g.dw,
                       .Ho = g.H, .Wo = g.W};
  const ConvForwardPath path = conv_forward_path(N, g.C, t);
  if (path == ConvForwardPath::Im2col) return false;
  const std::int64_t taps = g.kh * g.kw;
  float* flipped = thread_workspace<float>(WorkspaceSlot::ConvWeightFlipped, static_cast<std::size_t>(O * g.C * taps));
#pragma omp parallel for collapse(2) schedule(static) if (O * g.C * taps > kParallelElements)
  for (std::int64_t c = 0; c < g.C; ++c)
    for (std::int64_t o = 0; o < O; ++o) {
      const float* src = weight + (o * g.C + c) * taps;
      float* dst = flipped + (c * O + o) * taps;
      for (std::int64_t k = 0; k < taps; ++k) dst[k] = src[taps - 1 - k];
    }
  conv2d_forward_implicit(grad_y, flipped, nullptr, N, g.C, t, grad_x, implicit_order(path));
  return true;
}

}  // namespace

template <typename T>
void conv2d_backward(const T* grad_y, const T* x, const T* weight, std::int64_t N, std::int64_t O,
                     const ConvGeometry& g, T* grad_x, T* grad_weight) {
  // An empty batch: the weight gradient is an empty sum. Every path below
  // writes it only from the first image, so it would be left unwritten.
  if (N == 0) {
    if (grad_weight) std::fill(grad_weight, grad_weight + O * g.col_rows(), T(0));
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    if (grad_x && conv2d_backward_data_implicit(grad_y, weight, N, O, g, grad_x)) grad_x = nullptr;
    // The weight gradient per tap where the padding is a large enough share
    // that skipping it beats im2col's denser GEMM (bench_conv bwd, VGG16 at
    // 48x48 batch 64, 2 threads, im2col -> per tap, 2 interleaved runs:
    // conv5_3 on 3x3 27-30 -> 23 ms, conv4_1 on 6x6 58-65 -> 48-50,
    // conv3_2 on 12x12 (11%) 125-132 -> 107-112; but conv2_2 on 24x24
    // (5.5%) 132-134 -> 135-144, conv1_2 on 48x48 126 -> 172-189).
    // A forced per-tap path takes it everywhere (so tests reach it on any shape).
    const ConvForwardPath path = conv_forward_path(N, O, g);
    const bool forced = forced_forward_path >= 0;
    if (grad_weight && path != ConvForwardPath::Im2col &&
        (forced ? path == ConvForwardPath::ImplicitPerTap : conv_padding_share(g) >= kPerTapWeightPaddingShare)) {
      conv2d_backward_weight_implicit(grad_y, x, N, O, g, grad_weight);
      grad_weight = nullptr;
    }
  }
  if (!grad_x && !grad_weight) return;
  const std::int64_t rows = g.col_rows(), cols = g.col_cols(), image = g.C * g.H * g.W;
  const std::int64_t weight_size = O * rows;
  const ConvBatching batching = conv_batching(N, O, g, sizeof(T));

  if (batching.images_per_gemm == 1) {
    // Image n adds grad_y[n] im2col(x[n])^T into `weight_sum` (overwrites it
    // when `first`), then reuses the column buffer for weight^T grad_y[n].
    auto one_image = [&](std::int64_t n, T* weight_sum, bool first) {
      const T* gyn = grad_y + n * O * cols;
      T* col = g.is_pointwise()
                   ? nullptr
                   : thread_workspace<T>(WorkspaceSlot::ConvColumns, static_cast<std::size_t>(rows * cols));
      if (weight_sum) {
        const T* xcol = x + n * image;
        if (col) {
          im2col(xcol, g, col);
          xcol = col;
        }
        gemm(false, true, O, rows, cols, T(1), gyn, cols, xcol, cols, first ? T(0) : T(1), weight_sum, rows);
      }
      if (grad_x) {
        T* gxn = grad_x + n * image;
        gemm(true, false, rows, cols, O, T(1), weight, rows, gyn, cols, T(0), col ? col : gxn, cols);
        if (col) {
          std::fill(gxn, gxn + image, T(0));
          col2im_accumulate(col, g, gxn);
        }
      }
    };
    if (!batching.images_on_threads) {
      for (std::int64_t n = 0; n < N; ++n) one_image(n, grad_weight, n == 0);
      return;
    }
    // Each thread sums its images' weight gradients privately; the sums are added at the end.
    std::vector<T*> partial(static_cast<std::size_t>(max_threads()), nullptr);
#pragma omp parallel
    {
      T* mine = grad_weight ? thread_workspace<T>(WorkspaceSlot::ConvWeightPartial, static_cast<std::size_t>(weight_size))
                            : nullptr;
      bool first = true;
#pragma omp for schedule(static)
      for (std::int64_t n = 0; n < N; ++n) {
        one_image(n, mine, first);
        first = false;
      }
      if (!first) partial[static_cast<std::size_t>(thread_index())] = mine;
    }
    if (grad_weight) {
#pragma omp parallel for schedule(static)
      for (std::int64_t e = 0; e < weight_size; ++e) {
        T sum = T(0);
        for (T* p : partial)
          if (p) sum += p[e];
        grad_weight[e] = sum;
      }
    }
    return;
  }

  // Groups: staged [O, G cols] gathers grad_y; the weight gradient is one GEMM
  // over G cols (accumulating across groups); then col = weight^T staged is
  // scattered back into each image by col2im.
  const std::int64_t G = batching.images_per_gemm;
  T* col = thread_workspace<T>(WorkspaceSlot::ConvColumns, static_cast<std::size_t>(rows * G * cols));
  T* staged = thread_workspace<T>(WorkspaceSlot::ConvStaging, static_cast<std::size_t>(O * G * cols));
  for (std::int64_t n0 = 0; n0 < N; n0 += G) {
    const std::int64_t in_group = std::min(G, N - n0), ld = in_group * cols;
#pragma omp parallel for collapse(2) schedule(static) if (O * ld > kParallelElements)
    for (std::int64_t i = 0; i < in_group; ++i)
      for (std::int64_t o = 0; o < O; ++o)
        std::copy_n(grad_y + ((n0 + i) * O + o) * cols, cols, staged + o * ld + i * cols);
    if (grad_weight) {
#pragma omp parallel for schedule(static) if (rows * ld > kParallelElements)
      for (std::int64_t i = 0; i < in_group; ++i) im2col(x + (n0 + i) * image, g, col + i * cols, ld);
      gemm(false, true, O, rows, ld, T(1), staged, ld, col, ld, n0 == 0 ? T(0) : T(1), grad_weight, rows);
    }
    if (grad_x) {
      gemm(true, false, rows, ld, O, T(1), weight, rows, staged, ld, T(0), col, ld);
#pragma omp parallel for schedule(static) if (rows * ld > kParallelElements)
      for (std::int64_t i = 0; i < in_group; ++i) {
        T* gxn = grad_x + (n0 + i) * image;
        std::fill(gxn, gxn + image, T(0));
        col2im_accumulate(col + i * cols, g, gxn, ld);
      }
    }
  }
}

template <typename T>
void conv2d_backward_bias(const T* grad_y, std::int64_t N, std::int64_t O, std::int64_t pixels, T* grad_bias) {
#pragma omp parallel for if (N * O * pixels > kParallelElements) schedule(static)
  for (std::int64_t o = 0; o < O; ++o) {
    double acc = 0.0;
    for (std::int64_t n = 0; n < N; ++n) {
      const T* row = grad_y + (n * O + o) * pixels;
#pragma omp simd reduction(+ : acc)
      for (std::int64_t p = 0; p < pixels; ++p) acc += static_cast<double>(row[p]);
    }
    grad_bias[o] = static_cast<T>(acc);
  }
}

#define SCEALD_INSTANTIATE_CONV_GEMM(T)                                                                        \
  template void conv2d_forward<T>(const T*, const T*, const T*, std::int64_t, std::int64_t, const ConvGeometry&, \
                                  T*);                                                                         \
  template void conv2d_backward<T>(const T*, const T*, const T*, std::int64_t, std::int64_t, const ConvGeometry&, \
                                   T*, T*);                                                                    \
  template void conv2d_backward_bias<T>(const T*, std::int64_t, std::int64_t, std::int64_t, T*);
SCEALD_INSTANTIATE_CONV_GEMM(float)
SCEALD_INSTANTIATE_CONV_GEMM(double)
#undef SCEALD_INSTANTIATE_CONV_GEMM

}  // namespace sceald::kernels::cpu
