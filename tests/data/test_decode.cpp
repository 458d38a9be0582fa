// Decoding JPEG and PNG: exact round trips through our encoders, every PNG
// colour type and bit depth (files written here with libspng), channel
// conversions, truncated, corrupted and forged files, and a real FERPlus image.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spng.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include "engine/data/decode.h"
#include "engine/data/encode.h"
#include "engine/error.h"

namespace sceald::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

// A pattern with edges and every channel different: exact tests.
Image pattern(int width, int height, int channels) {
  Image im(width, height, channels);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c)
        im.at(x, y, c) = static_cast<std::uint8_t>((x * 37 + y * 91 + c * 71 + x * y) % 256);
  return im;
}

// A smooth pattern (slow gradients): what JPEG keeps well.
Image smooth(int width, int height, int channels) {
  Image im(width, height, channels);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) im.at(x, y, c) = static_cast<std::uint8_t>(40 + 4 * x + 3 * y + 20 * c);
  return im;
}

Image decode(const Bytes& bytes, int want = 0, const std::string& name = "mem.img") {
  return decode_image_bytes(bytes.data(), bytes.size(), name, want);
}

// The decode must throw a sceald::Error whose message names the source.
::testing::AssertionResult refuses(const Bytes& bytes, const std::string& name, std::string* message = nullptr) {
  try {
    Image im = decode_image_bytes(bytes.data(), bytes.size(), name, 0);
    return ::testing::AssertionFailure() << "decoded to " << im.str() << " instead of an error";
  } catch (const Error& e) {
    if (message) *message = e.what();
    if (std::string(e.what()).find(name) == std::string::npos)
      return ::testing::AssertionFailure() << "message does not name '" << name << "': " << e.what();
    return ::testing::AssertionSuccess();
  }
}

// ---- PNG writing with libspng, for the kinds our encoder never makes.

struct SpngFree {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};

