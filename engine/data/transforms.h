// Image transforms for training and evaluation, on 8-bit Images, and the
// final conversion to a normalised float32 CHW tensor.
//
// The geometry follows PIL and torchvision so that numbers and checkpoints
// carry over:
// - resize: PIL's Image.resize(size, BILINEAR) bit for bit. A triangle
//   filter whose support grows with the shrink factor (antialiasing, as
//   torchvision's Resize(antialias=True)); without shrinking it is plain
//   bilinear interpolation with half-pixel centres (align_corners=False,
//   edges clamped). Horizontal pass first, rounded to 8 bits, then vertical;
//   weights in 22-bit fixed point, as PIL does.
// - centre_crop: torchvision's CenterCrop (offsets rounded half to even; a
//   crop larger than the image is padded with zeros).
// - random_crop: torchvision's RandomCrop(size, padding) with zero padding:
//   the top row is drawn first, then the left column.
#pragma once

#include <array>
#include <string>

#include "engine/data/image.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace sceald::data {

// ---- geometry

// The image resampled to width x height (both >= 1, within kMaxImageSide and
// kMaxImagePixels). Same size: a copy.
Image resize(const Image& image, int width, int height);
// Shorter side to `size`, the longer one scaled and truncated as torchvision's
// Resize(int) does: long * size / short.
Image resize_shorter_side(const Image& image, int size);

// A window in image coordinates; it may reach outside the image.
struct CropWindow {
  int left = 0;
  int top = 0;
  int width = 0;
  int height = 0;
  bool operator==(const CropWindow&) const = default;
};

// The pixels inside `window`; parts outside the image are zero.
Image crop(const Image& image, const CropWindow& window);
CropWindow centre_crop_window(int image_width, int image_height, int crop_width, int crop_height);
Image centre_crop(const Image& image, int crop_width, int crop_height);
// A window drawn uniformly among those that fit the image padded with
// `padding` zero pixels on every side; throws when the crop does not fit.
CropWindow random_crop_window(int image_width, int image_height, int crop_width, int crop_height, int padding,
                              Generator& generator);
Image random_crop(const Image& image, int crop_width, int crop_height, int padding, Generator& generator);

Image flip_horizontal(const Image& image);
// Flipped with probability p (one uniform draw, as torchvision's
// RandomHorizontalFlip); otherwise a copy.
Image random_flip_horizontal(const Image& image, Generator& generator, double p = 0.5);

// ---- normalisation

// How a network expects its input: out = (pixel * scale - mean) / std per
// channel, channels in `order`. mean and std are listed in the tensor's
// channel order (for BGR: blue first). One-channel conventions use mean[0]
// and std[0]; their other entries are 0 and 1.
struct InputConvention {
  enum class ColorOrder { RGB, BGR };
  ColorOrder order = ColorOrder::RGB;
  float scale = 1.0f / 255.0f;  // 1/255 or 1
  std::array<float, 3> mean{0.0f, 0.0f, 0.0f};
  std::array<float, 3> std{1.0f, 1.0f, 1.0f};
  int channels = 3;  // 1 or 3

  // torchvision's ImageNet models: RGB in [0, 1], ImageNet mean and std.
  static InputConvention imagenet();
  // The VGG-Face (Oxford VGG, Caffe) models: BGR in 0..255 minus the mean face.
  static InputConvention vggface();
  // One grey channel mapped to [-1, 1].
  static InputConvention grey01();
  // One of the above by name: "imagenet", "vggface", "grey01".
  static InputConvention preset(const std::string& name);

  // "rgb scale=0.003921569 mean=0.485,0.456,0.406 std=0.229,0.224,0.225";
  // the first word is rgb, bgr or grey (one channel, one value per list).
  // Numbers are written in the shortest form that reads back to the same
  // float, so parse(to_string()) == *this.
  std::string to_string() const;
  // Errors name the field and the offending value.
  static InputConvention parse(const std::string& text);

  bool operator==(const InputConvention&) const = default;
};

// Writes the image as convention.channels planes of height*width floats to
// `dst` (CHW). A grey image is repeated for a 3-channel convention and an RGB
// image made grey (rgb_to_grey) for a 1-channel one.
void image_to_chw(const Image& image, const InputConvention& convention, float* dst);
// The same into a new float32 CPU tensor of shape [channels, height, width].
Tensor image_to_tensor(const Image& image, const InputConvention& convention);

}  // namespace sceald::data
