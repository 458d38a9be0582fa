// Transforms: resize against hand-computed bilinear values and PIL's own
// output, crops, flips, seeded random crops, and the normalisation
// conventions with their string form.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "engine/data/transforms.h"
#include "engine/error.h"

namespace sceald::data {
namespace {

using ::testing::HasSubstr;

Image make(int width, int height, int channels, const std::vector<int>& values) {
  Image im(width, height, channels);
  EXPECT_EQ(values.size(), im.pixels.size());
  for (std::size_t i = 0; i < values.size(); ++i) im.pixels[i] = static_cast<std::uint8_t>(values[i]);
  return im;
}

std::vector<int> ints(const Image& im) { return std::vector<int>(im.pixels.begin(), im.pixels.end()); }

Image numbered(int width, int height, int channels) {
  Image im(width, height, channels);
  for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<std::uint8_t>((i * 7 + 3) % 251);
  return im;
}

// ---- resize

TEST(Resize, ConstantImageStaysConstant) {
  for (int channels : {1, 3}) {
    Image im(11, 7, channels);
    for (int y = 0; y < 7; ++y)
      for (int x = 0; x < 11; ++x)
        for (int c = 0; c < channels; ++c) im.at(x, y, c) = static_cast<std::uint8_t>(100 + 50 * c);
    for (auto [w, h] : {std::pair{3, 2}, {11, 3}, {25, 7}, {30, 19}, {1, 1}, {5, 40}}) {
      const Image out = resize(im, w, h);
      ASSERT_EQ(out.width, w);
      ASSERT_EQ(out.height, h);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          for (int c = 0; c < channels; ++c)
            ASSERT_EQ(out.at(x, y, c), 100 + 50 * c) << w << "x" << h << " at " << x << "," << y << "," << c;
    }
  }
}

TEST(Resize, UpscaleIsBilinearWithHalfPixelCentres) {
  // Output i samples input (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25,
  // clamped to 0..1: weights on the second pixel 0, 1/4, 3/4, 1 per axis.
  // f(u, v) = 80 u (1 - v) + 160 (1 - u) v for corners 0, 80 / 160, 0.
  const Image im = make(2, 2, 1, {0, 80, 160, 0});
  const std::vector<int> expected = {0,   20,  60, 80,  // v = 0
                                     40,  45,  55, 60,  // v = 1/4
                                     120, 95,  45, 20,  // v = 3/4
                                     160, 120, 40, 0};  // v = 1
  EXPECT_EQ(ints(resize(im, 4, 4)), expected);
}

// Expected values from Pillow 9.4 (Image.resize(size, Image.BILINEAR)) on
// the same inputs, produced with /usr/bin/python3.
TEST(Resize, AntialiasedDownscaleMatchesPil) {
  const Image grey = make(8, 6, 1, {0,   37,  74,  111, 148, 185, 222, 3,   53,  101, 149, 197, 245, 37,  85,  56,
                                    106, 165, 224, 27,  9,   68,  127, 109, 159, 229, 43,  36,  106, 99,  169, 162,
                                    212, 37,  41,  122, 126, 207, 211, 215, 9,   101, 116, 131, 223, 238, 253, 12});
  EXPECT_EQ(ints(resize(grey, 3, 2)), (std::vector<int>{106, 123, 108, 112, 118, 170}));
  EXPECT_EQ(ints(resize(grey, 5, 4)), (std::vector<int>{37,  99, 160, 151, 84,  117, 154, 94,  82,  105,
                                                        166, 87, 84,  138, 176, 82,  93,  157, 222, 149}));
  // Shrinking across, enlarging down.
  EXPECT_EQ(ints(resize(grey, 3, 9)),
            (std::vector<int>{41,  130, 144, 74,  151, 111, 114, 154, 82,  143, 85, 95,  150, 72,
                              122, 140, 85,  155, 104, 116, 195, 88,  151, 191, 80, 177, 177}));

  const Image rgb = make(
      7, 5, 3, {0,  200, 5, 40, 187, 5,  80,  174, 5,   120, 161, 5,   160, 148, 5,   200, 135, 5,   240, 122, 5,
                9,  183, 5, 49, 170, 28, 89,  157, 51,  129, 144, 74,  169, 131, 97,  209, 118, 120, 249, 105, 143,
                18, 166, 5, 58, 153, 51, 98,  140, 97,  138, 127, 143, 178, 114, 189, 218, 101, 235, 2,   88,  25,
                27, 149, 5, 67, 136, 74, 107, 123, 143, 147, 110, 212, 187, 97,  25,  227, 84,  94,  11,  71,  163,
                36, 132, 5, 76, 119, 97, 116, 106, 189, 156, 93,  25,  196, 80,  117, 236, 67,  209, 20,  54,  45});
  EXPECT_EQ(ints(resize(rgb, 2, 3)),
            (std::vector<int>{67, 172, 20, 181, 136, 49, 81, 145, 74, 153, 109, 135, 95, 118, 93, 155, 82, 117}));
}

TEST(Resize, ExactHalvingAveragesWithTheTriangleFilter) {
  // Halving: scale 2, support 2, centre of output 0 at input 1.0; the
  // triangle (1 - |d| / 2) at input centres 0.5, 1.5 (and 2.5 for the second
  // output's left neighbour) gives weights 3/4, 3/4 (, 1/4 ...) normalised:
  // output 0 = (3 a + 3 b + c) / 7 at the border (d at -0.5 is outside).
  const Image row = make(4, 1, 1, {0, 70, 140, 210});
  // out0: inputs 0,1,2 with weights .75,.75,.25 -> (0*3 + 70*3 + 140) / 7 = 50
  // out1: inputs 1,2,3 with weights .25,.75,.75 -> (70 + 140*3 + 210*3) / 7 = 160
  EXPECT_EQ(ints(resize(row, 2, 1)), (std::vector<int>{50, 160}));
}

TEST(Resize, ShorterSideAndErrors) {
  const Image im = numbered(40, 30, 3);
  const Image out = resize_shorter_side(im, 12);
  EXPECT_EQ(out.width, 16);  // 40 * 12 / 30
  EXPECT_EQ(out.height, 12);
  const Image tall = resize_shorter_side(numbered(30, 41, 1), 10);
  EXPECT_EQ(tall.width, 10);
  EXPECT_EQ(tall.height, 13);  // int(41 * 10 / 30) = 13
  EXPECT_EQ(resize(im, 40, 30), im);
  EXPECT_THROW(resize(im, 0, 5), Error);
  EXPECT_THROW(resize(im, 20000, 5), Error);
  EXPECT_THROW(resize(Image(0, 0, 1), 5, 5), Error);
}

// ---- crops and flips

TEST(Crop, CentreCropPicksTheMiddleWindow) {
  const Image im = numbered(5, 4, 1);
  const Image out = centre_crop(im, 3, 2);
  // left = round((5 - 3) / 2) = 1, top = round((4 - 2) / 2) = 1
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) EXPECT_EQ(out.at(x, y), im.at(x + 1, y + 1));
  // Halves round to even, as Python's round in torchvision: 1.5 -> 2, 2.5 -> 2.
  EXPECT_EQ(centre_crop_window(6, 6, 3, 3), (CropWindow{2, 2, 3, 3}));
  EXPECT_EQ(centre_crop_window(8, 4, 3, 1), (CropWindow{2, 2, 3, 1}));
  // Larger than the image: zero padding, the image placed (crop - size) // 2 in.
  EXPECT_EQ(centre_crop_window(2, 2, 5, 4), (CropWindow{-1, -1, 5, 4}));
  const Image padded = centre_crop(make(2, 2, 1, {1, 2, 3, 4}), 5, 4);
  EXPECT_EQ(ints(padded), (std::vector<int>{0, 0, 0, 0, 0,  //
                                            0, 1, 2, 0, 0,  //
                                            0, 3, 4, 0, 0,  //
                                            0, 0, 0, 0, 0}));
}

TEST(Crop, CropWindowOutsideIsZero) {
  const Image im = numbered(4, 3, 3);
  const Image out = crop(im, {2, -1, 4, 3});
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c) {
        const int sx = x + 2, sy = y - 1;
        const int expected = (sx < 4 && sy >= 0) ? im.at(sx, sy, c) : 0;
        EXPECT_EQ(out.at(x, y, c), expected) << x << "," << y << "," << c;
      }
  EXPECT_EQ(crop(im, {10, 10, 2, 2}), Image(2, 2, 3));
}