// `raw` is in the PNG's own sample layout (SPNG_FMT_PNG: 16-bit samples in
// host order, sub-byte samples packed).
Bytes write_png_raw(std::uint32_t width, std::uint32_t height, int bit_depth, int color_type, const void* raw,
                    std::size_t raw_bytes, const std::vector<std::array<std::uint8_t, 3>>& palette = {},
                    bool interlaced = false) {
  std::unique_ptr<spng_ctx, SpngFree> ctx(spng_ctx_new(SPNG_CTX_ENCODER));
  spng_set_option(ctx.get(), SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{};
  ihdr.width = width;
  ihdr.height = height;
  ihdr.bit_depth = static_cast<std::uint8_t>(bit_depth);
  ihdr.color_type = static_cast<std::uint8_t>(color_type);
  ihdr.interlace_method = interlaced ? SPNG_INTERLACE_ADAM7 : SPNG_INTERLACE_NONE;
  EXPECT_EQ(spng_set_ihdr(ctx.get(), &ihdr), 0);
  if (!palette.empty()) {
    spng_plte plte{};
    plte.n_entries = static_cast<std::uint32_t>(palette.size());
    for (std::size_t i = 0; i < palette.size(); ++i) {
      plte.entries[i].red = palette[i][0];
      plte.entries[i].green = palette[i][1];
      plte.entries[i].blue = palette[i][2];
    }
    EXPECT_EQ(spng_set_plte(ctx.get(), &plte), 0);
  }
  const int status = spng_encode_image(ctx.get(), raw, raw_bytes, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  EXPECT_EQ(status, 0) << spng_strerror(status);
  std::size_t length = 0;
  int error = 0;
  void* buffer = spng_get_png_buffer(ctx.get(), &length, &error);
  EXPECT_TRUE(buffer);
  Bytes out(static_cast<std::uint8_t*>(buffer), static_cast<std::uint8_t*>(buffer) + length);
  std::free(buffer);
  return out;
}

// PNG chunk CRC (ISO 3309), to forge headers and corrupt data that still
// passes the checksum.
std::uint32_t crc32(const std::uint8_t* p, std::size_t n) {
  std::uint32_t crc = 0xffffffffu;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xffffffffu;
}

void put_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// Recomputes every chunk's CRC after the bytes were edited.
void fix_png_crcs(Bytes& png) {
  std::size_t pos = 8;
  while (pos + 12 <= png.size()) {
    const std::uint32_t length = (std::uint32_t{png[pos]} << 24) | (std::uint32_t{png[pos + 1]} << 16) |
                                 (std::uint32_t{png[pos + 2]} << 8) | png[pos + 3];
    if (length > png.size() - pos - 12) return;
    put_be32(&png[pos + 8 + length], crc32(&png[pos + 4], length + 4));
    pos += 12 + length;
  }
}

// ---- round trips

TEST(DecodePng, RoundTripIsExactForGreyAndRgb) {
  for (int channels : {1, 3}) {
    const Image im = pattern(13, 7, channels);
    const Image back = decode(encode_png(im));
    EXPECT_EQ(back, im) << "channels " << channels;
  }
}

TEST(DecodePng, WritePngThenDecodeFile) {
  const fs::path dir = fs::temp_directory_path() / ("sceald_decode_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "pattern.png").string();
  const Image im = pattern(9, 11, 3);
  write_png(path, im);
  EXPECT_EQ(decode_image(path), im);
  EXPECT_EQ(decode_image(path, 3), im);
  // The format comes from the bytes, not the name.
  const std::string misnamed = (dir / "pattern.jpg").string();
  fs::copy_file(path, misnamed);
  EXPECT_EQ(decode_image(misnamed), im);
  fs::remove_all(dir);
}

TEST(DecodeJpeg, Quality100OfASmoothPatternIsClose) {
  for (int channels : {1, 3}) {
    const Image im = smooth(24, 16, channels);
    const Image back = decode(encode_jpeg(im, 100));
    ASSERT_EQ(back.width, 24);
    ASSERT_EQ(back.height, 16);
    ASSERT_EQ(back.channels, channels);
    int worst = 0;
    for (std::size_t i = 0; i < im.pixels.size(); ++i)
      worst = std::max(worst, std::abs(int{back.pixels[i]} - int{im.pixels[i]}));
    EXPECT_LE(worst, 2) << "channels " << channels;
  }
}

TEST(DecodeConversions, GreyBecomesRgbByRepetition) {
  const Image grey = pattern(5, 4, 1);
  for (const Bytes& file : {encode_png(grey), encode_jpeg(grey, 95)}) {
    const Image as_stored = decode(file, 0), rgb = decode(file, 3);
    ASSERT_EQ(as_stored.channels, 1);
    ASSERT_EQ(rgb.channels, 3);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 5; ++x)
        for (int c = 0; c < 3; ++c) EXPECT_EQ(rgb.at(x, y, c), as_stored.at(x, y));
  }
}

TEST(DecodeConversions, RgbBecomesGreyWithBt601Weights) {
  Image rgb(6, 1, 3);
  const std::uint8_t colours[6][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}, {0, 0, 0}, {10, 200, 90}};
  for (int x = 0; x < 6; ++x)
    for (int c = 0; c < 3; ++c) rgb.at(x, 0, c) = colours[x][c];
  const Image grey = decode(encode_png(rgb), 1);
  ASSERT_EQ(grey.channels, 1);
  // 0.299 R + 0.587 G + 0.114 B: 76.245, 149.685, 29.07, 255, 0, 130.65.
  const int expected[6] = {76, 150, 29, 255, 0, 131};
  for (int x = 0; x < 6; ++x) EXPECT_EQ(grey.at(x, 0), expected[x]) << "colour " << x;
  // Against the floating-point formula on many colours: never more than 1 apart.
  const Image many = pattern(32, 32, 3);
  const Image many_grey = decode(encode_png(many), 1);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) {
      const double luma = 0.299 * many.at(x, y, 0) + 0.587 * many.at(x, y, 1) + 0.114 * many.at(x, y, 2);
      EXPECT_NEAR(many_grey.at(x, y), luma, 1.0);
    }
}

// ---- every PNG colour type and bit depth

