// Conversion of published checkpoint layouts (fixtures written by PyTorch:
// tests/golden/make_convert_fixtures.py) and forward through the converted
// weights, checked against PyTorch's own outputs.
#include "nets/convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "engine/cuda_runtime.h"
#include "engine/data/transforms.h"
#include "engine/io/atomic_file.h"
#include "engine/io/torch_checkpoint.h"
#include "engine/error.h"
#include "engine/io/npy.h"
#include "engine/io/safetensors.h"
#include "nets/resnet18.h"
#include "nets/vgg10_autoencoder.h"
#include "nets/vgg16.h"
#include "support/tolerance.h"

namespace sceald::nets {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string fixture(const std::string& name) {
  return std::string(SCEALD_SOURCE_DIR) + "/tests/golden/fixtures/" + name;
}

// One published layout as the fixtures hold it.
struct Case {
  std::string name;    // file stem: convert_<name>_{plain,wrapped}_{zip,legacy}.pth
  NetSpec net;         // what we convert it into
  KeyMap key_map;      // what auto-detection must find
  bool has_logits;     // false: the head is dropped, so compare features only
  std::size_t dropped_plain;  // checkpoint tensors without a place in our net
  std::vector<std::string> initialised;
};

NetSpec spec(Arch arch, double width, std::int64_t num_classes = 7) {
  NetSpec s;
  s.arch = arch;
  s.width = width;
  s.num_classes = num_classes;
  return s;
}

const std::vector<std::string> kVGGHead = {"classifier.6.weight", "classifier.6.bias"};
const std::vector<std::string> kResNetHead = {"fc.weight", "fc.bias"};

std::vector<Case> cases() {
  return {
      {"vgg16_tv", spec(Arch::VGG16, 1.0 / 64), KeyMap::Torchvision, true, 0, {}},
      {"vggface", spec(Arch::VGG16, 1.0 / 128), KeyMap::VGGFace, false, 2, kVGGHead},
      {"resnet18_tv", spec(Arch::ResNet18, 1.0 / 32), KeyMap::Torchvision, true, 0, {}},
      {"dream", spec(Arch::ResNet18, 1.0 / 32), KeyMap::Dream, false, 4, kResNetHead},
      {"vgg16_bn_tv", spec(Arch::VGG16BN, 1.0 / 64), KeyMap::Torchvision, true, 0, {}},
  };
}

class ConvertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("sceald_convert_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs the converted weights through forward_npy, as `sceald forward` does.
  Tensor forward(const NetSpec& net, const std::string& weights, const std::string& layer) {
    ForwardOptions o;
    o.net = net;
    o.weights_path = weights;
    o.input_path = fixture("convert_input.npy");
    o.output_path = path(layer + ".npy");
    o.layer = layer;
    o.batch_size = 1;  // two batches: the concatenation is exercised too
    const Tensor out = forward_npy(o);
    const Tensor written = io::load_npy(o.output_path);
    EXPECT_EQ(written.shape(), out.shape());
    EXPECT_EQ(written.to_vector<float>(), out.to_vector<float>());
    return out;
  }

  fs::path dir_;
};

// 1e-4 relative to the output's scale: float32 sums in another order.
::testing::AssertionResult matches_pytorch(const Tensor& actual, const Tensor& expected) {
  const auto e = expected.to_vector<double>();
  double scale = 0;
  for (double v : e) scale = std::max(scale, std::fabs(v));
  if (scale == 0) return ::testing::AssertionFailure() << "the reference is all zeros: a useless fixture";
  return testing::all_close(actual, expected, {1e-4 * scale, 1e-4});
}

TEST_F(ConvertTest, EveryLayoutFormatAndWrapperMatchesPyTorch) {
  for (const Case& c : cases()) {
    const Tensor want_feature = io::load_npy(fixture("convert_" + c.name + "_feature.npy"));
    for (const char* wrapper : {"plain", "wrapped"}) {
      for (const char* format : {"zip", "legacy"}) {
        const std::string file = "convert_" + c.name + "_" + wrapper + "_" + format + ".pth";
        SCOPED_TRACE(file);
        ConvertOptions o;
        o.in_path = fixture(file);
        o.out_path = path(c.name + ".safetensors");
        o.net = c.net;
        const ConversionReport report = convert_checkpoint(o);
        EXPECT_EQ(report.source_format, format);
        EXPECT_EQ(report.key_map, c.key_map);
        EXPECT_EQ(report.dropped.size(), c.dropped_plain);
        EXPECT_EQ(report.initialised, c.initialised);
        Generator gen(0);
        EXPECT_EQ(report.matched.size() + report.initialised.size(), build_net(c.net, gen)->state_dict().size());
        if (std::string(wrapper) == "wrapped") {
          bool stripped = false;
          for (const std::string& note : report.reader_notes) stripped |= note.find("module.") != std::string::npos;
          EXPECT_TRUE(stripped) << "the reader reports stripping 'module.'";
        }
        EXPECT_TRUE(matches_pytorch(forward(c.net, o.out_path, "feature"), want_feature));
        if (c.has_logits) {
          EXPECT_TRUE(matches_pytorch(forward(c.net, o.out_path, "logits"),
                                      io::load_npy(fixture("convert_" + c.name + "_logits.npy"))));
        }
      }
    }
  }
}

TEST_F(ConvertTest, ReportsWhatWasMatchedDroppedAndInitialised) {
  ConvertOptions o;
  o.in_path = fixture("convert_vggface_wrapped_legacy.pth");
  o.out_path = path("vggface.safetensors");
  o.net = spec(Arch::VGG16, 1.0 / 128);
  const ConversionReport r = convert_checkpoint(o);
  auto matched = [&](const std::string& source) -> const MatchedKey* {
    for (const MatchedKey& m : r.matched)
      if (m.source == source) return &m;
    return nullptr;
  };
  ASSERT_TRUE(matched("conv1_1.weight"));
  EXPECT_EQ(matched("conv1_1.weight")->target, "features.0.weight");
  EXPECT_EQ(matched("conv5_3.bias")->target, "features.28.bias");
  ASSERT_TRUE(matched("fc6.weight"));
  EXPECT_EQ(matched("fc6.weight")->target, "classifier.0.weight");
  EXPECT_EQ(matched("fc6.weight")->note, "reshaped [32, 4, 7, 7] -> [32, 196]");
  EXPECT_EQ(matched("fc7.weight")->note, "reshaped [32, 32, 1, 1] -> [32, 32]");
  ASSERT_EQ(r.dropped.size(), 2u);
  EXPECT_EQ(r.dropped[0].source, "fc8.weight");
  EXPECT_THAT(r.dropped[0].reason, HasSubstr("2622 classes, 7 wanted"));
  const std::string text = r.summary(/*list_matched=*/true);
  EXPECT_THAT(text, HasSubstr("matched 30, dropped 2, initialised 2"));
  EXPECT_THAT(text, HasSubstr("dropped      fc8.bias: a head of 2622 classes"));
  EXPECT_THAT(text, HasSubstr("initialised  classifier.6.weight"));
  EXPECT_THAT(text, HasSubstr("matched      conv2_1.weight -> features.5.weight"));
  EXPECT_THAT(text, HasSubstr("reader: "));

  o.in_path = fixture("convert_dream_plain_zip.pth");
  o.net = spec(Arch::ResNet18, 1.0 / 32);
  const ConversionReport d = convert_checkpoint(o);
  std::set<std::string> dropped;
  for (const DroppedKey& k : d.dropped) dropped.insert(k.source);
  EXPECT_EQ(dropped, (std::set<std::string>{"feature.weight", "feature.bias", "fc.weight", "fc.bias"}));
  EXPECT_THAT(d.summary(), HasSubstr("dropped      feature.weight: DREAM's 256-d feature layer"));
}

TEST_F(ConvertTest, HeadOfTheRightSizeIsKeptAndOfAnotherSizeReplaced) {
  ConvertOptions o;
  o.in_path = fixture("convert_vggface_plain_zip.pth");
  o.out_path = path("vggface2622.safetensors");
  o.net = spec(Arch::VGG16, 1.0 / 128, 2622);
  const ConversionReport keep = convert_checkpoint(o);
  EXPECT_TRUE(keep.dropped.empty());
  EXPECT_TRUE(keep.initialised.empty());
  const io::SafetensorsFile written = io::load_safetensors(o.out_path);
  const io::TorchCheckpoint source = io::load_torch_checkpoint(o.in_path);
  EXPECT_EQ(written.at("classifier.6.weight").to_vector<float>(), source.find("fc8.weight")->to_vector<float>());

  // torchvision's ResNet-18 with 7 classes, asked for 5: fc is initialised
  // afresh (reproducibly, from the seed) and the features are unchanged.
  o.in_path = fixture("convert_resnet18_tv_plain_legacy.pth");
  o.out_path = path("resnet5.safetensors");
  o.net = spec(Arch::ResNet18, 1.0 / 32, 5);
  const ConversionReport replaced = convert_checkpoint(o);
  EXPECT_EQ(replaced.initialised, kResNetHead);
  ASSERT_EQ(replaced.dropped.size(), 2u);
  EXPECT_THAT(replaced.dropped[0].reason, HasSubstr("a head of 7 classes, 5 wanted"));
  EXPECT_TRUE(matches_pytorch(forward(o.net, o.out_path, "feature"), io::load_npy(fixture("convert_resnet18_tv_feature.npy"))));
  EXPECT_EQ(forward(o.net, o.out_path, "logits").shape(), (Shape{2, 5}));
  const auto fc1 = io::load_safetensors(o.out_path).at("fc.weight").to_vector<float>();
  convert_checkpoint(o);
  EXPECT_EQ(io::load_safetensors(o.out_path).at("fc.weight").to_vector<float>(), fc1) << "same seed, same head";
  o.seed = 1;
  convert_checkpoint(o);
  EXPECT_NE(io::load_safetensors(o.out_path).at("fc.weight").to_vector<float>(), fc1);
}

TEST_F(ConvertTest, MetadataRecordsTheNetTheSourceAndItsInputConvention) {
  const std::string out = path("tv.safetensors");
  ConvertOptions o;
  o.in_path = fixture("convert_vgg16_tv_wrapped_zip.pth");
  o.out_path = out;
  o.net = spec(Arch::VGG16, 1.0 / 64);
  convert_checkpoint(o);
  auto meta = io::load_safetensors(out).metadata;
  EXPECT_EQ(meta.at("arch"), "vgg16");
  EXPECT_EQ(meta.at("num_classes"), "7");
  EXPECT_EQ(meta.at("width"), "0.015625");
  EXPECT_EQ(meta.at("in_channels"), "3");
  EXPECT_EQ(meta.at("source"), "convert_vgg16_tv_wrapped_zip.pth");
  EXPECT_EQ(meta.at("source_format"), "zip");
  EXPECT_EQ(meta.at("key_map"), "torchvision");
  EXPECT_EQ(meta.at("input_convention"), data::InputConvention::imagenet().to_string());
  EXPECT_EQ(meta.at("initialised"), "");

  o.in_path = fixture("convert_vggface_plain_zip.pth");
  o.net = spec(Arch::VGG16, 1.0 / 128);
  convert_checkpoint(o);
  meta = io::load_safetensors(out).metadata;
  const auto vggface = data::InputConvention::parse(meta.at("input_convention"));
  EXPECT_EQ(vggface.order, data::InputConvention::ColorOrder::RGB) << "Albanie's port takes RGB";
  EXPECT_EQ(vggface.scale, 1.0f);
  EXPECT_FLOAT_EQ(vggface.mean[0], 129.186279296875f);
  EXPECT_EQ(meta.at("initialised"), "classifier.6.weight,classifier.6.bias");
  EXPECT_EQ(meta.at("key_map"), "vggface");

  o.input_convention = "vggface";  // an explicit choice wins
  convert_checkpoint(o);
  EXPECT_EQ(io::load_safetensors(out).metadata.at("input_convention"), data::InputConvention::vggface().to_string());

  o.input_convention = "";
  o.in_path = fixture("convert_dream_wrapped_legacy.pth");
  o.net = spec(Arch::ResNet18, 1.0 / 32);
  convert_checkpoint(o);
  const auto dream = data::InputConvention::parse(io::load_safetensors(out).metadata.at("input_convention"));
  EXPECT_EQ(dream.mean, (std::array<float, 3>{0, 0, 0}));
  EXPECT_EQ(dream.std, (std::array<float, 3>{1, 1, 1}));
  EXPECT_FLOAT_EQ(dream.scale, 1.0f / 255.0f);
}

// The message of the sceald::Error `f` throws.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a sceald::Error";
  return "";
}

