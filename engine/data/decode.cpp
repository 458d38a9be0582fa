#include "engine/data/decode.h"

#include <spng.h>
#include <turbojpeg.h>

#include <cstring>
#include <memory>
#include <vector>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace sceald::data {

namespace {

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
// Ancillary chunks (text, ICC profiles) are not needed; cap what spng keeps.
constexpr std::size_t kPngChunkLimit = std::size_t{16} << 20;
constexpr std::size_t kPngChunkCacheLimit = std::size_t{64} << 20;
// Files are read whole; a 64-Mpixel RGB image stored raw takes 192 MiB.
constexpr std::uint64_t kMaxFileBytes = std::uint64_t{1} << 30;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw Error(str_cat("decode_image: ", name, ": ", what));
}

void check_want_channels(int want, const std::string& name) {
  if (want != 0 && want != 1 && want != 3)
    fail(name, str_cat("want_channels must be 0 (as stored), 1 (grey) or 3 (RGB), got ", want));
}

void check_dimensions(std::uint64_t width, std::uint64_t height, const char* format, const std::string& name) {
  if (width == 0 || height == 0)
    fail(name,
         str_cat("corrupt or truncated ", format, " header: it gives no image size (", width, " x ", height, ")"));
  if (width > kMaxImageSide || height > kMaxImageSide || width * height > static_cast<std::uint64_t>(kMaxImagePixels))
    fail(name, str_cat(format, " header claims ", width, " x ", height, " pixels; refused (the limit is ",
                       kMaxImageSide, " per side and ", kMaxImagePixels, " pixels in all)"));
}

Image finish(Image image, int want) { return want == 0 ? image : convert_channels(image, want); }

// ---- JPEG

// One decompressor per thread. libjpeg-turbo can keep failing on a handle
// that saw an error, so such a handle is destroyed and made afresh.
struct DecompressorSlot {
  tjhandle handle = nullptr;
  ~DecompressorSlot() { reset(); }
  void reset() {
    if (handle) tjDestroy(handle);
    handle = nullptr;
  }
};
thread_local DecompressorSlot tls_decompressor;

tjhandle decompressor() {
  if (!tls_decompressor.handle) {
    tls_decompressor.handle = tjInitDecompress();
    SCEALD_CHECK(tls_decompressor.handle,
                 "decode_image: could not create a TurboJPEG decompressor: ", tjGetErrorStr2(nullptr));
  }
  return tls_decompressor.handle;
}

[[noreturn]] void fail_jpeg(tjhandle tj, const std::string& name, const char* stage) {
  fail(name, str_cat("corrupt or truncated JPEG (", stage, "): ", tjGetErrorStr2(tj)));
}

Image decode_jpeg_with(tjhandle tj, const std::uint8_t* data, std::size_t size, const std::string& name, int want) {
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj, data, static_cast<unsigned long>(size), &width, &height, &subsampling, &colorspace) != 0)
    fail_jpeg(tj, name, "header");
  check_dimensions(static_cast<std::uint64_t>(width), static_cast<std::uint64_t>(height), "JPEG", name);
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK)
    fail(name, "CMYK JPEGs are not supported; convert the file to RGB");

  const int stored = colorspace == TJCS_GRAY ? 1 : 3;
  Image image(width, height, stored);
  // Warnings (a truncated scan, extraneous bytes) stop the decode; a bounded
  // number of progressive scans keeps a hostile file from taking minutes.
  const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
  if (tjDecompress2(tj, data, static_cast<unsigned long>(size), image.pixels.data(), width, 0, height,
                    stored == 1 ? TJPF_GRAY : TJPF_RGB, flags) != 0)
    fail_jpeg(tj, name, "image data");
  return finish(std::move(image), want);
}

Image decode_jpeg(const std::uint8_t* data, std::size_t size, const std::string& name, int want) {
  try {
    return decode_jpeg_with(decompressor(), data, size, name, want);
  } catch (...) {
    tls_decompressor.reset();  // whatever failed, the next file gets a fresh handle
    throw;
  }
}

// ---- PNG