TEST(DecodePng, SixteenBitSamplesKeepTheirHighByte) {
  const std::uint32_t w = 4, h = 3;
  std::vector<std::uint16_t> grey(w * h), rgb(w * h * 3);
  for (std::size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<std::uint16_t>(i * 5003 + 17);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<std::uint16_t>(i * 1777 + 300);

  const Image g = decode(write_png_raw(w, h, 16, SPNG_COLOR_TYPE_GRAYSCALE, grey.data(), grey.size() * 2));
  ASSERT_EQ(g.channels, 1);
  for (std::size_t i = 0; i < grey.size(); ++i) EXPECT_EQ(g.pixels[i], grey[i] >> 8) << i;

  const Image c = decode(write_png_raw(w, h, 16, SPNG_COLOR_TYPE_TRUECOLOR, rgb.data(), rgb.size() * 2));
  ASSERT_EQ(c.channels, 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) EXPECT_EQ(c.pixels[i], rgb[i] >> 8) << i;
}

TEST(DecodePng, InterlacedIsDeinterlaced) {
  const Image im = pattern(11, 9, 3);
  const Bytes png = write_png_raw(11, 9, 8, SPNG_COLOR_TYPE_TRUECOLOR, im.pixels.data(), im.pixels.size(), {}, true);
  EXPECT_EQ(png[28], 1) << "IHDR interlace byte";
  EXPECT_EQ(decode(png), im);
}

TEST(DecodePng, AlphaIsDropped) {
  const std::uint32_t w = 3, h = 2;
  std::vector<std::uint8_t> ga, rgba;
  for (std::uint32_t i = 0; i < w * h; ++i) {
    ga.insert(ga.end(), {static_cast<std::uint8_t>(i * 40), static_cast<std::uint8_t>(255 - i)});
    rgba.insert(rgba.end(), {static_cast<std::uint8_t>(i * 10), static_cast<std::uint8_t>(i * 20 + 1),
                             static_cast<std::uint8_t>(i * 30 + 2), static_cast<std::uint8_t>(i * 7)});
  }
  const Image g = decode(write_png_raw(w, h, 8, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, ga.data(), ga.size()));
  ASSERT_EQ(g.channels, 1);
  for (std::uint32_t i = 0; i < w * h; ++i) EXPECT_EQ(g.pixels[i], ga[2 * i]);

  std::vector<std::uint16_t> ga16;
  for (std::uint32_t i = 0; i < w * h; ++i) ga16.insert(ga16.end(), {static_cast<std::uint16_t>(i * 9000 + 255), 7});
  const Image g16 = decode(write_png_raw(w, h, 16, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, ga16.data(), ga16.size() * 2));
  ASSERT_EQ(g16.channels, 1);
  for (std::uint32_t i = 0; i < w * h; ++i) EXPECT_EQ(g16.pixels[i], ga16[2 * i] >> 8);

  const Image c = decode(write_png_raw(w, h, 8, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, rgba.data(), rgba.size()));
  ASSERT_EQ(c.channels, 3);
  for (std::uint32_t i = 0; i < w * h; ++i)
    for (int k = 0; k < 3; ++k) EXPECT_EQ(c.pixels[3 * i + k], rgba[4 * i + k]);

  std::vector<std::uint16_t> rgba16(rgba.size());
  for (std::size_t i = 0; i < rgba.size(); ++i) rgba16[i] = static_cast<std::uint16_t>(rgba[i] * 257 + i);
  const Image c16 = decode(write_png_raw(w, h, 16, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, rgba16.data(), rgba16.size() * 2));
  ASSERT_EQ(c16.channels, 3);
  for (std::uint32_t i = 0; i < w * h; ++i)
    for (int k = 0; k < 3; ++k) EXPECT_EQ(c16.pixels[3 * i + k], rgba16[4 * i + k] >> 8);
}

TEST(DecodePng, PaletteIsExpandedToRgb) {
  const std::vector<std::array<std::uint8_t, 3>> palette = {{255, 0, 0}, {0, 128, 0}, {1, 2, 3}, {250, 251, 252}};
  const std::uint32_t w = 5, h = 2;
  const std::uint8_t indices[w * h] = {0, 1, 2, 3, 0, 3, 2, 1, 0, 2};
  const Image im = decode(write_png_raw(w, h, 8, SPNG_COLOR_TYPE_INDEXED, indices, sizeof indices, palette));
  ASSERT_EQ(im.channels, 3);
  for (std::uint32_t i = 0; i < w * h; ++i)
    for (int k = 0; k < 3; ++k) EXPECT_EQ(im.pixels[3 * i + k], palette[indices[i]][k]) << i;

  // 2-bit indices, packed four to a byte (rows padded to whole bytes).
  const std::uint8_t packed[h * 2] = {0b00011011, 0b00000000, 0b11100100, 0b01000000};
  const std::uint8_t unpacked[w * h] = {0, 1, 2, 3, 0, 3, 2, 1, 0, 1};
  const Image im2 = decode(write_png_raw(w, h, 2, SPNG_COLOR_TYPE_INDEXED, packed, sizeof packed, palette), 1);
  ASSERT_EQ(im2.channels, 1);
  for (std::uint32_t i = 0; i < w * h; ++i) {
    const auto& p = palette[unpacked[i]];
    EXPECT_NEAR(im2.pixels[i], 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2], 1.0) << i;
  }
}

