#include "kernels/cpu/conv_implicit.h"

#include <algorithm>
#include <climits>
#include <exception>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/cpu/avx512.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/workspace.h"

namespace sceald::kernels::cpu {

double conv_padding_share(const ConvGeometry& g) {
  // Valid taps factor into rows and columns: sum over (ky, kx) of rows(ky) * cols(kx).
  auto inside = [](std::int64_t out, std::int64_t in, std::int64_t s, std::int64_t p, std::int64_t d,
                   std::int64_t k) {
    std::int64_t n = 0;
    for (std::int64_t o = 0; o < out; ++o) n += (o * s - p + k * d >= 0 && o * s - p + k * d < in);
    return n;
  };
  std::int64_t rows = 0, cols = 0;
  for (std::int64_t ky = 0; ky < g.kh; ++ky) rows += inside(g.Ho, g.H, g.sh, g.ph, g.dh, ky);
  for (std::int64_t kx = 0; kx < g.kw; ++kx) cols += inside(g.Wo, g.W, g.sw, g.pw, g.dw, kx);
  return 1.0 - double(rows) * double(cols) / (double(g.kh * g.kw) * double(g.Ho * g.Wo));
}

#if defined(__x86_64__)

namespace {

using gemm_detail::ceil_div;
using gemm_detail::MicroKernel;

constexpr int kNR = 48;  // columns of a B micro-panel: the AVX-512 tile's width
constexpr int kMR = 8;
constexpr std::int64_t kMaxKc = 512;

// A run of K: rows [k0, k0 + kc) of the (reordered) weight matrix. Per tap,
// every block lies within one tap: K = (tap, c) with c in [c0, c0 + kc).
struct KBlock {
  std::int64_t k0, kc, tap, c0;
};

// The columns of one block as offsets for the gathers: in = offset in x of
// the pixel a tap reads (channel 0), out = offset in y of the output pixel
// (row 0). Dense blocks also keep each column's top-left input row and
// column (iy, ix) to test which taps fall in the padding; columns past the
// end get iy = INT_MIN / 2, which no tap brings inside.
struct Columns {
  std::vector<std::int32_t> in, out, iy, ix;
  std::int64_t count = 0;
  void resize(std::int64_t n) {
    const auto padded = static_cast<std::size_t>(ceil_div(std::max<std::int64_t>(n, 1), kNR) * kNR);
    in.assign(padded, 0), out.assign(padded, 0), iy.assign(padded, INT_MIN / 2), ix.assign(padded, 0);
  }
};

struct Problem {
  const float* x;
  const float* weight;
  float* y;
  std::int64_t N, O;
  ConvGeometry g;
  std::int64_t P, T, K, image, out_image;  // pixels out, taps, C T, C H W, O P
};

// Columns [j0, j1) of the batch with every tap (dense).
void dense_columns(const Problem& pr, std::int64_t j0, std::int64_t j1, Columns& cols) {
  const ConvGeometry& g = pr.g;
  cols.resize(j1 - j0);
  cols.count = j1 - j0;
  for (std::int64_t j = j0; j < j1; ++j) {
    const std::int64_t n = j / pr.P, p = j % pr.P, oy = p / g.Wo, ox = p % g.Wo;
    const std::int64_t iy = oy * g.sh - g.ph, ix = ox * g.sw - g.pw;
    const auto w = static_cast<std::size_t>(j - j0);
    cols.iy[w] = static_cast<std::int32_t>(iy);
    cols.ix[w] = static_cast<std::int32_t>(ix);
    cols.in[w] = static_cast<std::int32_t>(n * pr.image + iy * g.W + ix);
    cols.out[w] = static_cast<std::int32_t>(n * pr.out_image + p);
  }
}

// The columns of [j0, j1) whose input under tap (ky, kx) lies inside the image.
void tap_columns(const Problem& pr, std::int64_t j0, std::int64_t j1, std::int64_t tap, Columns& cols) {
  const ConvGeometry& g = pr.g;
  const std::int64_t dy = (tap / g.kw) * g.dh, dx = (tap % g.kw) * g.dw;
  cols.resize(j1 - j0);
  std::int64_t w = 0;
  for (std::int64_t j = j0; j < j1; ++j) {
    const std::int64_t n = j / pr.P, p = j % pr.P, oy = p / g.Wo, ox = p % g.Wo;
    const std::int64_t iy = oy * g.sh - g.ph + dy, ix = ox * g.sw - g.pw + dx;
    if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
    cols.in[static_cast<std::size_t>(w)] = static_cast<std::int32_t>(n * pr.image + iy * g.W + ix);
    cols.out[static_cast<std::size_t>(w)] = static_cast<std::int32_t>(n * pr.out_image + p);
    ++w;
  }
  cols.count = w;
}

// Packs rows [k0, k0 + kc) of K = (c, ky, kx) for the block's columns into
// micro-panels [k][48]; taps in the padding read as zeros. A panel whose
// columns make at most kMaxRuns runs of adjacent pixels in one output row
// (stride 1, rows of 6 or more) is read with masked vector loads, one per
// run and vector; any other panel with gathers (bench_conv fwd_dense, VGG16
// conv3_2 on 12x12, 4 runs a panel: 71 ms with gathers, 54 ms with loads).
constexpr int kMaxRuns = 8;

SCEALD_TARGET_AVX512 void pack_dense(const Problem& pr, const Columns& cols, std::int64_t k0, std::int64_t kc,
                                     float* dst) {
  const ConvGeometry& g = pr.g;
  const __m512i H = _mm512_set1_epi32(static_cast<int>(g.H)), W = _mm512_set1_epi32(static_cast<int>(g.W));
  for (std::int64_t q = 0; q < cols.count; q += kNR, dst += kNR * kc) {
    __m512i iy[3], ix[3], in[3];
    for (int v = 0; v < 3; ++v) {
      iy[v] = _mm512_loadu_si512(cols.iy.data() + q + 16 * v);
      ix[v] = _mm512_loadu_si512(cols.ix.data() + q + 16 * v);
      in[v] = _mm512_loadu_si512(cols.in.data() + q + 16 * v);
    }
    // Runs: lanes [lo, hi) with in = base + lane and one input row iy.
    struct Run {
      int iy;
      std::int64_t base;
      __mmask16 lanes[3];
    } runs[kMaxRuns];
    int nruns = 0;
    bool use_runs = g.sw == 1;
    const int valid = static_cast<int>(std::min<std::int64_t>(kNR, cols.count - q));
    for (int w = 0; w < valid && use_runs;) {
      int hi = w + 1;
      const std::int32_t* cin = cols.in.data() + q;
      const std::int32_t* ciy = cols.iy.data() + q;
      while (hi < valid && cin[hi] == cin[w] + (hi - w) && ciy[hi] == ciy[w]) ++hi;
      if (nruns == kMaxRuns) {
        use_runs = false;
        break;
      }
      Run& r = runs[nruns++];
      r.iy = ciy[w];
      r.base = std::int64_t{cin[w]} - w;
      for (int v = 0; v < 3; ++v) r.lanes[v] = lanes_below(hi, v) & static_cast<__mmask16>(~lanes_below(w, v));
      w = hi;
    }
    std::int64_t c = k0 / pr.T, ky = (k0 % pr.T) / g.kw, kx = k0 % g.kw;
    for (std::int64_t k = 0; k < kc; ++k) {
      const int dy = static_cast<int>(ky * g.dh), dx = static_cast<int>(kx * g.dw);
      const std::int64_t koff = c * g.H * g.W + dy * g.W + dx;
      const __m512i vdx = _mm512_set1_epi32(dx);
      float* d = dst + k * kNR;
      if (use_runs) {
        __m512 val[3] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        __mmask16 inside_x[3];
        for (int v = 0; v < 3; ++v) inside_x[v] = _mm512_cmplt_epu32_mask(_mm512_add_epi32(ix[v], vdx), W);
        for (int r = 0; r < nruns; ++r) {
          if (static_cast<unsigned>(runs[r].iy + dy) >= static_cast<unsigned>(g.H)) continue;
          // Lane w of vector v reads x[base + koff + 16 v + w]; masked-off lanes touch no memory.
          const float* src = pr.x + runs[r].base + koff;
#pragma GCC unroll 3
          for (int v = 0; v < 3; ++v)
            val[v] = _mm512_mask_loadu_ps(val[v], runs[r].lanes[v] & inside_x[v], src + 16 * v);
        }
#pragma GCC unroll 3
        for (int v = 0; v < 3; ++v) _mm512_store_ps(d + 16 * v, val[v]);
      } else {
        const __m512i off = _mm512_set1_epi32(static_cast<int>(koff));
        const __m512i vdy = _mm512_set1_epi32(dy);
#pragma GCC unroll 3
        for (int v = 0; v < 3; ++v) {
          // Unsigned compares: a negative row or column is out of range too.
          const __mmask16 inside = _mm512_cmplt_epu32_mask(_mm512_add_epi32(iy[v], vdy), H) &
                                   _mm512_cmplt_epu32_mask(_mm512_add_epi32(ix[v], vdx), W);
          const __m512 val = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), inside, _mm512_add_epi32(in[v], off),
                                                      pr.x, 4);
          _mm512_store_ps(d + 16 * v, val);
        }
      }
      if (++kx == g.kw) {
        kx = 0;
        if (++ky == g.kh) ky = 0, ++c;
      }
    }
  }
}

