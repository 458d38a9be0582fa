// Encoding Images as PNG (libspng, lossless) and JPEG (TurboJPEG), for tests,
// tools and saved previews. Grey images give grey files, RGB images RGB files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/image.h"

namespace sceald::data {

// An 8-bit grey or RGB PNG holding exactly the image's pixels.
std::vector<std::uint8_t> encode_png(const Image& image);

// Writes encode_png(image) to `path` atomically (engine/io/atomic_file.h):
// readers see the old file or the whole new one. Errors name the path.
void write_png(const std::string& path, const Image& image);

// A baseline JPEG at `quality` (1..100), without chroma subsampling (4:4:4)
// so that colour edges survive; grey images give one-component JPEGs.
std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality);

}  // namespace sceald::data