TEST(DecodePng, LowBitDepthGreyIsScaledTo8Bits) {
  // 1-bit grey: 0 -> 0, 1 -> 255.
  const std::uint8_t bits[2] = {0b10110000, 0b01000000};  // rows of 4 pixels: 1011, 0100
  const Image im = decode(write_png_raw(4, 2, 1, SPNG_COLOR_TYPE_GRAYSCALE, bits, sizeof bits));
  ASSERT_EQ(im.channels, 1);
  const std::vector<std::uint8_t> expected = {255, 0, 255, 255, 0, 255, 0, 0};
  EXPECT_EQ(im.pixels, expected);
}

// ---- broken and hostile files

TEST(DecodeErrors, EveryTruncationOfAPngIsAnError) {
  const Bytes png = encode_png(pattern(6, 5, 3));
  for (std::size_t n = 0; n < png.size(); ++n) {
    const Bytes cut(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_TRUE(refuses(cut, "cut.png")) << "truncated to " << n << " of " << png.size() << " bytes";
  }
}

TEST(DecodeErrors, EveryTruncationOfAJpegIsAnErrorAndTheDecoderRecovers) {
  const Image im = smooth(16, 16, 3);
  const Bytes jpeg = encode_jpeg(im, 90);
  const Image good = decode(jpeg);
  for (std::size_t n = 0; n < jpeg.size(); ++n) {
    const Bytes cut(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_TRUE(refuses(cut, "cut.jpg")) << "truncated to " << n << " of " << jpeg.size() << " bytes";
  }
  // The thread's TurboJPEG handle saw hundreds of errors; it still decodes.
  EXPECT_EQ(decode(jpeg), good);
}

TEST(DecodeErrors, RandomByteFlipsNeverCrash) {
  const Bytes jpeg = encode_jpeg(smooth(16, 12, 3), 85);
  const Bytes png = encode_png(pattern(12, 9, 3));
  std::mt19937 rng(1234);
  int errors = 0, images = 0;
  for (int trial = 0; trial < 300; ++trial) {
    // JPEG, PNG as is (mostly caught by the chunk CRCs), and PNG with the CRCs
    // recomputed so the damage reaches zlib and the row filters.
    const int kind = trial % 3;
    Bytes bytes = kind == 0 ? jpeg : png;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      // Never the signature: that would only test "not a JPEG or PNG".
      const std::size_t start = kind == 0 ? 3 : 8;
      const std::size_t at = start + rng() % (bytes.size() - start);
      bytes[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    }
    if (kind == 2) fix_png_crcs(bytes);
    try {
      const Image im = decode(bytes, 0, "flipped");
      EXPECT_EQ(im.pixels.size(), im.row_bytes() * static_cast<std::size_t>(im.height));
      ++images;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("flipped"));
      ++errors;
    }
  }
  EXPECT_EQ(errors + images, 300);
  EXPECT_GT(errors, 0);
}

TEST(DecodeErrors, ForgedPngHeaderIsRefusedBeforeAllocating) {
  Bytes png = encode_png(pattern(4, 4, 1));
  ASSERT_EQ(std::memcmp(&png[12], "IHDR", 4), 0);
  put_be32(&png[16], 65500);
  put_be32(&png[20], 65500);
  fix_png_crcs(png);  // a consistent header: only the size gives it away
  std::string message;
  EXPECT_TRUE(refuses(png, "forged.png", &message));
  EXPECT_THAT(message, HasSubstr("65500 x 65500"));
  // Within the per-side limit but over the pixel limit.
  put_be32(&png[16], 16384);
  put_be32(&png[20], 16384);
  fix_png_crcs(png);
  EXPECT_TRUE(refuses(png, "big.png", &message));
  EXPECT_THAT(message, HasSubstr("16384 x 16384"));
}

TEST(DecodeErrors, ForgedJpegHeaderIsRefusedBeforeAllocating) {
  Bytes jpeg = encode_jpeg(smooth(8, 8, 3), 90);
  // Baseline frame header: FF C0, length (2), precision (1), height (2), width (2).
  std::size_t sof = 0;
  for (std::size_t i = 2; i + 1 < jpeg.size(); ++i)
    if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0) {
      sof = i;
      break;
    }
  ASSERT_GT(sof, 0u) << "no SOF0 marker";
  for (std::size_t at : {sof + 5, sof + 7}) {
    jpeg[at] = 65500 >> 8;
    jpeg[at + 1] = 65500 & 0xff;
  }
  std::string message;
  EXPECT_TRUE(refuses(jpeg, "forged.jpg", &message));
  EXPECT_THAT(message, HasSubstr("65500 x 65500"));
}

