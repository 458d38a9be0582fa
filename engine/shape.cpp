#include "engine/shape.h"

#include <limits>

#include "engine/error.h"

namespace sceald {

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (std::int64_t e : shape) {
    SCEALD_CHECK(e >= 0, "negative extent ", e, " in shape ", shape_str(shape));
    if (e != 0 && n > std::numeric_limits<std::int64_t>::max() / e)
      throw Error("shape " + shape_str(shape) + " has more elements than int64 can count");
    n *= e;
  }
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  std::int64_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
  return strides;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int normalize_axis(std::int64_t axis, std::int64_t dim, const char* op) {
  std::int64_t a = axis < 0 ? axis + dim : axis;
  SCEALD_CHECK(a >= 0 && a < dim, op, ": axis ", axis, " is out of range for a tensor of ", dim, " dimensions");
  return static_cast<int>(a);
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t ea = i < n - a.size() ? 1 : a[i - (n - a.size())];
    std::int64_t eb = i < n - b.size() ? 1 : b[i - (n - b.size())];
    SCEALD_CHECK(ea == eb || ea == 1 || eb == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
                 " cannot be broadcast together (axis ", i, ": ", ea, " vs ", eb, ")");
    out[i] = ea == 1 ? eb : ea;
  }
  return out;
}

}  // namespace sceald