// Packs channels [c0, c0 + kc) of one tap for the block's (inside) columns.
SCEALD_TARGET_AVX512 void pack_tap(const Problem& pr, const Columns& cols, std::int64_t c0, std::int64_t kc,
                                   float* dst) {
  const std::int64_t plane = pr.g.H * pr.g.W;
  for (std::int64_t q = 0; q < cols.count; q += kNR, dst += kNR * kc) {
    __m512i in[3];
    __mmask16 valid[3];
    for (int v = 0; v < 3; ++v) {
      in[v] = _mm512_loadu_si512(cols.in.data() + q + 16 * v);
      valid[v] = lanes_below(cols.count - q, v);
    }
    const float* base = pr.x + c0 * plane;
    for (std::int64_t k = 0; k < kc; ++k, base += plane) {
      float* d = dst + k * kNR;
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v)
        _mm512_store_ps(d + 16 * v, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid[v], in[v], base, 4));
    }
  }
}

// Adds the m x n tile `tile` (row stride kNR) into y at the columns' offsets.
void scatter_add(const float* tile, int m, int n, const std::int32_t* out, std::int64_t row_stride, float* y) {
  for (int i = 0; i < m; ++i) {
    float* row = y + i * row_stride;
    const float* t = tile + i * kNR;
    for (int w = 0; w < n; ++w) row[out[w]] += t[w];
  }
}

