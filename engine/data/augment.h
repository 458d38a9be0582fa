// Geometric and occlusion augmentation beyond flip and crop (transforms.h):
// a random affine warp (rotation, scale and translation in one bilinear
// resampling) and random erasing, each drawn from the sample's own
// augmentation stream (loader.h), so a seed and an epoch give the same
// images for any number of loader workers.
//
// Affine geometry, in continuous pixel coordinates (pixel (x, y) covers
// [x, x+1) x [y, y+1), its centre at (x + 0.5, y + 0.5)), about the image
// centre c = (width / 2, height / 2):
//   out(p) = in(c + M^-1 (p - c - t)),   M = scale * [[cos a, sin a], [-sin a, cos a]]
// so a positive angle turns the content counter-clockwise as seen (y points
// down), as torchvision's RandomAffine does; t is the shift in pixels.
// Samples between pixel centres are bilinear; outside the image they are 0
// (like the zero padding of the random crop). Values are rounded to 8 bits.
//
// Random erasing follows torchvision's RandomErasing(p, scale=(0.02, 0.33),
// ratio=(0.3, 3.3), value=0) on the normalised CHW tensor: with probability
// p, up to kEraseAttempts draws of an area fraction and a log-uniform aspect
// ratio; the first rectangle that fits strictly inside the image is set to 0
// in every channel (the convention's mean grey for grey01); none fits: no
// erasing.
#pragma once

#include "engine/data/image.h"
#include "engine/rng.h"

namespace sceald::data {

struct AffineParams {
  double angle_degrees = 0;
  double scale = 1;
  double translate_x = 0;  // pixels, to the right
  double translate_y = 0;  // pixels, down
};

// The warp above; scale must be positive.
Image affine_warp(const Image& image, const AffineParams& params);

struct AffineJitter {
  double rotate_degrees = 0;      // angle uniform in [-d, d]
  double scale_jitter = 0;        // scale uniform in [1 - s, 1 + s]
  double translate_fraction = 0;  // each shift uniform in [-t, t] * the image's side
  bool active() const { return rotate_degrees > 0 || scale_jitter > 0 || translate_fraction > 0; }
};

// Four draws in this order: angle, scale, x shift, y shift.
AffineParams draw_affine(const AffineJitter& jitter, int width, int height, Generator& generator);

inline constexpr int kEraseAttempts = 10;

// Erases a rectangle of `chw` (channels planes of height x width floats) as
// described above; returns whether it did. One draw for p, then four per attempt.
bool random_erase(float* chw, int channels, int height, int width, double p, Generator& generator);

}  // namespace sceald::data
