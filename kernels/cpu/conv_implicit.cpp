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
// Per kernel row, within one row ky (`tap`): K = (kx, c) with c in
// [c0, c0 + channels), so kc = kw channels.
struct KBlock {
  std::int64_t k0, kc, tap, c0, channels;
};

// A 48-column panel whose offsets make a few runs of consecutive values
// (adjacent pixels) is read and written with masked vector accesses, one per
// run and vector it touches (a "piece"), instead of gathers and scalar adds.
// Panels with more pieces than this take the general path.
constexpr int kMaxPieces = 16;

struct PanelRuns {
  struct Piece {
    std::int64_t base;  // lane l of vector v maps to offset base + 16 v + l
    std::int32_t row;   // the run's input row (dense packing tests it against the padding)
    __mmask16 lanes;
  };
  Piece pieces[kMaxPieces];
  int first[4];  // the pieces of vector v: [first[v], first[v + 1])
};

// Splits offset[0, valid) into runs (consecutive offsets and, when `row` is
// given, one row each). False when they take more than kMaxPieces pieces.
SCEALD_TARGET_AVX512 bool find_runs(const std::int32_t* offset, const std::int32_t* row, int valid, PanelRuns& r) {
  int count = 0;
  r.first[0] = 0;
  int next_vector = 1;
  for (int w = 0; w < valid;) {
    int hi = w + 1;
    while (hi < valid && offset[hi] == offset[w] + (hi - w) && (!row || row[hi] == row[w])) ++hi;
    for (int v = w / 16; v <= (hi - 1) / 16; ++v) {
      if (count == kMaxPieces) return false;
      // Runs come in lane order, so pieces come in vector order.
      while (next_vector <= v) r.first[next_vector++] = count;
      r.pieces[count++] = {std::int64_t{offset[w]} - w, row ? row[w] : 0,
                           static_cast<__mmask16>(lanes_below(hi, v) & ~lanes_below(w, v))};
    }
    w = hi;
  }
  while (next_vector <= 3) r.first[next_vector++] = count;
  return true;
}

// Vector v of a panel read along its runs: lane l of each piece from
// base + piece.base + 16 v + l, where `allowed` lets it; other lanes are 0.
// Masked-off lanes touch no memory.
SCEALD_TARGET_AVX512 inline __m512 load_along_runs(const PanelRuns& runs, int v, const float* base,
                                                   __mmask16 allowed) {
  __m512 val = _mm512_setzero_ps();
  for (int p = runs.first[v]; p < runs.first[v + 1]; ++p)
    val = _mm512_mask_loadu_ps(val, runs.pieces[p].lanes & allowed, base + runs.pieces[p].base + 16 * v);
  return val;
}

