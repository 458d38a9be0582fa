#include "engine/data/image.h"

#include "engine/error.h"

namespace sceald::data {

Image::Image(int w, int h, int c) : width(w), height(h), channels(c) {
  SCEALD_CHECK(c == 1 || c == 3, "Image: channels must be 1 (grey) or 3 (RGB), got ", c);
  SCEALD_CHECK(w >= 0 && h >= 0, "Image: negative size ", w, "x", h);
  pixels.assign(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * static_cast<std::size_t>(c), 0);
}

std::string Image::str() const {
  const char* kind = channels == 1 ? "grey" : channels == 3 ? "RGB" : "?";
  return str_cat(width, "x", height, " ", kind);
}

void check_image(const Image& image, const char* what) {
  SCEALD_CHECK(image.channels == 1 || image.channels == 3, what, ": image channels must be 1 or 3, got ",
               image.channels);
  SCEALD_CHECK(image.width >= 0 && image.height >= 0, what, ": negative image size ", image.width, "x", image.height);
  const std::size_t expected = image.row_bytes() * static_cast<std::size_t>(image.height);
  SCEALD_CHECK(image.pixels.size() == expected, what, ": image ", image.str(), " needs ", expected,
               " bytes of pixels, has ", image.pixels.size());
}

Image rgb_to_grey(const Image& image) {
  check_image(image, "rgb_to_grey");
  if (image.channels == 1) return image;
  Image out(image.width, image.height, 1);
  const std::uint8_t* src = image.pixels.data();
  const std::size_t n = out.pixels.size();
  for (std::size_t i = 0; i < n; ++i, src += 3) {
    const std::uint32_t luma = 19595u * src[0] + 38470u * src[1] + 7471u * src[2] + 32768u;
    out.pixels[i] = static_cast<std::uint8_t>(luma >> 16);
  }
  return out;
}

Image grey_to_rgb(const Image& image) {
  check_image(image, "grey_to_rgb");
  if (image.channels == 3) return image;
  Image out(image.width, image.height, 3);
  std::uint8_t* dst = out.pixels.data();
  for (std::uint8_t v : image.pixels) {
    *dst++ = v;
    *dst++ = v;
    *dst++ = v;
  }
  return out;
}

Image convert_channels(const Image& image, int channels) {
  SCEALD_CHECK(channels == 1 || channels == 3, "convert_channels: channels must be 1 or 3, got ", channels);
  return channels == 1 ? rgb_to_grey(image) : grey_to_rgb(image);
}

}  // namespace sceald::data
