// The affine warp against analytic values (identity, quarter turns,
// whole-pixel shifts, a 2x zoom whose samples fall between pixel centres,
// zero fill outside), its seeded draws, and random erasing (a rectangle of
// zeros within torchvision's area and ratio bounds, or nothing).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/data/augment.h"
#include "engine/data/transforms.h"
#include "tests/data/dataset_fixtures.h"

namespace sceald::data {
namespace {

using testing::throws_with;

Image numbered(int width, int height, int channels) {
  Image im(width, height, channels);
  for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<std::uint8_t>((i * 7 + 3) % 251);
  return im;
}

TEST(AffineWarp, IdentityIsACopy) {
  for (int channels : {1, 3}) {
    const Image im = numbered(9, 6, channels);
    EXPECT_EQ(affine_warp(im, {}), im);
  }
}

// A quarter turn maps pixel centres onto pixel centres: counter-clockwise as
// seen, out(x, y) = in(n - 1 - y, x), numpy's rot90; a half turn is both flips.
TEST(AffineWarp, QuarterTurnsArePermutations) {
  const int n = 8;
  const Image im = numbered(n, n, 1);
  const Image turned = affine_warp(im, {.angle_degrees = 90});
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) ASSERT_EQ(turned.at(x, y), im.at(n - 1 - y, x)) << x << "," << y;
  const Image half = affine_warp(im, {.angle_degrees = 180});
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) ASSERT_EQ(half.at(x, y), im.at(n - 1 - x, n - 1 - y)) << x << "," << y;
}

TEST(AffineWarp, WholePixelShiftsMoveTheImageAndFillWithZeros) {
  const Image im = numbered(7, 5, 3);
  const Image shifted = affine_warp(im, {.translate_x = 2, .translate_y = -1});
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x)
      for (int c = 0; c < 3; ++c) {
        const int sx = x - 2, sy = y + 1;
        const int want = sx >= 0 && sy < 5 ? im.at(sx, sy, c) : 0;
        ASSERT_EQ(shifted.at(x, y, c), want) << x << "," << y << "," << c;
      }
}

// Scale 2 about the centre of a 4x4 image: output pixel centre x + 0.5 comes
// from 2 + (x + 0.5 - 2) / 2, i.e. pixel index 0.75 + x / 2, between
// centres: bilinear weights 0.25/0.75 along each axis.
TEST(AffineWarp, ZoomInterpolatesBilinearly) {
  Image im(4, 4, 1);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) im.at(x, y) = static_cast<std::uint8_t>(10 * x + 40 * y);
  const Image zoomed = affine_warp(im, {.scale = 2});
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      // A linear ramp is reproduced exactly by bilinear interpolation.
      const double sx = 0.75 + x / 2.0, sy = 0.75 + y / 2.0;
      ASSERT_EQ(zoomed.at(x, y), static_cast<int>(std::floor(10 * sx + 40 * sy + 0.5))) << x << "," << y;
    }
  // Shrinking pulls in zeros from outside: the corner pixel samples index -1.5.
  const Image shrunk = affine_warp(im, {.scale = 0.5});
  EXPECT_EQ(shrunk.at(0, 0), 0);
  EXPECT_TRUE(throws_with([&] { affine_warp(im, {.scale = 0}); }, {"scale must be positive"}));
}

TEST(AffineWarp, DrawsComeFromTheGeneratorInOrder) {
  const AffineJitter jitter{.rotate_degrees = 10, .scale_jitter = 0.1, .translate_fraction = 0.125};
  Generator g(5), h(5);
  const AffineParams p = draw_affine(jitter, 48, 32, g);
  EXPECT_DOUBLE_EQ(p.angle_degrees, (2 * h.next_uniform() - 1) * 10);
  EXPECT_DOUBLE_EQ(p.scale, 1 + (2 * h.next_uniform() - 1) * 0.1);
  EXPECT_DOUBLE_EQ(p.translate_x, (2 * h.next_uniform() - 1) * 6);
  EXPECT_DOUBLE_EQ(p.translate_y, (2 * h.next_uniform() - 1) * 4);
  EXPECT_EQ(g.offset(), h.offset());
  EXPECT_FALSE(AffineJitter{}.active());
  EXPECT_TRUE(jitter.active());
}

TEST(RandomErase, ARectangleOfZerosWithinTheBoundsOrNothing) {
  const int C = 2, H = 24, W = 20;
  int erased = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    std::vector<float> img(C * H * W, 1.0f);
    Generator g(seed);
    const bool did = random_erase(img.data(), C, H, W, 0.5, g);
    EXPECT_LE(g.offset(), 1u + 4u * kEraseAttempts);
    // Bounding box of the zeros in channel 0; every channel erased alike.
    int top = H, bottom = -1, left = W, right = -1, zeros = 0;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        if (img[y * W + x] == 0.0f) {
          ++zeros;
          top = std::min(top, y), bottom = std::max(bottom, y), left = std::min(left, x), right = std::max(right, x);
          ASSERT_EQ(img[H * W + y * W + x], 0.0f);
        }
    if (!did) {
      EXPECT_EQ(zeros, 0);
      continue;
    }
    ++erased;
    const int h = bottom - top + 1, w = right - left + 1;
    EXPECT_EQ(zeros, h * w) << "a rectangle";
    EXPECT_LT(h, H);
    EXPECT_LT(w, W);
    // round() of the drawn sides: the area within the drawn fraction's bounds, loosened by the rounding.
    EXPECT_GE((h + 1.0) * (w + 1.0), 0.02 * H * W);
    EXPECT_LE((h - 1.0) * (w - 1.0), 0.33 * H * W);
  }
  EXPECT_GT(erased, 60);
  EXPECT_LT(erased, 140);
  std::vector<float> img(C * H * W, 1.0f);
  Generator g(1);
  EXPECT_FALSE(random_erase(img.data(), C, H, W, 0.0, g));
}

}  // namespace
}  // namespace sceald::data
