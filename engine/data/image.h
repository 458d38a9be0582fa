// Image: 8-bit pixels in memory, grey (1 channel) or RGB (3 channels), stored
// HWC row-major: the byte of channel c at column x, row y is
// pixels[(y * width + x) * channels + c]. What decoders produce and what
// transforms take and return; a float tensor is made only at the end
// (image_to_tensor in transforms.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sceald::data {

// The largest image the engine handles: decoders refuse larger headers before
// allocating, and resize refuses larger outputs.
inline constexpr int kMaxImageSide = 16384;
inline constexpr std::int64_t kMaxImagePixels = std::int64_t{64} << 20;  // 64 Mpixel

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  // 1 (grey) or 3 (RGB)
  std::vector<std::uint8_t> pixels;

  Image() = default;
  // A zero-filled image; throws on a channel count other than 1 or 3 or a
  // negative size.
  Image(int width, int height, int channels);

  bool empty() const { return width == 0 || height == 0; }
  std::size_t row_bytes() const { return static_cast<std::size_t>(width) * static_cast<std::size_t>(channels); }
  std::size_t index(int x, int y, int c) const {
    return (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) *
               static_cast<std::size_t>(channels) +
           static_cast<std::size_t>(c);
  }
  std::uint8_t& at(int x, int y, int c = 0) { return pixels[index(x, y, c)]; }
  std::uint8_t at(int x, int y, int c = 0) const { return pixels[index(x, y, c)]; }
  std::string str() const;  // "48x48 grey", "640x480 RGB"

  bool operator==(const Image&) const = default;
};

// Throws unless channels is 1 or 3 and pixels holds width*height*channels
// bytes; `what` names the caller in the message.
void check_image(const Image& image, const char* what);

// ITU-R BT.601 luma in 16-bit fixed point with rounding,
// (19595 R + 38470 G + 7471 B + 32768) >> 16: the same numbers as PIL's
// convert("L"). A grey image is returned as a copy.
Image rgb_to_grey(const Image& image);
// Each grey value repeated in R, G and B. An RGB image is returned as a copy.
Image grey_to_rgb(const Image& image);
// The image with `channels` (1 or 3) channels, converting as above when needed.
Image convert_channels(const Image& image, int channels);

}  // namespace sceald::data
