#include "engine/data/transforms.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>

#include "engine/error.h"

namespace sceald::data {

namespace {

// ---- resize: PIL's two-pass resampling (libImaging/Resample.c) with its
// triangle (BILINEAR) filter and its 8-bit fixed-point arithmetic.

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's PRECISION_BITS

double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// For each output index along one axis: the first input index, how many
// inputs it reads, and their fixed-point weights (`taps` slots per output).
struct AxisWeights {
  int taps = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<std::int32_t> weights;
};

AxisWeights axis_weights(int in_size, int out_size) {
  // Shrinking by `scale` stretches the filter by the same factor, so every
  // input pixel contributes (antialiasing); enlarging keeps support 1, which
  // is bilinear interpolation between the two nearest centres.
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;
  const double inv_filter_scale = 1.0 / filter_scale;

  AxisWeights w;
  w.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  w.first.resize(static_cast<std::size_t>(out_size));
  w.count.resize(static_cast<std::size_t>(out_size));
  w.weights.assign(static_cast<std::size_t>(out_size) * static_cast<std::size_t>(w.taps), 0);
  std::vector<double> k(static_cast<std::size_t>(w.taps));
  for (int o = 0; o < out_size; ++o) {
    const double centre = (o + 0.5) * scale;
    const int lo = std::max(static_cast<int>(centre - support + 0.5), 0);
    const int n = std::min(static_cast<int>(centre + support + 0.5), in_size) - lo;
    double total = 0.0;
    for (int t = 0; t < n; ++t) {
      k[static_cast<std::size_t>(t)] = triangle((t + lo - centre + 0.5) * inv_filter_scale);
      total += k[static_cast<std::size_t>(t)];
    }
    std::int32_t* fixed = &w.weights[static_cast<std::size_t>(o) * static_cast<std::size_t>(w.taps)];
    for (int t = 0; t < n; ++t) {
      const double v = total != 0.0 ? k[static_cast<std::size_t>(t)] / total : k[static_cast<std::size_t>(t)];
      fixed[t] = static_cast<std::int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    w.first[static_cast<std::size_t>(o)] = lo;
    w.count[static_cast<std::size_t>(o)] = n;
  }
  return w;
}

std::uint8_t round_fixed(std::int32_t acc) {
  return static_cast<std::uint8_t>(std::clamp(acc >> kPrecisionBits, 0, 255));
}

constexpr std::int32_t kHalf = 1 << (kPrecisionBits - 1);

Image resample_horizontal(const Image& in, int out_width) {
  const AxisWeights w = axis_weights(in.width, out_width);
  Image out(out_width, in.height, in.channels);
  const int c_count = in.channels;
  for (int y = 0; y < in.height; ++y) {
    const std::uint8_t* row = &in.pixels[in.index(0, y, 0)];
    std::uint8_t* dst = &out.pixels[out.index(0, y, 0)];
    for (int x = 0; x < out_width; ++x) {
      const std::int32_t* k = &w.weights[static_cast<std::size_t>(x) * static_cast<std::size_t>(w.taps)];
      const std::uint8_t* src = row + static_cast<std::size_t>(w.first[static_cast<std::size_t>(x)]) * c_count;
      const int n = w.count[static_cast<std::size_t>(x)];
      for (int c = 0; c < c_count; ++c) {
        std::int32_t acc = kHalf;
        for (int t = 0; t < n; ++t) acc += src[t * c_count + c] * k[t];
        dst[x * c_count + c] = round_fixed(acc);
      }
    }
  }
  return out;
}

Image resample_vertical(const Image& in, int out_height) {
  const AxisWeights w = axis_weights(in.height, out_height);
  Image out(in.width, out_height, in.channels);
  const std::size_t row_bytes = in.row_bytes();
  for (int y = 0; y < out_height; ++y) {
    const std::int32_t* k = &w.weights[static_cast<std::size_t>(y) * static_cast<std::size_t>(w.taps)];
    const std::uint8_t* src = &in.pixels[in.index(0, w.first[static_cast<std::size_t>(y)], 0)];
    const int n = w.count[static_cast<std::size_t>(y)];
    std::uint8_t* dst = &out.pixels[out.index(0, y, 0)];
    for (std::size_t i = 0; i < row_bytes; ++i) {
      std::int32_t acc = kHalf;
      for (int t = 0; t < n; ++t) acc += src[static_cast<std::size_t>(t) * row_bytes + i] * k[t];
      dst[i] = round_fixed(acc);
    }
  }
  return out;
}

}  // namespace

Image resize(const Image& image, int width, int height) {
  check_image(image, "resize");
  SCEALD_CHECK(!image.empty(), "resize: cannot resize an empty image (", image.str(), ")");
  SCEALD_CHECK(width >= 1 && height >= 1 && width <= kMaxImageSide && height <= kMaxImageSide &&
                   static_cast<std::int64_t>(width) * height <= kMaxImagePixels,
               "resize: output size ", width, "x", height, " is outside 1..", kMaxImageSide, " per side or over ",
               kMaxImagePixels, " pixels");
  if (width == image.width && height == image.height) return image;
  if (width == image.width) return resample_vertical(image, height);
  Image horizontal = resample_horizontal(image, width);
  if (height == image.height) return horizontal;
  return resample_vertical(horizontal, height);
}

Image resize_shorter_side(const Image& image, int size) {
  check_image(image, "resize_shorter_side");
  SCEALD_CHECK(size >= 1, "resize_shorter_side: size must be positive, got ", size);
  SCEALD_CHECK(!image.empty(), "resize_shorter_side: empty image (", image.str(), ")");
  const std::int64_t shorter = std::min(image.width, image.height);
  const std::int64_t longer = std::max(image.width, image.height);
  const auto scaled_long = static_cast<int>(std::min<std::int64_t>(longer * size / shorter, kMaxImageSide + 1));
  return image.width <= image.height ? resize(image, size, scaled_long) : resize(image, scaled_long, size);
}

// ---- crops and flips

Image crop(const Image& image, const CropWindow& window) {
  check_image(image, "crop");
  SCEALD_CHECK(window.width >= 0 && window.height >= 0 &&
                   static_cast<std::int64_t>(window.width) * window.height <= kMaxImagePixels,
               "crop: window size ", window.width, "x", window.height, " is negative or too large");
  Image out(window.width, window.height, image.channels);
  // Only the part of the window inside the image is copied; the rest stays zero.
  const int x0 = std::max(window.left, 0), x1 = std::min(window.left + window.width, image.width);
  const int y0 = std::max(window.top, 0), y1 = std::min(window.top + window.height, image.height);
  if (x0 >= x1) return out;
  const std::size_t bytes = static_cast<std::size_t>(x1 - x0) * static_cast<std::size_t>(image.channels);
  for (int y = y0; y < y1; ++y)
    std::memcpy(&out.pixels[out.index(x0 - window.left, y - window.top, 0)], &image.pixels[image.index(x0, y, 0)],
                bytes);
  return out;
}

CropWindow centre_crop_window(int image_width, int image_height, int crop_width, int crop_height) {
  SCEALD_CHECK(crop_width >= 1 && crop_height >= 1, "centre_crop: crop size must be positive, got ", crop_width, "x",
               crop_height);
  // torchvision: an oversized crop pads (d // 2 on the left/top), otherwise
  // the offset is round((size - crop) / 2) with Python's half-to-even rounding.
  auto offset = [](int size, int crop_size) {
    if (crop_size > size) return -((crop_size - size) / 2);
    return static_cast<int>(std::nearbyint((size - crop_size) / 2.0));
  };
  return {offset(image_width, crop_width), offset(image_height, crop_height), crop_width, crop_height};
}

Image centre_crop(const Image& image, int crop_width, int crop_height) {
  return crop(image, centre_crop_window(image.width, image.height, crop_width, crop_height));
}

CropWindow random_crop_window(int image_width, int image_height, int crop_width, int crop_height, int padding,
                              Generator& generator) {
  SCEALD_CHECK(padding >= 0, "random_crop: padding must be >= 0, got ", padding);
  SCEALD_CHECK(crop_width >= 1 && crop_height >= 1, "random_crop: crop size must be positive, got ", crop_width, "x",
               crop_height);
  const int padded_width = image_width + 2 * padding, padded_height = image_height + 2 * padding;
  SCEALD_CHECK(crop_width <= padded_width && crop_height <= padded_height, "random_crop: crop ", crop_width, "x",
               crop_height, " is larger than the image ", image_width, "x", image_height, " padded by ", padding);
  const auto top = static_cast<int>(generator.next_below(static_cast<std::uint64_t>(padded_height - crop_height + 1)));
  const auto left = static_cast<int>(generator.next_below(static_cast<std::uint64_t>(padded_width - crop_width + 1)));
  return {left - padding, top - padding, crop_width, crop_height};
}

Image random_crop(const Image& image, int crop_width, int crop_height, int padding, Generator& generator) {
  return crop(image, random_crop_window(image.width, image.height, crop_width, crop_height, padding, generator));
}

Image flip_horizontal(const Image& image) {
  check_image(image, "flip_horizontal");
  Image out(image.width, image.height, image.channels);
  const int c_count = image.channels;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      for (int c = 0; c < c_count; ++c) out.at(image.width - 1 - x, y, c) = image.at(x, y, c);
  return out;
}

Image random_flip_horizontal(const Image& image, Generator& generator, double p) {
  return generator.next_uniform() < p ? flip_horizontal(image) : image;
}

// ---- normalisation

void image_to_chw(const Image& image, const InputConvention& convention, float* dst) {
  check_image(image, "image_to_chw");
  SCEALD_CHECK(convention.channels == 1 || convention.channels == 3,
               "image_to_chw: convention channels must be 1 or 3, got ", convention.channels);
  const Image* src = &image;
  Image converted;
  if (image.channels != convention.channels) {
    converted = convert_channels(image, convention.channels);
    src = &converted;
  }
  const std::size_t plane = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height);
  const int c_count = convention.channels;
  const bool bgr = c_count == 3 && convention.order == InputConvention::ColorOrder::BGR;
  for (int c = 0; c < c_count; ++c) {
    const int source_channel = bgr ? 2 - c : c;
    const float mean = convention.mean[static_cast<std::size_t>(c)];
    const float stddev = convention.std[static_cast<std::size_t>(c)];
    const std::uint8_t* p = src->pixels.data() + source_channel;
    float* out = dst + static_cast<std::size_t>(c) * plane;
    for (std::size_t i = 0; i < plane; ++i)
      out[i] = (static_cast<float>(p[i * c_count]) * convention.scale - mean) / stddev;
  }
}

Tensor image_to_tensor(const Image& image, const InputConvention& convention) {
  SCEALD_CHECK(convention.channels == 1 || convention.channels == 3,
               "image_to_tensor: convention channels must be 1 or 3, got ", convention.channels);
  Tensor out = Tensor::empty({convention.channels, image.height, image.width}, DType::Float32);
  image_to_chw(image, convention, out.data<float>());
  return out;
}

// ---- input conventions

InputConvention InputConvention::imagenet() {
  InputConvention c;
  c.order = ColorOrder::RGB;
  c.scale = 1.0f / 255.0f;
  c.mean = {0.485f, 0.456f, 0.406f};
  c.std = {0.229f, 0.224f, 0.225f};
  c.channels = 3;
  return c;
}

InputConvention InputConvention::vggface() {
  InputConvention c;
  c.order = ColorOrder::BGR;
  c.scale = 1.0f;
  c.mean = {93.5940f, 104.7624f, 129.1863f};  // B, G, R
  c.std = {1.0f, 1.0f, 1.0f};
  c.channels = 3;
  return c;
}

InputConvention InputConvention::grey01() {
  InputConvention c;
  c.order = ColorOrder::RGB;
  c.scale = 1.0f / 255.0f;
  c.mean = {0.5f, 0.0f, 0.0f};
  c.std = {0.5f, 1.0f, 1.0f};
  c.channels = 1;
  return c;
}

InputConvention InputConvention::preset(const std::string& name) {
  if (name == "imagenet") return imagenet();
  if (name == "vggface") return vggface();
  if (name == "grey01") return grey01();
  throw Error(str_cat("InputConvention: unknown preset '", name, "' (known: imagenet, vggface, grey01)"));
}

namespace {

// Shortest decimal that reads back to the same float.
std::string format_float(float v) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, result.ptr);
}