TEST(DecodeErrors, NeitherJpegNorPngIsNamed) {
  const std::string text = "width,height\n48,48\n";
  std::string message;
  EXPECT_TRUE(refuses(Bytes(text.begin(), text.end()), "labels.csv", &message));
  EXPECT_THAT(message, HasSubstr("not a JPEG or PNG"));
  EXPECT_TRUE(refuses(Bytes{}, "empty.png"));
  // A GIF signature is not guessed at either.
  const std::string gif = "GIF89a\x01\x00\x01\x00";
  EXPECT_TRUE(refuses(Bytes(gif.begin(), gif.end()), "anim.gif"));
}

TEST(DecodeErrors, MissingFileAndBadChannelRequestAreNamed) {
  const std::string path = "/nonexistent/sceald/face.png";
  try {
    decode_image(path);
    FAIL() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
  }
  const Bytes png = encode_png(pattern(2, 2, 1));
  EXPECT_THROW(decode(png, 2), Error);
}

TEST(DecodeThreads, ConcurrentDecodesAgree) {
  const Bytes jpeg = encode_jpeg(smooth(32, 32, 3), 90);
  const Bytes png = encode_png(pattern(32, 32, 3));
  const Image jpeg_image = decode(jpeg), png_image = decode(png);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (decode(jpeg) != jpeg_image) ++mismatches[t];
        if (decode(png) != png_image) ++mismatches[t];
        if (i % 10 == 0) {  // an error on this thread's handle in between
          const Bytes cut(jpeg.begin(), jpeg.begin() + 100);
          if (!refuses(cut, "cut")) ++mismatches[t];
        }
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

// ---- the real data

TEST(DecodeRealData, FerPlusImageIs48x48Grey) {
  const std::string path = SCEALD_SHARED_DATA_DIR "/ferplus/FER2013Train/fer0000000.png";
  if (!fs::exists(path)) GTEST_SKIP() << "real data not found at " << path << " (needs ../shared/data)";
  const Image im = decode_image(path);
  EXPECT_EQ(im.width, 48);
  EXPECT_EQ(im.height, 48);
  EXPECT_EQ(im.channels, 1);
  const Image rgb = decode_image(path, 3);
  ASSERT_EQ(rgb.channels, 3);
  for (int x = 0; x < 48; ++x) EXPECT_EQ(rgb.at(x, 20, 1), im.at(x, 20));
  // Not a blank image.
  const auto [lo, hi] = std::minmax_element(im.pixels.begin(), im.pixels.end());
  EXPECT_LT(*lo, *hi);
}

}  // namespace
}  // namespace sceald::data
