// Converting published PyTorch checkpoints into our networks' weights, and
// running converted weights forward: the library side of `sceald convert`,
// `sceald forward` and `sceald inspect`.
//
// convert_checkpoint reads a state_dict (a .pth/.pt/.tar through
// load_torch_checkpoint, or a .safetensors file; told apart by their first
// bytes, not their names), builds our network (a fresh head where the
// checkpoint's does not fit), maps the names (key_maps.h), loads the mapped
// tensors and writes every tensor of the network to a .safetensors file whose
// metadata records:
//   arch, num_classes, width, in_channels (resnet18: also stem; vgg10ae: side, code_dim, hidden)
//   source            the checkpoint's file name (no folder)
//   source_format     zip, legacy or safetensors
//   key_map           the layout its names were read in
//   input_convention  how its inputs must be normalised, as
//                     data::InputConvention::to_string(): torchvision's VGG
//                     and ResNet (and MS-Celeb ResNets such as DAN's):
//                     `imagenet`; VGG-Face in Albanie's port: RGB 0..255 minus
//                     the mean face (129.186, 104.762, 93.594), the port's own
//                     meta (MatConvNet swapped Caffe's BGR first layer to RGB);
//                     DREAM: RGB in [0, 1], no mean or std (its ToTensor()
//                     only). An explicit convention overrides these.
//   initialised       our tensors that kept their fresh values (comma-separated)
//   init_seed         the seed those were drawn with
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/nn/module.h"
#include "engine/rng.h"
#include "nets/key_maps.h"
#include "nets/resnet18.h"

namespace sceald::nets {

// Which network, at which size.
struct NetSpec {
  Arch arch = Arch::VGG16;
  std::int64_t num_classes = 7;  // vgg16, resnet18
  std::int64_t in_channels = 3;
  double width = 1.0;            // width multiplier (1 = the published network)
  ResNetStem stem = ResNetStem::ImageNet;  // resnet18 only
  // vgg10ae only (VGG10AutoEncoderOptions)
  std::int64_t side = 48;
  std::int64_t code_dim = 300;
  std::int64_t hidden = 4096;
};

std::shared_ptr<nn::Module> build_net(const NetSpec& spec, Generator& gen);
// The metadata entries that describe `spec` (arch, num_classes, width, ...).
std::map<std::string, std::string> net_metadata(const NetSpec& spec);

struct ConvertOptions {
  std::string in_path;
  std::string out_path;
  NetSpec net;
  KeyMap key_map = KeyMap::Auto;
  // A preset name (imagenet, vggface, grey01) or a full InputConvention
  // string; empty: the source's own convention (see above).
  std::string input_convention;
  std::uint64_t seed = 0;  // for the tensors initialised afresh
};

struct ConversionReport {
  std::string source_path;
  std::string source_format;              // zip, legacy, safetensors
  std::vector<std::string> reader_notes;  // what the checkpoint reader unwrapped, stripped, converted
  NetSpec net;
  KeyMap key_map = KeyMap::Torchvision;   // the one used
  std::vector<MatchedKey> matched;
  std::vector<DroppedKey> dropped;
  std::vector<std::string> initialised;
  std::string input_convention;           // as written to the metadata
  std::map<std::string, std::string> metadata;
  std::string out_path;

  // Lines for a person: counts, then every dropped and initialised tensor,
  // and (when `list_matched`) every matched one.
  std::string summary(bool list_matched = false) const;
};

ConversionReport convert_checkpoint(const ConvertOptions& options);
// The same with the defaults for everything else (width 1, 3 channels).
ConversionReport convert_checkpoint(const std::string& in_path, const std::string& arch, std::int64_t num_classes,
                                    const std::string& key_map, const std::string& out_path);

// A state_dict from a PyTorch checkpoint or a .safetensors file.
struct LoadedStateDict {
  nn::NamedTensors tensors;
  std::string format;  // zip, legacy, safetensors
  std::vector<std::string> notes;
  std::map<std::string, std::string> metadata;  // safetensors only
};
LoadedStateDict load_state_dict_file(const std::string& path);

// ---- forward

// A network of `spec` with the weights of a converted .safetensors file
// (strict: every tensor, every shape). When the file's metadata names an
// arch, class count, width or channel count, they must agree with `spec`.
// Returned in evaluation mode.
std::shared_ptr<nn::Module> load_converted_net(const NetSpec& spec, const std::string& weights_path);

// What forward returns: `logits` or `feature` (vgg16: fc6 after its ReLU;
// resnet18: the pooled feature); vgg10ae: `code` (g(x); `feature` is
// accepted for it) or `reconstruction`.
// Runs `net` (built for `spec`) on input [N, C, H, W] (float32, already
// normalised; float64 is converted) in evaluation mode without autograd, in
// batches of `batch_size`, on `device` (the net is moved there); the result
// is on the CPU. A CUDA device in a build without the CUDA backend is a
// clear error.
Tensor run_forward(nn::Module& net, const NetSpec& spec, const Tensor& input, const std::string& layer,
                   Device device = Device::cpu(), std::int64_t batch_size = 32);

struct ForwardOptions {
  NetSpec net;
  std::string weights_path;
  std::string input_path;   // .npy
  std::string output_path;  // .npy
  std::string layer = "logits";
  std::string device = "cpu";
  std::int64_t batch_size = 32;
};
// What `sceald forward` does: load, run, write the output .npy; returns it.
Tensor forward_npy(const ForwardOptions& options);

// ---- inspect

// A description of a weights file for `sceald inspect`: a .safetensors file
// (tensors, metadata), a PyTorch checkpoint (format, tensors, reader notes,
// the layout its names suggest) or a .npy array (version, dtype, shape).
std::string describe_weights_file(const std::string& path);

}  // namespace sceald::nets