std::string format_list(const std::array<float, 3>& values, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i) out += ',';
    out += format_float(values[static_cast<std::size_t>(i)]);
  }
  return out;
}

float parse_number(const std::string& field, const std::string& text, const std::string& whole) {
  float v = 0.0f;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, v);
  SCEALD_CHECK(!text.empty() && result.ec == std::errc() && result.ptr == end && std::isfinite(v),
               "InputConvention: field '", field, "' has '", text, "', which is not a finite number (in \"", whole,
               "\")");
  return v;
}

std::array<float, 3> parse_list(const std::string& field, const std::string& text, int count, float unused,
                                const std::string& whole) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  SCEALD_CHECK(static_cast<int>(parts.size()) == count, "InputConvention: field '", field, "' has ", parts.size(),
               " value(s) ('", text, "') but the convention has ", count, " channel(s) (in \"", whole, "\")");
  std::array<float, 3> out{unused, unused, unused};
  for (int i = 0; i < count; ++i)
    out[static_cast<std::size_t>(i)] = parse_number(field, parts[static_cast<std::size_t>(i)], whole);
  return out;
}

}  // namespace

std::string InputConvention::to_string() const {
  SCEALD_CHECK(channels == 1 || channels == 3, "InputConvention: channels must be 1 or 3, got ", channels);
  const char* order_word = channels == 1 ? "grey" : order == ColorOrder::BGR ? "bgr" : "rgb";
  return str_cat(order_word, " scale=", format_float(scale), " mean=", format_list(mean, channels),
                 " std=", format_list(std, channels));
}

