// Internals of the blocked GEMM (kernels/cpu/gemm.h), shared by the driver
// and the per-ISA micro-kernel files. Not part of the public kernel API.
//
// The design is GotoBLAS/BLIS, written for row-major C:
//
//   for ic in M by mc:                 A block  (mc x kc, packed; lives in L3)
//     for pc in K by kc:
//       pack op(A)[ic.., pc..] into MR-row micro-panels
//       for jc in N by nc:             B block  (kc x nc, packed; lives in L2)
//         pack op(B)[pc.., jc..] into NR-column micro-panels
//         for ir in mc by MR:          A micro-panel (MR x kc; stays in L1)
//           for jr in nc by NR:        B micro-panels stream from L2
//             C[ir.., jr..] (MR x NR) = alpha * Apanel * Bpanel + beta' * C
//
// Packing handles op() (so the four transpose cases cost the same) and pads
// partial panels with zeros; the micro-kernel always computes a full MR x NR
// tile in registers and writes only the valid m x n corner. beta' is the
// caller's beta for the first kc block and 1 after it.
#pragma once

#include <cstdint>
#include <cstring>

namespace sceald::kernels::cpu::gemm_detail {

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Packs `rows` rows of a block into ceil(rows / W) micro-panels of W rows each:
// panel p holds rows p*W .. p*W+W-1 laid out [k][w] (W consecutive values per
// k), so dst[p * W * kc + k * W + w] = element (p*W + w, k); rows past `rows`
// are zero. Element (r, k) of the source is at src[r * rs + k * ks]. For A,
// rows are the rows of op(A); for B, rows are the columns of op(B).
template <typename T>
using PackFn = void (*)(const T* src, std::int64_t rs, std::int64_t ks, std::int64_t rows, std::int64_t kc, T* dst);

// Computes the MR x NR product of one A micro-panel (MR x kc, [k][r]) and one
// B micro-panel (kc x NR, [k][c]) and writes alpha * product + beta * C into
// the top-left m x n corner of the tile at c (row stride ldc), m <= MR and
// n <= NR. beta == 0 must not read C.
template <typename T>
using MicroFn = void (*)(std::int64_t kc, const T* a, const T* b, T* c, std::int64_t ldc, int m, int n, T alpha,
                         T beta);

template <typename T>
struct MicroKernel {
  const char* name;
  int mr;  // rows of the C tile: A micro-panel width
  int nr;  // columns of the C tile: B micro-panel width
  PackFn<T> pack_a;
  PackFn<T> pack_b;
  MicroFn<T> compute;
};

// Plain packing, any W; the per-ISA files use it for what they do not
// vectorise.
template <typename T>
void pack_panels_generic(const T* src, std::int64_t rs, std::int64_t ks, std::int64_t rows, std::int64_t kc,
                         T* dst, int W) {
  for (std::int64_t r0 = 0; r0 < rows; r0 += W, dst += W * kc) {
    const int w_valid = rows - r0 < W ? static_cast<int>(rows - r0) : W;
    const T* s = src + r0 * rs;
    if (rs == 1) {
      // W consecutive values per k: a row copy.
      for (std::int64_t k = 0; k < kc; ++k) {
        const T* sk = s + k * ks;
        T* d = dst + k * W;
        for (int w = 0; w < w_valid; ++w) d[w] = sk[w];
        for (int w = w_valid; w < W; ++w) d[w] = T(0);
      }
    } else {
      // Transposing gather: read each source row contiguously along k.
      if (w_valid < W) std::memset(static_cast<void*>(dst), 0, sizeof(T) * W * kc);
      for (int w = 0; w < w_valid; ++w) {
        const T* sr = s + w * rs;
        for (std::int64_t k = 0; k < kc; ++k) dst[k * W + w] = sr[k * ks];
      }
    }
  }
}

// The micro-kernels of each path. The AVX ones return nullptr when the
// compiler could not build them (non-x86 targets).
const MicroKernel<float>* sgemm_kernel_avx512();
const MicroKernel<float>* sgemm_kernel_avx2();
const MicroKernel<float>* sgemm_kernel_portable();
const MicroKernel<double>* dgemm_kernel_portable();

// The blocked, threaded driver. Requires M, N, K > 0 and alpha != 0; the
// public entry points handle the degenerate cases.
template <typename T>
void gemm_blocked(const MicroKernel<T>& kernel, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N,
                  std::int64_t K, T alpha, const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C,
                  std::int64_t ldc);

}  // namespace sceald::kernels::cpu::gemm_detail
