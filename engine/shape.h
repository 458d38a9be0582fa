// Shapes and strides: small vectors of int64 with the helpers every op needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sceald {

using Shape = std::vector<std::int64_t>;

// Product of the extents, checked against int64 overflow.
std::int64_t shape_numel(const Shape& shape);
// Row-major (C-contiguous) strides in elements.
Shape contiguous_strides(const Shape& shape);
// "[2, 3, 4]"
std::string shape_str(const Shape& shape);
// Maps a possibly negative axis into [0, dim); throws naming `op` when out of range.
int normalize_axis(std::int64_t axis, std::int64_t dim, const char* op);
// NumPy broadcasting of two shapes; throws naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace sceald