// One block of columns through every block of K.
void run_column_block(const Problem& pr, const MicroKernel<float>& uk, const std::vector<KBlock>& kblocks,
                      const float* pa, std::int64_t Mp, bool per_tap, std::int64_t j0, std::int64_t j1, float* pb,
                      Columns& cols) {
  alignas(64) float tile[kMR * kNR];
  if (!per_tap) dense_columns(pr, j0, j1, cols);
  std::int64_t tap = -1;
  for (const KBlock& kb : kblocks) {
    if (per_tap) {
      if (kb.tap != tap) tap_columns(pr, j0, j1, tap = kb.tap, cols);
      if (cols.count == 0) continue;
      pack_tap(pr, cols, kb.c0, kb.kc, pb);
    } else {
      pack_dense(pr, cols, kb.k0, kb.kc, pb);
    }
    for (std::int64_t ir = 0; ir < pr.O; ir += kMR) {
      const int m = static_cast<int>(std::min<std::int64_t>(kMR, pr.O - ir));
      const float* ap = pa + kb.k0 * Mp + ir * kb.kc;
      for (std::int64_t jr = 0; jr < cols.count; jr += kNR) {
        const int n = static_cast<int>(std::min<std::int64_t>(kNR, cols.count - jr));
        const std::int32_t* out = cols.out.data() + jr;
        const float* bp = pb + jr * kb.kc;
        float* y_rows = pr.y + ir * pr.P;
        if (out[n - 1] - out[0] == n - 1) {
          // The tile's columns are adjacent pixels of one image: add into y in place.
          uk.compute(kb.kc, ap, bp, y_rows + out[0], pr.P, m, n, 1.0f, 1.0f);
        } else {
          uk.compute(kb.kc, ap, bp, tile, kNR, m, n, 1.0f, 0.0f);
          scatter_add(tile, m, n, out, pr.P, y_rows);
        }
      }
    }
  }
}