// The columns of one block as offsets for the gathers: in = offset in x of
// the pixel a tap reads (channel 0), out = offset in y of the output pixel
// (row 0). Dense blocks also keep each column's top-left input row and
// column (iy, ix) to test which taps fall in the padding; columns past the
// end get iy = INT_MIN / 2, which no tap brings inside.
struct Columns {
  std::vector<std::int32_t> in, out, iy, ix;
  std::int64_t count = 0;
  // Per tile of 48 columns, the runs of `out` (when they fit a PanelRuns).
  std::vector<PanelRuns> out_runs;
  std::vector<std::uint8_t> out_in_runs;
  void map_output_runs() {
    const auto tiles = static_cast<std::size_t>(ceil_div(count, kNR));
    if (out_runs.size() < tiles) out_runs.resize(tiles), out_in_runs.resize(tiles);
    for (std::size_t t = 0; t < tiles; ++t) {
      const int n = static_cast<int>(std::min<std::int64_t>(kNR, count - std::int64_t(t) * kNR));
      out_in_runs[t] = find_runs(out.data() + t * kNR, nullptr, n, out_runs[t]);
    }
  }
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

// The columns of [j0, j1) whose input row under kernel row ky lies inside
// the image (whole output rows: adjacent in y). ix is the input column of
// tap kx = 0, which may lie in the padding.
void row_columns(const Problem& pr, std::int64_t j0, std::int64_t j1, std::int64_t ky, Columns& cols) {
  const ConvGeometry& g = pr.g;
  cols.resize(j1 - j0);
  std::int64_t w = 0;
  for (std::int64_t j = j0; j < j1; ++j) {
    const std::int64_t n = j / pr.P, p = j % pr.P, oy = p / g.Wo, ox = p % g.Wo;
    const std::int64_t iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw;
    if (iy < 0 || iy >= g.H) continue;
    const auto at = static_cast<std::size_t>(w++);
    cols.iy[at] = static_cast<std::int32_t>(iy);
    cols.ix[at] = static_cast<std::int32_t>(ix);
    cols.in[at] = static_cast<std::int32_t>(n * pr.image + iy * g.W + ix);
    cols.out[at] = static_cast<std::int32_t>(n * pr.out_image + p);
  }
  cols.count = w;
}

// Packs rows [k0, k0 + kc) of K = (c, ky, kx) for the block's columns into
// micro-panels [k][48]; taps in the padding read as zeros. A panel whose
// columns make few runs of adjacent pixels in one input row (stride 1) is
// read with masked vector loads; any other with gathers (bench_conv
// fwd_dense, VGG16 conv3_2 on 12x12, 4 runs a panel: 71 ms with gathers,
// 54 ms with loads).
SCEALD_TARGET_AVX512 void pack_dense(const Problem& pr, const Columns& cols, std::int64_t k0, std::int64_t kc,
                                     float* dst) {
  const ConvGeometry& g = pr.g;
  const __m512i H = _mm512_set1_epi32(static_cast<int>(g.H)), W = _mm512_set1_epi32(static_cast<int>(g.W));
  PanelRuns runs;
  for (std::int64_t q = 0; q < cols.count; q += kNR, dst += kNR * kc) {
    __m512i iy[3], ix[3], in[3];
    for (int v = 0; v < 3; ++v) {
      iy[v] = _mm512_loadu_si512(cols.iy.data() + q + 16 * v);
      ix[v] = _mm512_loadu_si512(cols.ix.data() + q + 16 * v);
      in[v] = _mm512_loadu_si512(cols.in.data() + q + 16 * v);
    }
    const int valid = static_cast<int>(std::min<std::int64_t>(kNR, cols.count - q));
    const bool use_runs = g.sw == 1 && find_runs(cols.in.data() + q, cols.iy.data() + q, valid, runs);
    std::int64_t c = k0 / pr.T, ky = (k0 % pr.T) / g.kw, kx = k0 % g.kw;
    for (std::int64_t k = 0; k < kc; ++k) {
      const int dy = static_cast<int>(ky * g.dh), dx = static_cast<int>(kx * g.dw);
      const std::int64_t koff = c * g.H * g.W + dy * g.W + dx;
      const __m512i vdx = _mm512_set1_epi32(dx);
      float* d = dst + k * kNR;
      if (use_runs) {
#pragma GCC unroll 3
        for (int v = 0; v < 3; ++v) {
          const __mmask16 inside_x = _mm512_cmplt_epu32_mask(_mm512_add_epi32(ix[v], vdx), W);
          __m512 val = _mm512_setzero_ps();
          for (int p = runs.first[v]; p < runs.first[v + 1]; ++p) {
            const PanelRuns::Piece& piece = runs.pieces[p];
            if (static_cast<unsigned>(piece.row + dy) >= static_cast<unsigned>(g.H)) continue;
            // Masked-off lanes touch no memory.
            val = _mm512_mask_loadu_ps(val, piece.lanes & inside_x, pr.x + piece.base + koff + 16 * v);
          }
          _mm512_store_ps(d + 16 * v, val);
        }
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

// Packs one block of kernel row ky, K = (kx, c), for the block's columns
// (rows inside): taps whose column falls in the padding read as zeros.
// Along a run of adjacent pixels (with stride 1 a whole image is one) the
// loads are masked vector loads; elsewhere gathers.
SCEALD_TARGET_AVX512 void pack_row(const Problem& pr, const Columns& cols, const KBlock& kb, float* dst) {
  const ConvGeometry& g = pr.g;
  const std::int64_t plane = g.H * g.W;
  const __m512i W = _mm512_set1_epi32(static_cast<int>(g.W));
  PanelRuns runs;
  for (std::int64_t q = 0; q < cols.count; q += kNR, dst += kNR * kb.kc) {
    const int valid = static_cast<int>(std::min<std::int64_t>(kNR, cols.count - q));
    const bool use_runs = find_runs(cols.in.data() + q, nullptr, valid, runs);
    __m512i ix[3], in[3];
    for (int v = 0; v < 3; ++v) {
      ix[v] = _mm512_loadu_si512(cols.ix.data() + q + 16 * v);
      in[v] = _mm512_loadu_si512(cols.in.data() + q + 16 * v);
    }
    float* d = dst;
    for (std::int64_t kx = 0; kx < g.kw; ++kx) {
      const int dx = static_cast<int>(kx * g.dw);
      __mmask16 inside[3];
      for (int v = 0; v < 3; ++v)
        inside[v] = _mm512_cmplt_epu32_mask(_mm512_add_epi32(ix[v], _mm512_set1_epi32(dx)), W) &
                    lanes_below(valid, v);
      const float* base = pr.x + kb.c0 * plane + dx;
      for (std::int64_t c = 0; c < kb.channels; ++c, base += plane, d += kNR) {
        if (use_runs) {
#pragma GCC unroll 3
          for (int v = 0; v < 3; ++v) _mm512_store_ps(d + 16 * v, load_along_runs(runs, v, base, inside[v]));
        } else {
#pragma GCC unroll 3
          for (int v = 0; v < 3; ++v)
            _mm512_store_ps(d + 16 * v, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), inside[v], in[v], base, 4));
        }
      }
    }
  }
}

// Packs channels [c0, c0 + kc) of one tap for the block's (inside) columns:
// masked loads along runs of adjacent input pixels, gathers where the runs
// are too many.
SCEALD_TARGET_AVX512 void pack_tap(const Problem& pr, const Columns& cols, std::int64_t c0, std::int64_t kc,
                                   float* dst) {
  const std::int64_t plane = pr.g.H * pr.g.W;
  PanelRuns runs;
  for (std::int64_t q = 0; q < cols.count; q += kNR, dst += kNR * kc) {
    const int valid = static_cast<int>(std::min<std::int64_t>(kNR, cols.count - q));
    const float* base = pr.x + c0 * plane;
    if (find_runs(cols.in.data() + q, nullptr, valid, runs)) {
      for (std::int64_t k = 0; k < kc; ++k, base += plane) {
        float* d = dst + k * kNR;
#pragma GCC unroll 3
        for (int v = 0; v < 3; ++v) _mm512_store_ps(d + 16 * v, load_along_runs(runs, v, base, 0xFFFF));
      }
      continue;
    }
    __m512i in[3];
    __mmask16 lanes[3];
    for (int v = 0; v < 3; ++v) {
      in[v] = _mm512_loadu_si512(cols.in.data() + q + 16 * v);
      lanes[v] = lanes_below(valid, v);
    }
    for (std::int64_t k = 0; k < kc; ++k, base += plane) {
      float* d = dst + k * kNR;
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v)
        _mm512_store_ps(d + 16 * v, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes[v], in[v], base, 4));
    }
  }
}

// Adds the m x n tile `tile` (row stride kNR) into y at the columns'
// offsets `out`: along runs when `runs` is given, else one by one. All the
// tile's loads from y come before its stores: a masked load that overlaps a
// masked store still in flight waits for it (measured: scatter_add took
// 9% of conv3_2's per-tap forward with load-add-store per piece).
SCEALD_TARGET_AVX512 void scatter_add(const float* tile, int m, int n, const std::int32_t* out,
                                      const PanelRuns* runs, std::int64_t row_stride, float* y) {
  if (!runs) {
    for (int i = 0; i < m; ++i)
      for (int w = 0; w < n; ++w) y[i * row_stride + out[w]] += tile[i * kNR + w];
    return;
  }
  alignas(64) float sums[kMR][kMaxPieces][16];
  for (int i = 0; i < m; ++i) {
    const float* row = y + i * row_stride;
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) {
      const __m512 add = _mm512_load_ps(tile + i * kNR + 16 * v);
      for (int p = runs->first[v]; p < runs->first[v + 1]; ++p) {
        const PanelRuns::Piece& piece = runs->pieces[p];
        _mm512_store_ps(sums[i][p], _mm512_add_ps(_mm512_maskz_loadu_ps(piece.lanes, row + piece.base + 16 * v), add));
      }
    }
  }
  for (int i = 0; i < m; ++i) {
    float* row = y + i * row_stride;
    for (int v = 0; v < 3; ++v)
      for (int p = runs->first[v]; p < runs->first[v + 1]; ++p)
        _mm512_mask_storeu_ps(row + runs->pieces[p].base + 16 * v, runs->pieces[p].lanes, _mm512_load_ps(sums[i][p]));
  }
}