TEST_F(ConvertTest, ClearErrorsForWrongArchWidthLayoutAndFiles) {
  const std::string out = path("out.safetensors");
  auto convert = [&](const std::string& file, Arch arch, double width, KeyMap key_map = KeyMap::Auto) {
    ConvertOptions o;
    o.in_path = fixture(file);
    o.out_path = out;
    o.net = spec(arch, width);
    o.key_map = key_map;
    return error_of([&] { convert_checkpoint(o); });
  };
  EXPECT_THAT(convert("convert_vgg16_tv_plain_zip.pth", Arch::ResNet18, 1.0 / 64),
              HasSubstr("holds a vgg16 in torchvision names, not a resnet18: pass --arch vgg16"));
  EXPECT_THAT(convert("convert_dream_plain_zip.pth", Arch::VGG16, 1.0 / 32), HasSubstr("pass --arch resnet18"));
  EXPECT_THAT(convert("convert_vgg16_bn_tv_plain_zip.pth", Arch::VGG16, 1.0 / 64), HasSubstr("pass --arch vgg16_bn"));
  EXPECT_THAT(convert("convert_vgg16_tv_plain_zip.pth", Arch::VGG16BN, 1.0 / 64), HasSubstr("pass --arch vgg16 "));
  const std::string width = convert("convert_vgg16_tv_plain_zip.pth", Arch::VGG16, 1.0 / 32);
  EXPECT_THAT(width, HasSubstr("shape mismatches"));
  EXPECT_THAT(width, HasSubstr("features.0.weight: checkpoint [1, 3, 3, 3] vs ours [2, 3, 3, 3]"));
  EXPECT_THAT(width, HasSubstr("--width-mult"));
  EXPECT_THAT(convert("convert_resnet18_tv_plain_zip.pth", Arch::VGG16, 1.0 / 64, KeyMap::VGGFace),
              HasSubstr("maps nothing onto our vgg16"));
  EXPECT_THAT(convert("convert_resnet18_tv_plain_zip.pth", Arch::VGG16, 1.0 / 64, KeyMap::Torchvision),
              HasSubstr("maps nothing"));
  // DREAM's fc read as torchvision's: [100, 8] is no class-count change of [7, 16].
  EXPECT_THAT(convert("convert_dream_plain_zip.pth", Arch::ResNet18, 1.0 / 32, KeyMap::Torchvision),
              HasSubstr("fc.weight: checkpoint [100, 8] vs ours [7, 16]"));
  EXPECT_THAT(convert("convert_dream_plain_zip.pth", Arch::VGG16, 1.0 / 32, KeyMap::Dream),
              HasSubstr("the key map 'dream' is for resnet18, not vgg16"));
  EXPECT_THAT(convert("convert_input.npy", Arch::VGG16, 1.0), HasSubstr("is a .npy array, not a checkpoint"));
  EXPECT_FALSE(fs::exists(out)) << "nothing written after an error";

  // A layout nobody knows, and a checkpoint that leaves part of our net empty.
  const std::string odd = path("odd.safetensors");
  io::save_safetensors(odd, {{"backbone.stem.weight", Tensor::zeros({2, 2})}});
  EXPECT_THAT(error_of([&] { convert_checkpoint(odd, "vgg16", 7, "auto", out); }),
              HasSubstr("cannot tell which layout"));
  EXPECT_THAT(error_of([&] { convert_checkpoint(odd, "vgg19", 7, "auto", out); }), HasSubstr("unknown architecture 'vgg19'"));
  EXPECT_THAT(error_of([&] { convert_checkpoint(odd, "vgg16", 7, "caffe", out); }), HasSubstr("unknown key map 'caffe'"));
  Generator gen(3);
  auto vgg = build_net(spec(Arch::VGG16, 1.0 / 64), gen);
  nn::NamedTensors features_only;
  for (const auto& [name, t] : vgg->state_dict())
    if (name.rfind("features.", 0) == 0) features_only.emplace_back(name, t);
  const std::string partial = path("partial.safetensors");
  io::save_safetensors(partial, features_only);
  ConvertOptions o;
  o.in_path = partial;
  o.out_path = out;
  o.net = spec(Arch::VGG16, 1.0 / 64);
  EXPECT_THAT(error_of([&] { convert_checkpoint(o); }),
              HasSubstr("leaves 4 of our vgg16's 32 tensors without a value: classifier.0.weight"));
}