struct SpngDeleter {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// A chunk type for messages; corrupt bytes show as '?'.
std::string chunk_type(const std::uint8_t* p) {
  std::string type(4, '?');
  for (int i = 0; i < 4; ++i)
    if ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z'))
      type[static_cast<std::size_t>(i)] = static_cast<char>(p[i]);
  return type;
}

// Walks the chunk lengths up to IEND: a file cut anywhere, even inside the
// final IEND chunk that spng does not read to its end, is refused by name.
void check_png_complete(const std::uint8_t* data, std::size_t size, const std::string& name) {
  std::size_t pos = 8;
  while (true) {
    if (size - pos < 12)
      fail(name, str_cat("truncated PNG: the file ends at byte ", size, " inside a chunk header at byte ", pos,
                         " (no IEND chunk)"));
    const std::uint32_t length = read_be32(data + pos);
    if (length > size - pos - 12)
      fail(name, str_cat("truncated PNG: the ", chunk_type(data + pos + 4), " chunk at byte ", pos, " needs ",
                         std::uint64_t{length} + 12, " bytes, the file has ", size - pos, " left"));
    if (std::memcmp(data + pos + 4, "IEND", 4) == 0) return;
    pos += 12 + std::size_t{length};
  }
}

void check_spng(int status, const std::string& name, const char* stage) {
  if (status != 0) fail(name, str_cat("corrupt or truncated PNG (", stage, "): ", spng_strerror(status)));
}

Image decode_png(const std::uint8_t* data, std::size_t size, const std::string& name, int want) {
  // The IHDR chunk sits right after the signature; reading its size here lets
  // the refusal name the size (spng's own limit check below only says "width").
  if (size >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0)
    check_dimensions(read_be32(data + 16), read_be32(data + 20), "PNG", name);
  check_png_complete(data, size, name);

  std::unique_ptr<spng_ctx, SpngDeleter> ctx(spng_ctx_new(0));
  SCEALD_CHECK(ctx, "decode_image: ", name, ": could not create a libspng context (out of memory?)");
  check_spng(spng_set_image_limits(ctx.get(), kMaxImageSide, kMaxImageSide), name, "limits");
  check_spng(spng_set_chunk_limits(ctx.get(), kPngChunkLimit, kPngChunkCacheLimit), name, "limits");
  check_spng(spng_set_png_buffer(ctx.get(), data, size), name, "buffer");

  spng_ihdr ihdr{};
  check_spng(spng_get_ihdr(ctx.get(), &ihdr), name, "header");
  check_dimensions(ihdr.width, ihdr.height, "PNG", name);

  const bool grey = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE || ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
  // spng converts to G8 only from grey of 8 bits or fewer; every other kind
  // goes through RGB8 (grey repeated, palette expanded, alpha dropped, 16-bit
  // samples reduced to their high byte).
  const bool direct_grey = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE && ihdr.bit_depth <= 8;
  const int fmt = direct_grey ? SPNG_FMT_G8 : SPNG_FMT_RGB8;
  std::size_t decoded_bytes = 0;
  check_spng(spng_decoded_image_size(ctx.get(), fmt, &decoded_bytes), name, "size");

  Image image(static_cast<int>(ihdr.width), static_cast<int>(ihdr.height), direct_grey ? 1 : 3);
  SCEALD_CHECK(decoded_bytes == image.pixels.size(), "decode_image: ", name, ": libspng wants ", decoded_bytes,
               " bytes for a ", image.str(), " image");
  check_spng(spng_decode_image(ctx.get(), image.pixels.data(), decoded_bytes, fmt, 0), name, "image data");
  // spng stops once the pixels are complete; reading on to IEND checks the
  // last data chunk's CRC and catches a file cut short after the pixels.
  check_spng(spng_decode_chunks(ctx.get()), name, "end of file");

  if (grey && !direct_grey) {
    Image g(image.width, image.height, 1);
    for (std::size_t i = 0; i < g.pixels.size(); ++i) g.pixels[i] = image.pixels[3 * i];
    image = std::move(g);
  }
  return finish(std::move(image), want);
}

}  // namespace

Image decode_image_bytes(const std::uint8_t* data, std::size_t size, const std::string& name, int want_channels) {
  check_want_channels(want_channels, name);
  if (size >= 8 && std::memcmp(data, kPngSignature, 8) == 0) return decode_png(data, size, name, want_channels);
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return decode_jpeg(data, size, name, want_channels);
  fail(name, str_cat("not a JPEG or PNG file (", size, " bytes, no JPEG or PNG signature at the start)"));
}

Image decode_image(const std::string& path, int want_channels) {
  check_want_channels(want_channels, path);
  io::ReadOnlyFile file(path);
  if (file.size() > kMaxFileBytes)
    fail(path, str_cat("the file has ", file.size(), " bytes, more than any image within the size limits needs (",
                       kMaxFileBytes, ")"));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(file.size()));
  if (!bytes.empty()) file.read_at(0, bytes.data(), bytes.size());
  return decode_image_bytes(bytes.data(), bytes.size(), path, want_channels);
}

}  // namespace sceald::data
