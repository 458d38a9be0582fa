#include "engine/data/augment.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/error.h"

namespace sceald::data {

Image affine_warp(const Image& image, const AffineParams& params) {
  check_image(image, "affine_warp");
  SCEALD_CHECK(params.scale > 0 && std::isfinite(params.scale), "affine_warp: scale must be positive, got ",
               params.scale);
  Image out(image.width, image.height, image.channels);
  const double a = params.angle_degrees * std::numbers::pi / 180.0;
  const double cos_a = std::cos(a) / params.scale, sin_a = std::sin(a) / params.scale;
  const double cx = image.width / 2.0, cy = image.height / 2.0;
  const int C = image.channels;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const double dx = x + 0.5 - cx - params.translate_x, dy = y + 0.5 - cy - params.translate_y;
      // The source point in pixel-index coordinates (pixel centres at integers).
      const double sx = cx + cos_a * dx - sin_a * dy - 0.5, sy = cy + sin_a * dx + cos_a * dy - 0.5;
      const double fx = std::floor(sx), fy = std::floor(sy);
      const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
      const double wx = sx - fx, wy = sy - fy;
      for (int c = 0; c < C; ++c) {
        auto at = [&](int px, int py) -> double {
          return px < 0 || py < 0 || px >= image.width || py >= image.height ? 0.0 : image.at(px, py, c);
        };
        const double v = (1 - wy) * ((1 - wx) * at(x0, y0) + wx * at(x0 + 1, y0)) +
                         wy * ((1 - wx) * at(x0, y0 + 1) + wx * at(x0 + 1, y0 + 1));
        out.at(x, y, c) = static_cast<std::uint8_t>(std::clamp(std::floor(v + 0.5), 0.0, 255.0));
      }
    }
  }
  return out;
}

AffineParams draw_affine(const AffineJitter& j, int width, int height, Generator& g) {
  auto symmetric = [&](double half) { return (2.0 * g.next_uniform() - 1.0) * half; };
  AffineParams p;
  p.angle_degrees = symmetric(j.rotate_degrees);
  p.scale = 1.0 + symmetric(j.scale_jitter);
  p.translate_x = symmetric(j.translate_fraction * width);
  p.translate_y = symmetric(j.translate_fraction * height);
  return p;
}

bool random_erase(float* chw, int channels, int height, int width, double p, Generator& g) {
  if (g.next_uniform() >= p) return false;
  const double area = static_cast<double>(height) * width;
  const double log_lo = std::log(0.3), log_hi = std::log(3.3);
  for (int attempt = 0; attempt < kEraseAttempts; ++attempt) {
    const double erase_area = area * (0.02 + (0.33 - 0.02) * g.next_uniform());
    const double ratio = std::exp(log_lo + (log_hi - log_lo) * g.next_uniform());
    const int h = static_cast<int>(std::lround(std::sqrt(erase_area * ratio)));
    const int w = static_cast<int>(std::lround(std::sqrt(erase_area / ratio)));
    const std::uint64_t top_draw = g.next_below(std::uint64_t(std::max(1, height - h + 1)));
    const std::uint64_t left_draw = g.next_below(std::uint64_t(std::max(1, width - w + 1)));
    if (!(h > 0 && w > 0 && h < height && w < width)) continue;
    const int top = static_cast<int>(top_draw), left = static_cast<int>(left_draw);
    for (int c = 0; c < channels; ++c)
      for (int y = top; y < top + h; ++y)
        std::fill_n(chw + (static_cast<std::size_t>(c) * height + y) * width + left, w, 0.0f);
    return true;
  }
  return false;
}

}  // namespace sceald::data