TEST(Crop, RandomCropIsDeterministicForASeedAndCoversEveryOffset) {
  const Image im = numbered(5, 5, 1);
  Generator a(42), b(42), c(43);
  bool any_difference = false;
  std::set<std::pair<int, int>> offsets;
  for (int i = 0; i < 200; ++i) {
    const CropWindow wa = random_crop_window(5, 5, 3, 3, 1, a);
    const CropWindow wb = random_crop_window(5, 5, 3, 3, 1, b);
    const CropWindow wc = random_crop_window(5, 5, 3, 3, 1, c);
    EXPECT_EQ(wa, wb);
    any_difference |= !(wa == wc);
    ASSERT_GE(wa.left, -1);
    ASSERT_LE(wa.left, 3);  // padded width 7, crop 3: offsets -1..3
    ASSERT_GE(wa.top, -1);
    ASSERT_LE(wa.top, 3);
    offsets.insert({wa.left, wa.top});
  }
  EXPECT_TRUE(any_difference);
  EXPECT_EQ(offsets.size(), 25u);

  Generator d(7), e(7);
  const Image out = random_crop(im, 3, 3, 1, d);
  EXPECT_EQ(out, crop(im, random_crop_window(5, 5, 3, 3, 1, e)));
  Generator f(1);
  EXPECT_THROW(random_crop(im, 8, 3, 1, f), Error);
  EXPECT_NO_THROW(random_crop(im, 7, 7, 1, f));
}