// One block of columns through every block of K.
void run_column_block(const Problem& pr, const MicroKernel<float>& uk, const std::vector<KBlock>& kblocks,
                      const float* pa, std::int64_t Mp, ImplicitOrder order, std::int64_t j0, std::int64_t j1,
                      float* pb, Columns& cols) {
  alignas(64) float tile[kMR * kNR];
  if (order == ImplicitOrder::Dense) dense_columns(pr, j0, j1, cols), cols.map_output_runs();
  std::int64_t tap = -1;
  for (const KBlock& kb : kblocks) {
    if (order != ImplicitOrder::Dense && kb.tap != tap) {
      tap = kb.tap;
      if (order == ImplicitOrder::PerTap)
        tap_columns(pr, j0, j1, tap, cols);
      else
        row_columns(pr, j0, j1, tap, cols);
      cols.map_output_runs();
    }
    if (cols.count == 0) continue;
    switch (order) {
      case ImplicitOrder::Dense: pack_dense(pr, cols, kb.k0, kb.kc, pb); break;
      case ImplicitOrder::PerKernelRow: pack_row(pr, cols, kb, pb); break;
      case ImplicitOrder::PerTap: pack_tap(pr, cols, kb.c0, kb.kc, pb); break;
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
          const auto t = static_cast<std::size_t>(jr / kNR);
          scatter_add(tile, m, n, out, cols.out_in_runs[t] ? &cols.out_runs[t] : nullptr, pr.P, y_rows);
        }
      }
    }
  }
}

