#include "kernels/cuda/strided_layout.h"

namespace sceald::kernels::cuda {

bool make_strided_layout(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& a_strides,
                         const std::vector<std::int64_t>& b_strides, StridedLayout& out) {
  std::vector<std::int64_t> s, sa, sb;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    // Merge with the previous kept axis when both views step over it contiguously.
    if (!s.empty() && sa.back() == a_strides[d] * shape[d] && sb.back() == b_strides[d] * shape[d]) {
      s.back() *= shape[d];
      sa.back() = a_strides[d];
      sb.back() = b_strides[d];
      continue;
    }
    s.push_back(shape[d]);
    sa.push_back(a_strides[d]);
    sb.push_back(b_strides[d]);
  }
  if (s.size() > static_cast<std::size_t>(kMaxDims)) return false;
  out = StridedLayout{};
  out.dims = static_cast<int>(s.size());
  for (std::size_t d = 0; d < s.size(); ++d) {
    out.shape[d] = s[d];
    out.a[d] = sa[d];
    out.b[d] = sb[d];
  }
  return true;
}

}  // namespace sceald::kernels::cuda