TEST(Flip, FlipMirrorsAndTwiceIsTheIdentity) {
  const Image im = numbered(5, 3, 3);
  const Image once = flip_horizontal(im);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(once.at(x, y, c), im.at(4 - x, y, c));
  EXPECT_EQ(flip_horizontal(once), im);

  Generator g(5);
  int flipped = 0;
  for (int i = 0; i < 100; ++i) flipped += random_flip_horizontal(im, g) == once;
  EXPECT_GT(flipped, 25);
  EXPECT_LT(flipped, 75);
  EXPECT_EQ(random_flip_horizontal(im, g, 0.0), im);
  EXPECT_EQ(random_flip_horizontal(im, g, 1.0), once);
}

// ---- normalisation

TEST(Normalise, ImagenetPresetOnAnRgbPixel) {
  const Image im = make(2, 1, 3, {255, 0, 128, 10, 20, 30});
  const Tensor t = image_to_tensor(im, InputConvention::imagenet());
  ASSERT_EQ(t.shape(), (Shape{3, 1, 2}));
  const std::vector<float> v = t.to_vector<float>();
  const double mean[3] = {0.485, 0.456, 0.406}, stddev[3] = {0.229, 0.224, 0.225};
  const int pixels[2][3] = {{255, 0, 128}, {10, 20, 30}};
  for (int c = 0; c < 3; ++c)
    for (int x = 0; x < 2; ++x)
      EXPECT_NEAR(v[static_cast<std::size_t>(c * 2 + x)], (pixels[x][c] / 255.0 - mean[c]) / stddev[c], 1e-5)
          << "channel " << c << " x " << x;
}

TEST(Normalise, VggfacePresetIsBgrMinusTheMeanFace) {
  const Image im = make(1, 1, 3, {200, 100, 50});  // R, G, B
  const std::vector<float> v = image_to_tensor(im, InputConvention::vggface()).to_vector<float>();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_NEAR(v[0], 50 - 93.5940, 1e-4);    // B
  EXPECT_NEAR(v[1], 100 - 104.7624, 1e-4);  // G
  EXPECT_NEAR(v[2], 200 - 129.1863, 1e-4);  // R
}

TEST(Normalise, BgrSwapsOnlyTheChannelOrder) {
  InputConvention rgb = InputConvention::imagenet();
  rgb.mean = {0, 0, 0};
  rgb.std = {1, 1, 1};
  InputConvention bgr = rgb;
  bgr.order = InputConvention::ColorOrder::BGR;
  const Image im = numbered(3, 2, 3);
  const std::vector<float> a = image_to_tensor(im, rgb).to_vector<float>();
  const std::vector<float> b = image_to_tensor(im, bgr).to_vector<float>();
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(b[static_cast<std::size_t>(c * 6 + i)], a[static_cast<std::size_t>((2 - c) * 6 + i)]);
}

TEST(Normalise, Grey01AndChannelConversions) {
  const Image grey = make(3, 1, 1, {0, 51, 255});
  const std::vector<float> v = image_to_tensor(grey, InputConvention::grey01()).to_vector<float>();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_NEAR(v[0], -1.0, 1e-6);
  EXPECT_NEAR(v[1], -0.6, 1e-6);
  EXPECT_NEAR(v[2], 1.0, 1e-6);
  // A grey image under a 3-channel convention: the grey value in every channel.
  const Tensor t = image_to_tensor(grey, InputConvention::imagenet());
  ASSERT_EQ(t.shape(), (Shape{3, 1, 3}));
  const std::vector<float> w = t.to_vector<float>();
  EXPECT_NEAR(w[3 + 1], (51 / 255.0 - 0.456) / 0.224, 1e-5);
  // An RGB image under a 1-channel convention: its BT.601 luma.
  const Image red = make(1, 1, 3, {255, 0, 0});
  EXPECT_NEAR(image_to_tensor(red, InputConvention::grey01()).item<float>(), (76 / 255.0 - 0.5) / 0.5, 1e-6);
}

