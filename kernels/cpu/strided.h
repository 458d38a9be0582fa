// Walking strided layouts: copies between any two layouts of one shape, with
// conversion between element types. Pointers are to the first element;
// strides are in elements. No allocation.
#pragma once

#include <cstdint>
#include <vector>

namespace sceald::kernels::cpu {

// Calls f(src_offset, dst_offset) for every index of `shape`, row-major.
template <typename F>
void for_each_index2(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& a_strides,
                     const std::vector<std::int64_t>& b_strides, F&& f) {
  const std::size_t nd = shape.size();
  for (std::int64_t e : shape)
    if (e == 0) return;
  if (nd == 0) {
    f(std::int64_t{0}, std::int64_t{0});
    return;
  }
  std::vector<std::int64_t> idx(nd, 0);
  std::int64_t a = 0, b = 0;
  const std::int64_t inner = shape[nd - 1], sa = a_strides[nd - 1], sb = b_strides[nd - 1];
  while (true) {
    for (std::int64_t i = 0; i < inner; ++i) f(a + i * sa, b + i * sb);
    // advance the outer index (odometer)
    std::size_t d = nd - 1;
    while (true) {
      if (d == 0) return;
      --d;
      ++idx[d];
      a += a_strides[d];
      b += b_strides[d];
      if (idx[d] < shape[d]) break;
      a -= a_strides[d] * shape[d];
      b -= b_strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

template <typename Src, typename Dst>
void copy_strided(const Src* src, const std::vector<std::int64_t>& src_strides, Dst* dst,
                  const std::vector<std::int64_t>& dst_strides, const std::vector<std::int64_t>& shape) {
  for_each_index2(shape, src_strides, dst_strides,
                  [&](std::int64_t s, std::int64_t d) { dst[d] = static_cast<Dst>(src[s]); });
}

}  // namespace sceald::kernels::cpu
