#include "engine/data/encode.h"

#include <spng.h>
#include <turbojpeg.h>

#include <cstdlib>
#include <memory>
#include <ostream>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace sceald::data {

namespace {

struct SpngDeleter {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};

void check_spng(int status, const char* stage) {
  SCEALD_CHECK(status == 0, "encode_png: ", stage, " failed: ", spng_strerror(status));
}

void check_encodable(const Image& image, const char* what) {
  check_image(image, what);
  SCEALD_CHECK(!image.empty(), what, ": cannot encode an empty image (", image.str(), ")");
}

// One compressor per thread; destroyed and made afresh after an error (a
// TurboJPEG handle that failed may keep failing).
struct CompressorSlot {
  tjhandle handle = nullptr;
  ~CompressorSlot() { reset(); }
  void reset() {
    if (handle) tjDestroy(handle);
    handle = nullptr;
  }
};
thread_local CompressorSlot tls_compressor;

}  // namespace

std::vector<std::uint8_t> encode_png(const Image& image) {
  check_encodable(image, "encode_png");
  std::unique_ptr<spng_ctx, SpngDeleter> ctx(spng_ctx_new(SPNG_CTX_ENCODER));
  SCEALD_CHECK(ctx, "encode_png: could not create a libspng encoder (out of memory?)");
  check_spng(spng_set_option(ctx.get(), SPNG_ENCODE_TO_BUFFER, 1), "setting buffer output");

  spng_ihdr ihdr{};
  ihdr.width = static_cast<std::uint32_t>(image.width);
  ihdr.height = static_cast<std::uint32_t>(image.height);
  ihdr.bit_depth = 8;
  ihdr.color_type = image.channels == 1 ? SPNG_COLOR_TYPE_GRAYSCALE : SPNG_COLOR_TYPE_TRUECOLOR;
  check_spng(spng_set_ihdr(ctx.get(), &ihdr), "setting the header");
  check_spng(spng_encode_image(ctx.get(), image.pixels.data(), image.pixels.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE),
             "encoding");

  std::size_t length = 0;
  int status = 0;
  void* buffer = spng_get_png_buffer(ctx.get(), &length, &status);
  check_spng(status, "getting the output");
  SCEALD_CHECK(buffer, "encode_png: libspng returned no output");
  const auto* bytes = static_cast<const std::uint8_t*>(buffer);
  std::vector<std::uint8_t> out(bytes, bytes + length);
  std::free(buffer);  // spng hands the buffer over; it was allocated with malloc
  return out;
}

void write_png(const std::string& path, const Image& image) {
  const std::vector<std::uint8_t> png = encode_png(image);
  io::write_file_atomically(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  });
}

std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality) {
  check_encodable(image, "encode_jpeg");
  SCEALD_CHECK(quality >= 1 && quality <= 100, "encode_jpeg: quality must be in 1..100, got ", quality);
  if (!tls_compressor.handle) {
    tls_compressor.handle = tjInitCompress();
    SCEALD_CHECK(tls_compressor.handle,
                 "encode_jpeg: could not create a TurboJPEG compressor: ", tjGetErrorStr2(nullptr));
  }
  unsigned char* buffer = nullptr;
  unsigned long length = 0;
  const bool grey = image.channels == 1;
  if (tjCompress2(tls_compressor.handle, image.pixels.data(), image.width, 0, image.height, grey ? TJPF_GRAY : TJPF_RGB,
                  &buffer, &length, grey ? TJSAMP_GRAY : TJSAMP_444, quality, 0) != 0) {
    std::string reason = tjGetErrorStr2(tls_compressor.handle);
    tjFree(buffer);
    tls_compressor.reset();
    throw Error(str_cat("encode_jpeg: compressing a ", image.str(), " image failed: ", reason));
  }
  std::vector<std::uint8_t> out(buffer, buffer + length);
  tjFree(buffer);
  return out;
}

}  // namespace sceald::data