TEST(Normalise, WritesIntoABatchSlot) {
  const Image im = numbered(4, 3, 3);
  std::vector<float> slot(2 * 3 * 12, -7.0f);
  image_to_chw(im, InputConvention::imagenet(), slot.data() + 36);
  const std::vector<float> expected = image_to_tensor(im, InputConvention::imagenet()).to_vector<float>();
  for (std::size_t i = 0; i < 36; ++i) {
    EXPECT_EQ(slot[i], -7.0f);
    EXPECT_EQ(slot[36 + i], expected[i]);
  }
}

// ---- the string form

TEST(ConventionString, RoundTripsEveryPresetAndACustomOne) {
  InputConvention custom;
  custom.order = InputConvention::ColorOrder::BGR;
  custom.scale = 0.1f;
  custom.mean = {1e-7f, -3.25f, 123456.79f};
  custom.std = {0.3f, 2.0f, 1.0f / 3.0f};
  for (const InputConvention& c :
       {InputConvention::imagenet(), InputConvention::vggface(), InputConvention::grey01(), custom}) {
    const std::string text = c.to_string();
    EXPECT_EQ(InputConvention::parse(text), c) << text;
  }
  EXPECT_EQ(InputConvention::imagenet().to_string(),
            "rgb scale=0.003921569 mean=0.485,0.456,0.406 std=0.229,0.224,0.225");
  EXPECT_EQ(InputConvention::grey01().to_string(), "grey scale=0.003921569 mean=0.5 std=0.5");
  EXPECT_EQ(InputConvention::vggface().to_string(), "bgr scale=1 mean=93.594,104.7624,129.1863 std=1,1,1");
  // Fields in any order, extra spaces.
  EXPECT_EQ(InputConvention::parse("  grey  std=0.5 mean=0.5   scale=0.003921569 "), InputConvention::grey01());
  EXPECT_EQ(InputConvention::preset("vggface"), InputConvention::vggface());
}

void expect_parse_error(const std::string& text, const std::vector<std::string>& parts) {
  try {
    InputConvention::parse(text);
    ADD_FAILURE() << "no error for \"" << text << "\"";
  } catch (const Error& e) {
    for (const std::string& part : parts) EXPECT_THAT(e.what(), HasSubstr(part)) << "for \"" << text << "\"";
  }
}

TEST(ConventionString, ParseErrorsNameTheFieldAndValue) {
  expect_parse_error("", {"empty"});
  expect_parse_error("rgba scale=1 mean=0,0,0 std=1,1,1", {"rgba"});
  expect_parse_error("rgb scale=1 mean=0.5,abc,0.4 std=1,1,1", {"'mean'", "abc"});
  expect_parse_error("rgb scale=1 mean=0.5,0.4 std=1,1,1", {"'mean'", "0.5,0.4", "3 channel"});
  expect_parse_error("grey scale=1 mean=0.5 std=0.5,0.5", {"'std'", "0.5,0.5"});
  expect_parse_error("rgb scale=x1 mean=0,0,0 std=1,1,1", {"'scale'", "x1"});
  expect_parse_error("rgb scale=1 mean=0,0,0", {"'std'", "missing"});
  expect_parse_error("rgb scale=1 mean=0,0,0 std=1,1,1 gamma=2", {"'gamma'"});
  expect_parse_error("rgb scale=1 scale=2 mean=0,0,0 std=1,1,1", {"'scale'", "twice"});
  expect_parse_error("rgb scale=1 mean=0,0,0 std=1,0,1", {"'std'", "positive"});
  expect_parse_error("rgb scale=1 mean=0,,0 std=1,1,1", {"'mean'"});
  expect_parse_error("rgb scale=1 mean=nan,0,0 std=1,1,1", {"'mean'", "nan"});
  expect_parse_error("rgb scale mean=0,0,0 std=1,1,1", {"field=value", "scale"});
  EXPECT_THROW(InputConvention::preset("resnet"), Error);
}

}  // namespace
}  // namespace sceald::data