TEST_F(ConvertTest, ForwardChecksTheWeightsAgainstTheNetAndTheDevice) {
  ConvertOptions c;
  c.in_path = fixture("convert_resnet18_tv_plain_zip.pth");
  c.out_path = path("r.safetensors");
  c.net = spec(Arch::ResNet18, 1.0 / 32);
  convert_checkpoint(c);
  ForwardOptions o;
  o.net = c.net;
  o.weights_path = c.out_path;
  o.input_path = fixture("convert_input.npy");
  o.output_path = path("y.npy");
  o.net.num_classes = 5;
  EXPECT_THAT(error_of([&] { forward_npy(o); }), HasSubstr("holds weights for num_classes 7, but --num-classes is 5"));
  o.net = c.net;
  o.net.width = 1.0 / 16;
  EXPECT_THAT(error_of([&] { forward_npy(o); }), HasSubstr("pass --width-mult 0.03125"));
  o.net = c.net;
  o.net.arch = Arch::VGG16;
  EXPECT_THAT(error_of([&] { forward_npy(o); }), HasSubstr("arch resnet18, but --arch is vgg16"));
  o.net = c.net;
  o.layer = "fc7";
  EXPECT_THAT(error_of([&] { forward_npy(o); }), HasSubstr("unknown layer 'fc7'"));
  o.layer = "logits";
  o.device = "cuda";
  if (!cuda::compiled()) EXPECT_THAT(error_of([&] { forward_npy(o); }), HasSubstr("built without the CUDA backend"));
  o.device = "cpu";
  const std::string grey = path("grey.npy");
  io::save_npy(grey, Tensor::zeros({1, 1, 32, 32}));
  o.input_path = grey;
  EXPECT_THAT(error_of([&] { forward_npy(o); }), HasSubstr("has 1 channels, the network takes 3"));
  EXPECT_FALSE(fs::exists(o.output_path));
}

