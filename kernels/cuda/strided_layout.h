// Two strided views of one shape, for kernels that walk them together
// (broadcast element-wise ops, strided copies). Host-side helper; the struct
// travels to the device by value as a kernel argument.
#pragma once

#include <cstdint>
#include <vector>

namespace sceald::kernels::cuda {

constexpr int kMaxDims = 8;

struct StridedLayout {
  int dims = 0;                       // 0: a single element
  std::int64_t shape[kMaxDims] = {};  // extents, row-major
  std::int64_t a[kMaxDims] = {};      // strides of view a, in elements (0 on broadcast axes)
  std::int64_t b[kMaxDims] = {};      // strides of view b
};

// Builds the layout of views a and b over `shape`, dropping extent-1 axes and
// merging neighbours that both views step through contiguously, so fewer
// axes remain to decompose per element. Returns false when more than
// kMaxDims axes remain (the caller reports it).
bool make_strided_layout(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& a_strides,
                         const std::vector<std::int64_t>& b_strides, StridedLayout& out);

}  // namespace sceald::kernels::cuda