// grad weight per tap: x and grad_y are first packed whole, image by image,
// into the GEMM's panel layouts ([channel panel][pixel][48] and
// [row panel][pixel][8]), so a column's values for one panel are adjacent:
// packing a tap's inside columns is then a copy of 48 (or 8) floats per
// column instead of a gather per channel.
SCEALD_TARGET_AVX512 void copy_panel_columns(const float* panels, const std::int32_t* offsets, std::int64_t count,
                                             int width, float* dst) {
  for (std::int64_t w = 0; w < count; ++w, dst += width) {
    const float* src = panels + std::int64_t{offsets[w]} * width;
    if (width == kMR) {
      _mm256_store_ps(dst, _mm256_loadu_ps(src));
    } else {
#pragma GCC unroll 3
      for (int v = 0; v < kNR / 16; ++v) _mm512_store_ps(dst + 16 * v, _mm512_loadu_ps(src + 16 * v));
    }
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
                             std::int64_t O, const ConvGeometry& g, float* y, ImplicitOrder order) {
  const MicroKernel<float>& uk = *gemm_detail::sgemm_kernel_avx512();
  Problem pr{x, weight, y, N, O, g, g.Ho * g.Wo, g.kh * g.kw, g.C * g.kh * g.kw, g.C * g.H * g.W, O * g.Ho * g.Wo};
  const std::int64_t Mp = ceil_div(O, kMR) * kMR, columns = N * pr.P;

  // Blocks of K, even in size (C = 520 gives 260 + 260, not 512 + 8).
  std::vector<KBlock> kblocks;
  auto split = [&](std::int64_t extent, auto&& add) {
    const std::int64_t parts = ceil_div(extent, kMaxKc);
    for (std::int64_t i = 0; i < parts; ++i) add(extent * i / parts, extent * (i + 1) / parts - extent * i / parts);
  };
  switch (order) {
    case ImplicitOrder::Dense:
      split(pr.K, [&](std::int64_t k0, std::int64_t kc) { kblocks.push_back({k0, kc, 0, 0, 0}); });
      break;
    case ImplicitOrder::PerKernelRow:
      // Channel blocks sized so that kw channels stay within kMaxKc.
      for (std::int64_t ky = 0; ky < g.kh; ++ky) {
        const std::int64_t parts = ceil_div(g.C * g.kw, kMaxKc);
        for (std::int64_t i = 0; i < parts; ++i) {
          const std::int64_t c0 = g.C * i / parts, channels = g.C * (i + 1) / parts - c0;
          kblocks.push_back({(ky * g.C + c0) * g.kw, channels * g.kw, ky, c0, channels});
        }
      }
      break;
    case ImplicitOrder::PerTap:
      for (std::int64_t t = 0; t < pr.T; ++t)
        split(g.C, [&](std::int64_t c0, std::int64_t kc) { kblocks.push_back({t * g.C + c0, kc, t, c0, kc}); });
      break;
  }

  // Blocks of columns: the packed B block (kc x nc) fills at most about
  // half of L2, and the threads get near-equal shares: the widest block (in
  // tiles of 48) whose busiest thread has at most 3% more than an equal
  // share. VGG16's conv5 at 48x48 batch 64 has 12 tiles, which blocks of 5
  // split 10 : 2 between two threads and blocks of 3 split 6 : 6; conv4's 48
  // tiles split 25 : 23 in blocks of 5, 24 : 24 in blocks of 4 (bench_conv
  // fwd, 2 threads: conv5_2 12.6 -> 11.2 ms, conv4_1 27.8 -> 24.0 ms).
  const int threads = max_threads();
  std::int64_t kc_max = 0;
  for (const KBlock& kb : kblocks) kc_max = std::max(kc_max, kb.kc);
  const std::int64_t l2 = std::clamp<std::int64_t>(static_cast<std::int64_t>(cpu_features().l2_bytes), 256 << 10,
                                                   4 << 20);
  const std::int64_t tiles = ceil_div(columns, kNR);
  const std::int64_t max_block_tiles = std::clamp<std::int64_t>(l2 / 2 / (kc_max * 4) / kNR, 1, tiles);
  const std::int64_t equal_share = ceil_div(tiles, threads);
  std::int64_t block_tiles = max_block_tiles, busiest = -1;
  for (std::int64_t b = max_block_tiles; b >= 1; --b) {
    const std::int64_t load = ceil_div(ceil_div(tiles, b), threads) * b;
    if (busiest < 0 || load < busiest) busiest = load, block_tiles = b;
    if (load * 100 <= equal_share * 103) break;
  }
  const std::int64_t nc = block_tiles * kNR, column_blocks = ceil_div(columns, nc);

  float* pa = thread_workspace<float>(WorkspaceSlot::GemmPackA, static_cast<std::size_t>(Mp * pr.K + 64));
  const std::int64_t panels = Mp / kMR;
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
    // y starts as the bias; every block of K adds into it.
#pragma omp for schedule(static)
    for (std::int64_t r = 0; r < N * O; ++r)
      std::fill(y + r * pr.P, y + (r + 1) * pr.P, bias ? bias[r % O] : 0.0f);
    // The weight, packed once: block b's panels at pa + k0 Mp. Element
    // (o, c) of tap t is weight[o K + c T + t]; per kernel row, a panel is
    // kw runs of the block's channels, one per tap of the row.
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(kblocks.size()) * panels; ++i) {
      const KBlock& kb = kblocks[static_cast<std::size_t>(i / panels)];
      const std::int64_t r0 = i % panels * kMR, m = std::min<std::int64_t>(kMR, O - r0);
      float* dst = pa + kb.k0 * Mp + r0 * kb.kc;
      const float* w = weight + r0 * pr.K;
      switch (order) {
        case ImplicitOrder::Dense: uk.pack_a(w + kb.k0, pr.K, 1, m, kb.kc, dst); break;
        case ImplicitOrder::PerKernelRow:
          for (std::int64_t kx = 0; kx < g.kw; ++kx)
            uk.pack_a(w + kb.c0 * pr.T + kb.tap * g.kw + kx, pr.K, pr.T, m, kb.channels,
                      dst + kx * kb.channels * kMR);
          break;
        case ImplicitOrder::PerTap: uk.pack_a(w + kb.c0 * pr.T + kb.tap, pr.K, pr.T, m, kb.kc, dst); break;
      }
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
        run_column_block(pr, uk, kblocks, pa, Mp, order, b * nc, std::min(columns, (b + 1) * nc), pb, cols);
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
  const std::int64_t P = g.Ho * g.Wo, plane = g.H * g.W, T = g.kh * g.kw, K = g.C * T;
  const std::int64_t row_panels = ceil_div(O, kMR), channel_panels = ceil_div(g.C, kNR);
  // Offsets in units of one panel row: grad_y's panel r of image n, pixel p
  // at ((n row_panels + r) P + p) 8; x's panel q of image n, pixel i at
  // ((n channel_panels + q) H W + i) 48. tap_columns gives `out` = n
  // row_panels P + p and `in` = n channel_panels H W + i with these strides.
  Problem pr{x, nullptr, nullptr, N, O, g, P, T, K, channel_panels * plane, row_panels * P};
  const std::int64_t columns = N * P;
  constexpr std::int64_t kJc = 512;  // columns summed per packed block

  float* grad_y_panels =
      thread_workspace<float>(WorkspaceSlot::ConvStaging, static_cast<std::size_t>(N * row_panels * P * kMR + 64));
  float* x_panels = thread_workspace<float>(WorkspaceSlot::ConvColumns,
                                           static_cast<std::size_t>(N * channel_panels * plane * kNR + 64));
  // The result in tap-major order [O][T][C], contiguous along C for each
  // tap, permuted into [O][C][T] at the end.
  float* tap_major = thread_workspace<float>(WorkspaceSlot::ConvWeightTapMajor, static_cast<std::size_t>(O * K));
  const int threads = static_cast<int>(std::min<std::int64_t>(max_threads(), row_panels));
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
#pragma omp for schedule(static) nowait
    for (std::int64_t n = 0; n < N; ++n)
      uk.pack_a(grad_y + n * O * P, P, 1, O, P, grad_y_panels + n * row_panels * P * kMR);
#pragma omp for schedule(static)
    for (std::int64_t n = 0; n < N; ++n)
      uk.pack_b(x + n * g.C * plane, plane, 1, g.C, plane, x_panels + n * channel_panels * plane * kNR);

    // Each thread takes its own rows of the result (whole panels of 8) for
    // every tap and channel: no two threads write the same element, and
    // nothing is shared but the read-only panels above.
#ifdef _OPENMP
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
#else
    const int t = 0, team = 1;
#endif
    const std::int64_t p0 = row_panels * t / team, p1 = row_panels * (t + 1) / team;
    const std::int64_t r_begin = p0 * kMR, r_end = std::min(O, p1 * kMR), rows = (p1 - p0) * kMR;
    try {
      if (r_end > r_begin) {
        float* pa = thread_workspace<float>(WorkspaceSlot::GemmPackA, static_cast<std::size_t>(rows * kJc + 64));
        float* pb = thread_workspace<float>(WorkspaceSlot::GemmPackB, static_cast<std::size_t>(kNR * kJc + 64));
        Columns cols;
        cols.resize(columns);
        for (std::int64_t tap = 0; tap < T; ++tap) {
          tap_columns(pr, 0, columns, tap, cols);
          float* out = tap_major + tap * g.C;  // element (o, c) at out[o K + c]
          if (cols.count == 0)
            for (std::int64_t o = r_begin; o < r_end; ++o) std::fill(out + o * K, out + o * K + g.C, 0.0f);
          for (std::int64_t w0 = 0; w0 < cols.count; w0 += kJc) {
            const std::int64_t kc = std::min(kJc, cols.count - w0);
            for (std::int64_t p = p0; p < p1; ++p)
              copy_panel_columns(grad_y_panels + p * P * kMR, cols.out.data() + w0, kc, kMR,
                                 pa + (p - p0) * kMR * kc);
            for (std::int64_t q = 0; q < channel_panels; ++q) {
              copy_panel_columns(x_panels + q * plane * kNR, cols.in.data() + w0, kc, kNR, pb);
              const int n = static_cast<int>(std::min<std::int64_t>(kNR, g.C - q * kNR));
              for (std::int64_t r0 = r_begin; r0 < r_end; r0 += kMR)
                uk.compute(kc, pa + (r0 - r_begin) * kc, pb, out + r0 * K + q * kNR, K,
                           static_cast<int>(std::min<std::int64_t>(kMR, r_end - r0)), n, 1.0f,
                           w0 == 0 ? 0.0f : 1.0f);
            }
          }
        }
      }
    } catch (...) {
#pragma omp critical(sceald_conv_implicit_error)
      if (!error) error = std::current_exception();
    }
#pragma omp barrier
    // [O][T][C] -> [O][C][T].
    if (!error) {
#pragma omp for schedule(static)
      for (std::int64_t o = 0; o < O; ++o)
        for (std::int64_t tap = 0; tap < T; ++tap)
          for (std::int64_t c = 0; c < g.C; ++c)
            grad_weight[(o * g.C + c) * T + tap] = tap_major[o * K + tap * g.C + c];
    }
  }
  if (error) std::rethrow_exception(error);
}

#else

bool implicit_conv_available(std::int64_t, std::int64_t, const ConvGeometry&) { return false; }
void conv2d_forward_implicit(const float*, const float*, const float*, std::int64_t, std::int64_t,
                             const ConvGeometry&, float*, ImplicitOrder) {}
void conv2d_backward_weight_implicit(const float*, const float*, std::int64_t, std::int64_t, const ConvGeometry&,
                                     float*) {}

#endif

}  // namespace sceald::kernels::cpu
