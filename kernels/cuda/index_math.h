// The index arithmetic of the gathering backward kernels (pooling.cu,
// upsample.cu): which outputs read a given input. Host and device code, so
// that the tests check it on the CPU against brute force.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define SCEALD_INDEX_FN __host__ __device__ inline
#else
#define SCEALD_INDEX_FN inline
#endif

namespace sceald::kernels::cuda {

struct IndexRange {
  std::int64_t lo, hi;  // inclusive; empty when lo > hi
};

// Pooling windows o in [0, outs) start at o stride - pad and take taps
// i dilation, i in [0, kernel). Those that can cover input position `pos`
// satisfy o stride in [pos + pad - (kernel - 1) dilation, pos + pad]; a
// window in this range covers `pos` only if the tap lands exactly on it,
// which the caller's argmax test decides.
SCEALD_INDEX_FN IndexRange pool_windows_touching(std::int64_t pos, std::int64_t kernel, std::int64_t stride,
                                                 std::int64_t pad, std::int64_t dilation, std::int64_t outs) {
  const std::int64_t first = pos + pad - (kernel - 1) * dilation;
  const std::int64_t lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  std::int64_t hi = (pos + pad) / stride;
  if (hi > outs - 1) hi = outs - 1;
  return {lo, hi};
}

// Adaptive pooling bin i of `outs` over `ins` positions: [floor(i ins / outs), ceil((i + 1) ins / outs)).
SCEALD_INDEX_FN std::int64_t adaptive_start(std::int64_t i, std::int64_t ins, std::int64_t outs) {
  return i * ins / outs;
}
SCEALD_INDEX_FN std::int64_t adaptive_end(std::int64_t i, std::int64_t ins, std::int64_t outs) {
  return ((i + 1) * ins + outs - 1) / outs;
}
// The bins holding position `pos`: floor(pos outs / ins) <= i <= ceil((pos + 1) outs / ins) - 1.
SCEALD_INDEX_FN IndexRange adaptive_bins_holding(std::int64_t pos, std::int64_t ins, std::int64_t outs) {
  std::int64_t hi = ((pos + 1) * outs + ins - 1) / ins - 1;
  if (hi > outs - 1) hi = outs - 1;
  return {pos * outs / ins, hi};
}

// PyTorch's 'nearest' source of output `dst` (kernels::cpu::nearest_source_index):
// the same float32 arithmetic, rounded as on the CPU (no FMA contraction).
SCEALD_INDEX_FN std::int64_t nearest_source(std::int64_t dst, std::int64_t in, std::int64_t out) {
  if (out == in) return dst;
  if (out == 2 * in) return dst >> 1;
#if defined(__CUDA_ARCH__)
  const float scale = __fdiv_rn(static_cast<float>(in), static_cast<float>(out));
  const std::int64_t s = static_cast<std::int64_t>(floorf(__fmul_rn(static_cast<float>(dst), scale)));
#else
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const std::int64_t s = static_cast<std::int64_t>(std::floor(static_cast<float>(dst) * scale));
#endif
  return s < in - 1 ? s : in - 1;
}

// The first output whose source is >= s (sources never decrease along the
// outputs); `out` when there is none. The outputs copying input s are
// [first(s), first(s + 1)).
SCEALD_INDEX_FN std::int64_t first_output_at_or_after(std::int64_t s, std::int64_t in, std::int64_t out) {
  std::int64_t i = s * out / in;  // near the answer; the walks below settle it in a few steps
  if (i > out) i = out;
  while (i > 0 && nearest_source(i - 1, in, out) >= s) --i;
  while (i < out && nearest_source(i, in, out) < s) ++i;
  return i;
}

}  // namespace sceald::kernels::cuda