TEST_F(ConvertTest, AutoEncoderAndSafetensorsSourcesConvertByIdentity) {
  NetSpec ae = spec(Arch::VGG10AutoEncoder, 1.0 / 16);
  ae.side = 32;
  ae.code_dim = 5;
  ae.hidden = 8;
  Generator gen(11);
  auto original = build_net(ae, gen);
  const std::string source = path("ae_source.safetensors");
  io::save_safetensors(source, original->state_dict());
  ConvertOptions c;
  c.in_path = source;
  c.out_path = path("ae.safetensors");
  c.net = ae;
  const ConversionReport r = convert_checkpoint(c);
  EXPECT_EQ(r.source_format, "safetensors");
  EXPECT_EQ(r.key_map, KeyMap::Torchvision);
  EXPECT_TRUE(r.dropped.empty());
  EXPECT_TRUE(r.initialised.empty());
  Generator input_gen(5);
  const Tensor x = input_gen.normal({3, 3, 32, 32}, 0.0, 1.0);
  original->eval();
  const Tensor want = dynamic_cast<VGG10AutoEncoder&>(*original).encode(x);
  auto net = load_converted_net(ae, c.out_path);
  EXPECT_EQ(run_forward(*net, ae, x, "code").to_vector<float>(), want.to_vector<float>());
  EXPECT_EQ(run_forward(*net, ae, x, "reconstruction", Device::cpu(), 2).shape(), (Shape{3, 3, 32, 32}));
  EXPECT_EQ(run_forward(*net, ae, Tensor::zeros({0, 3, 32, 32}), "code").shape(), (Shape{0, 5}));

  // A converted file converts again to the same tensors.
  ConvertOptions again;
  again.in_path = fixture("convert_vgg16_tv_plain_legacy.pth");
  again.out_path = path("once.safetensors");
  again.net = spec(Arch::VGG16, 1.0 / 64);
  convert_checkpoint(again);
  again.in_path = again.out_path;
  again.out_path = path("twice.safetensors");
  convert_checkpoint(again);
  const auto once = io::load_safetensors(path("once.safetensors")), twice = io::load_safetensors(again.out_path);
  ASSERT_EQ(once.tensors.size(), twice.tensors.size());
  for (std::size_t i = 0; i < once.tensors.size(); ++i)
    EXPECT_EQ(once.tensors[i].second.to_vector<double>(), twice.tensors[i].second.to_vector<double>());
}