InputConvention InputConvention::parse(const std::string& text) {
  std::istringstream words(text);
  std::string word;
  SCEALD_CHECK(static_cast<bool>(words >> word), "InputConvention: empty text; expected e.g. \"",
               imagenet().to_string(), "\"");
  InputConvention c;
  if (word == "rgb" || word == "bgr") {
    c.order = word == "bgr" ? ColorOrder::BGR : ColorOrder::RGB;
    c.channels = 3;
  } else if (word == "grey") {
    c.channels = 1;
  } else {
    throw Error(
        str_cat("InputConvention: the first word must be rgb, bgr or grey, got '", word, "' (in \"", text, "\")"));
  }
  bool have_scale = false, have_mean = false, have_std = false;
  while (words >> word) {
    const std::size_t eq = word.find('=');
    SCEALD_CHECK(eq != std::string::npos, "InputConvention: expected field=value, got '", word, "' (in \"", text,
                 "\")");
    const std::string field = word.substr(0, eq), value = word.substr(eq + 1);
    bool* seen = field == "scale" ? &have_scale : field == "mean" ? &have_mean : field == "std" ? &have_std : nullptr;
    SCEALD_CHECK(seen, "InputConvention: unknown field '", field, "' (known: scale, mean, std; in \"", text, "\")");
    SCEALD_CHECK(!*seen, "InputConvention: field '", field, "' given twice (in \"", text, "\")");
    *seen = true;
    if (field == "scale") {
      c.scale = parse_number(field, value, text);
      SCEALD_CHECK(c.scale > 0.0f, "InputConvention: field 'scale' must be positive, got '", value, "'");
    } else if (field == "mean") {
      c.mean = parse_list(field, value, c.channels, 0.0f, text);
    } else {
      c.std = parse_list(field, value, c.channels, 1.0f, text);
      for (int i = 0; i < c.channels; ++i)
        SCEALD_CHECK(c.std[static_cast<std::size_t>(i)] > 0.0f, "InputConvention: field 'std' must be positive, got '",
                     value, "'");
    }
  }
  const char* missing = !have_scale ? "scale" : !have_mean ? "mean" : !have_std ? "std" : nullptr;
  SCEALD_CHECK(!missing, "InputConvention: field '", missing, "' is missing (in \"", text, "\")");
  return c;
}

}  // namespace sceald::data
