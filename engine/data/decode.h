// Decoding JPEG (libjpeg-turbo's TurboJPEG) and PNG (libspng) files into
// 8-bit grey or RGB Images. The format is chosen by the first bytes, never by
// the file name.
//
// want_channels: 0 keeps what the file stores (grey files give 1 channel,
// everything else 3), 1 gives grey (RGB converted with the ITU-R 601 weights,
// see rgb_to_grey), 3 gives RGB (grey repeated). PNGs of every colour type and
// bit depth are accepted: 16-bit samples keep their high byte, palettes are
// expanded, alpha is dropped (not composited), gamma chunks are ignored.
//
// Safety: the size in the header is checked before anything is allocated;
// an image wider or taller than kMaxImageSide or with more than
// kMaxImagePixels pixels (image.h) is refused with an error naming the file
// and the size. Truncated or corrupt data gives a sceald::Error naming the
// file and the decoder's reason, never a crash. libjpeg warnings (a truncated
// scan, say) count as errors: a half-decoded image is not returned. CMYK
// JPEGs are refused. Safe to call from several threads at once (one
// TurboJPEG handle per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/data/image.h"

namespace sceald::data {

Image decode_image(const std::string& path, int want_channels = 0);
// The same for bytes already in memory; `name` stands for the source in errors.
Image decode_image_bytes(const std::uint8_t* data, std::size_t size, const std::string& name, int want_channels = 0);

}  // namespace sceald::data