TEST_F(ConvertTest, DescribesSafetensorsCheckpointsAndNpy) {
  const std::string vggface = describe_weights_file(fixture("convert_vggface_wrapped_legacy.pth"));
  EXPECT_THAT(vggface, HasSubstr("PyTorch checkpoint (legacy), 32 tensors"));
  EXPECT_THAT(vggface, HasSubstr("  fc6.weight  float32[32, 4, 7, 7]"));
  EXPECT_THAT(vggface, HasSubstr("layout: vgg16 in vggface names"));
  EXPECT_THAT(vggface, HasSubstr("note: "));
  EXPECT_THAT(describe_weights_file(fixture("convert_input.npy")), HasSubstr("npy 1.0, '<f4' [2, 3, 64, 48]"));
  ConvertOptions c;
  c.in_path = fixture("convert_resnet18_tv_plain_zip.pth");
  c.out_path = path("x.safetensors");
  c.net = spec(Arch::ResNet18, 1.0 / 32);
  convert_checkpoint(c);
  const std::string converted = describe_weights_file(c.out_path);
  EXPECT_THAT(converted, HasSubstr("safetensors, 122 tensors"));
  EXPECT_THAT(converted, HasSubstr("metadata key_map = torchvision"));
  EXPECT_THAT(converted, HasSubstr("  layer4.1.bn2.num_batches_tracked  int64[]"));
  const std::string junk = path("junk.bin");
  io::write_file_atomically(junk, [](std::ostream& os) { os << "hello"; });
  EXPECT_THAT(error_of([&] { describe_weights_file(junk); }), HasSubstr("first bytes: 68 65 6c 6c 6f"));
}

}  // namespace
}  // namespace sceald::nets