// grad weight per tap: packs rows [r0, r0 + 8) of grad_y at the block's
// (inside) columns [w0, w0 + kc) into one micro-panel [column][8]. Runs of
// adjacent pixels (a row of the image, less the taps in the padding) are
// transposed from contiguous rows by the GEMM's packer; short ones gathered.
SCEALD_TARGET_AVX512 void pack_grad_y_panel(const Problem& pr, const MicroKernel<float>& uk, const Columns& cols,
                                            std::int64_t w0, std::int64_t kc, std::int64_t r0, float* dst) {
  const int rows = static_cast<int>(std::min<std::int64_t>(kMR, pr.O - r0));
  const __mmask8 row_mask = static_cast<__mmask8>((1u << rows) - 1u);
  const __m256i row_offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                                 _mm256_set1_epi32(static_cast<int>(pr.P)));
  const float* base = pr.y + r0 * pr.P;  // grad_y, in the role of y
  const std::int32_t* out = cols.out.data() + w0;
  for (std::int64_t w = 0; w < kc;) {
    std::int64_t end = w + 1;
    while (end < kc && out[end] == out[end - 1] + 1) ++end;
    if (end - w >= 4) {
      uk.pack_a(base + out[w], pr.P, 1, rows, end - w, dst + w * kMR);
    } else {
      for (; w < end; ++w) {
        const __m256i idx = _mm256_add_epi32(row_offsets, _mm256_set1_epi32(out[w]));
        _mm256_store_ps(dst + w * kMR, _mm256_mmask_i32gather_ps(_mm256_setzero_ps(), row_mask, idx, base, 4));
      }
    }
    w = end;
  }
}

// grad weight per tap: packs channels [c0, c0 + n) (n <= 48) of x at the
// block's columns [w0, w0 + kc) into one micro-panel [column][48].
SCEALD_TARGET_AVX512 void pack_x_panel(const Problem& pr, const Columns& cols, std::int64_t w0, std::int64_t kc,
                                       std::int64_t c0, int n, float* dst) {
  const int plane = static_cast<int>(pr.g.H * pr.g.W);
  __m512i channel[3];
  __mmask16 valid[3];
  for (int v = 0; v < 3; ++v) {
    channel[v] = _mm512_mullo_epi32(
        _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(c0) + 16 * v),
                         _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)),
        _mm512_set1_epi32(plane));
    valid[v] = lanes_below(n, v);
  }
  for (std::int64_t w = 0; w < kc; ++w) {
    const __m512i in = _mm512_set1_epi32(cols.in[static_cast<std::size_t>(w0 + w)]);
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v)
      _mm512_store_ps(dst + w * kNR + 16 * v,
                      _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid[v], _mm512_add_epi32(in, channel[v]),
                                               pr.x, 4));
  }
}

int max_threads() {
#ifdef _OPENMP
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace

bool implicit_conv_available(std::int64_t N, std::int64_t O, const ConvGeometry& g) {
  const MicroKernel<float>* uk = gemm_detail::sgemm_kernel_avx512();
  return uk && uk->mr == kMR && uk->nr == kNR && cpu_features().avx512f && N * g.C * g.H * g.W < INT_MAX &&
         N * O * g.Ho * g.Wo < INT_MAX;
}

void conv2d_forward_implicit(const float* x, const float* weight, const float* bias, std::int64_t N,
                             std::int64_t O, const ConvGeometry& g, float* y, bool per_tap) {
  const MicroKernel<float>& uk = *gemm_detail::sgemm_kernel_avx512();
  Problem pr{x, weight, y, N, O, g, g.Ho * g.Wo, g.kh * g.kw, g.C * g.kh * g.kw, g.C * g.H * g.W, O * g.Ho * g.Wo};
  const std::int64_t Mp = ceil_div(O, kMR) * kMR, columns = N * pr.P;

  // Blocks of K, even in size (C = 520 gives 260 + 260, not 512 + 8).
  std::vector<KBlock> kblocks;
  auto split = [&](std::int64_t extent, auto&& add) {
    const std::int64_t parts = ceil_div(extent, kMaxKc);
    for (std::int64_t i = 0; i < parts; ++i) add(extent * i / parts, extent * (i + 1) / parts - extent * i / parts);
  };
  if (per_tap) {
    for (std::int64_t t = 0; t < pr.T; ++t)
      split(g.C, [&](std::int64_t c0, std::int64_t kc) { kblocks.push_back({t * g.C + c0, kc, t, c0}); });
  } else {
    split(pr.K, [&](std::int64_t k0, std::int64_t kc) { kblocks.push_back({k0, kc, 0, 0}); });
  }

  // Blocks of columns: the packed B block (kc x nc) fills about half of L2,
  // and every thread gets at least one.
  const int threads = max_threads();
  const std::int64_t kc_max = std::min(kMaxKc, per_tap ? g.C : pr.K);
  const std::int64_t l2 = std::clamp<std::int64_t>(static_cast<std::int64_t>(cpu_features().l2_bytes), 256 << 10,
                                                   4 << 20);
  std::int64_t nc = std::max<std::int64_t>(kNR, l2 / 2 / (kc_max * 4) / kNR * kNR);
  nc = std::min(nc, ceil_div(ceil_div(columns, threads), kNR) * kNR);
  const std::int64_t column_blocks = ceil_div(columns, nc);

  float* pa = thread_workspace<float>(WorkspaceSlot::GemmPackA, static_cast<std::size_t>(Mp * pr.K + 64));
  const std::int64_t panels = Mp / kMR;
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
    // y starts as the bias; every block of K adds into it.
#pragma omp for schedule(static)
    for (std::int64_t r = 0; r < N * O; ++r)
      std::fill(y + r * pr.P, y + (r + 1) * pr.P, bias ? bias[r % O] : 0.0f);
    // The weight, packed once: block b's panels at pa + k0 Mp. Per tap,
    // element (o, c) of tap t is weight[o K + c T + t].
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(kblocks.size()) * panels; ++i) {
      const KBlock& kb = kblocks[static_cast<std::size_t>(i / panels)];
      const std::int64_t r0 = i % panels * kMR;
      const float* src = per_tap ? weight + r0 * pr.K + kb.c0 * pr.T + kb.tap : weight + r0 * pr.K + kb.k0;
      uk.pack_a(src, pr.K, per_tap ? pr.T : 1, std::min<std::int64_t>(kMR, O - r0), kb.kc,
                pa + kb.k0 * Mp + r0 * kb.kc);
    }
    // An exception must not escape the region, nor skip a worksharing loop
    // (the other threads would wait for this one at its end).
    auto keep_error = [&] {
#pragma omp critical(sceald_conv_implicit_error)
      if (!error) error = std::current_exception();
    };
    float* pb = nullptr;
    Columns cols;
    try {
      pb = thread_workspace<float>(WorkspaceSlot::GemmPackB, static_cast<std::size_t>(kc_max * nc + 64));
    } catch (...) {
      keep_error();
    }
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t b = 0; b < column_blocks; ++b) {
      if (!pb) continue;
      try {
        run_column_block(pr, uk, kblocks, pa, Mp, per_tap, b * nc, std::min(columns, (b + 1) * nc), pb, cols);
      } catch (...) {
        keep_error();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}


void conv2d_backward_weight_implicit(const float* grad_y, const float* x, std::int64_t N, std::int64_t O,
                                     const ConvGeometry& g, float* grad_weight) {
  const MicroKernel<float>& uk = *gemm_detail::sgemm_kernel_avx512();
  // grad_y takes y's place in Problem: the column maps' `out` offsets index it.
  Problem pr{x, nullptr, const_cast<float*>(grad_y), N, O, g, g.Ho * g.Wo, g.kh * g.kw, g.C * g.kh * g.kw,
             g.C * g.H * g.W, O * g.Ho * g.Wo};
  const std::int64_t columns = N * pr.P, Mp = ceil_div(O, kMR) * kMR, channel_panels = ceil_div(g.C, kNR);
  constexpr std::int64_t kJc = 512;  // columns summed per packed block

  // Tap by tap, block by block of inside columns: the threads pack grad_y's
  // block together (into one of two buffers, so that packing the next block
  // never overwrites one still being read: the barrier after each packing
  // means every thread is done with the block before), then each thread
  // gathers x for its own panels of channels and accumulates their result.
  // A static schedule gives a thread the same panels every block, so no
  // two threads add into the same result.
  //
  // The result is built in tap-major order [O][T][C], contiguous along C
  // for each tap, and permuted into [O][C][T] at the end.
  float* tap_major =
      thread_workspace<float>(WorkspaceSlot::ConvWeightTapMajor, static_cast<std::size_t>(O * pr.K));
  float* packed_grad_y =
      thread_workspace<float>(WorkspaceSlot::GemmPackA, static_cast<std::size_t>(2 * Mp * kJc + 64));
  std::exception_ptr error;
#pragma omp parallel num_threads(max_threads())
  {
    float* pb = nullptr;
    Columns cols;
    try {
      pb = thread_workspace<float>(WorkspaceSlot::GemmPackB, static_cast<std::size_t>(kNR * kJc + 64));
      cols.resize(columns);  // later calls reuse this capacity: nothing below allocates or throws
    } catch (...) {
#pragma omp critical(sceald_conv_implicit_error)
      if (!error) error = std::current_exception();
    }
#pragma omp barrier
    // Every thread sees the same `error` after the barrier, so all skip together.
    std::int64_t block = 0;
    for (std::int64_t tap = 0; tap < pr.T && !error; ++tap) {
      tap_columns(pr, 0, columns, tap, cols);
      float* out = tap_major + tap * g.C;  // element (o, c) at out[o K + c]
      if (cols.count == 0) {
#pragma omp for schedule(static)
        for (std::int64_t o = 0; o < O; ++o) std::fill(out + o * pr.K, out + o * pr.K + g.C, 0.0f);
      }
      for (std::int64_t w0 = 0; w0 < cols.count; w0 += kJc, ++block) {
        const std::int64_t kc = std::min(kJc, cols.count - w0);
        float* pa = packed_grad_y + (block % 2) * Mp * kJc;
#pragma omp for schedule(static)
        for (std::int64_t r0 = 0; r0 < O; r0 += kMR) pack_grad_y_panel(pr, uk, cols, w0, kc, r0, pa + r0 * kc);
#pragma omp for schedule(static) nowait
        for (std::int64_t p = 0; p < channel_panels; ++p) {
          const std::int64_t c = p * kNR;
          const int n = static_cast<int>(std::min<std::int64_t>(kNR, g.C - c));
          pack_x_panel(pr, cols, w0, kc, c, n, pb);
          for (std::int64_t r0 = 0; r0 < O; r0 += kMR)
            uk.compute(kc, pa + r0 * kc, pb, out + r0 * pr.K + c, pr.K,
                       static_cast<int>(std::min<std::int64_t>(kMR, O - r0)), n, 1.0f, w0 == 0 ? 0.0f : 1.0f);
        }
      }
    }
#pragma omp barrier
    // [O][T][C] -> [O][C][T].
    if (!error) {
#pragma omp for schedule(static)
      for (std::int64_t o = 0; o < O; ++o)
        for (std::int64_t t = 0; t < pr.T; ++t)
          for (std::int64_t c = 0; c < g.C; ++c)
            grad_weight[(o * g.C + c) * pr.T + t] = tap_major[o * pr.K + t * g.C + c];
    }
  }
  if (error) std::rethrow_exception(error);
}

#else

bool implicit_conv_available(std::int64_t, std::int64_t, const ConvGeometry&) { return false; }
void conv2d_forward_implicit(const float*, const float*, const float*, std::int64_t, std::int64_t,
                             const ConvGeometry&, float*, bool) {}
void conv2d_backward_weight_implicit(const float*, const float*, std::int64_t, std::int64_t, const ConvGeometry&,
                                     float*) {}

#endif

}  // namespace sceald::kernels::cpu
