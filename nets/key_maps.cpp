#include "nets/key_maps.h"

#include <algorithm>
#include <map>
#include <set>

#include "engine/error.h"

namespace sceald::nets {

namespace {

// ---------------------------------------------------------------- names

std::string first_component(const std::string& name) { return name.substr(0, name.find('.')); }
std::string after_first_component(const std::string& name) {
  const std::size_t dot = name.find('.');
  return dot == std::string::npos ? "" : name.substr(dot);
}

// "a, b, c and 7 more": long lists stay readable in one error line.
std::string listed(const std::vector<std::string>& names, std::size_t shown = 8) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += str_cat(" and ", names.size() - shown, " more");
  return out;
}

bool is_vggface_conv(const std::string& component) {
  // conv1_1 .. conv5_3
  return component.size() == 7 && component.compare(0, 4, "conv") == 0 && component[4] >= '1' &&
         component[4] <= '5' && component[5] == '_' && component[6] >= '1' && component[6] <= '3';
}

// Each layout's top-level names.
const std::set<std::string> kVGGTorchvision = {"features", "classifier"};
const std::set<std::string> kVGGFace = {"fc6", "fc7", "fc8"};  // plus conv{b}_{i}
const std::set<std::string> kResNet = {"conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"};
const std::set<std::string> kDreamExtras = {"feature", "fc1", "fc2"};
const std::set<std::string> kAutoEncoder = {"encoder", "decoder"};

// torchvision's index in `features` of VGG-Face's conv{block}_{i}.
const std::map<std::string, int> kVGGFaceConvIndex = {
    {"conv1_1", 0},  {"conv1_2", 2},  {"conv2_1", 5},  {"conv2_2", 7},  {"conv3_1", 10},
    {"conv3_2", 12}, {"conv3_3", 14}, {"conv4_1", 17}, {"conv4_2", 19}, {"conv4_3", 21},
    {"conv5_1", 24}, {"conv5_2", 26}, {"conv5_3", 28},
};
const std::map<std::string, int> kVGGFaceFcIndex = {{"fc6", 0}, {"fc7", 3}, {"fc8", 6}};

std::string head_prefix(Arch arch) {
  switch (arch) {
    case Arch::VGG16:
    case Arch::VGG16BN: return "classifier.6.";
    case Arch::ResNet18: return "fc.";
    case Arch::VGG10AutoEncoder: return "";
  }
  return "";
}

bool is_head(Arch arch, const std::string& name) {
  const std::string prefix = head_prefix(arch);
  return !prefix.empty() && name.rfind(prefix, 0) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ---------------------------------------------------------------- renaming

// Our name for a checkpoint name under `key_map`, or the reason it has none.
struct Renamed {
  std::string target;  // empty: dropped
  std::string reason;
};

Renamed rename(KeyMap key_map, const std::string& name) {
  const std::string top = first_component(name), rest = after_first_component(name);
  switch (key_map) {
    case KeyMap::Auto:
    case KeyMap::Torchvision: return {name, ""};
    case KeyMap::VGGFace:
      if (auto it = kVGGFaceConvIndex.find(top); it != kVGGFaceConvIndex.end())
        return {str_cat("features.", it->second, rest), ""};
      if (auto it = kVGGFaceFcIndex.find(top); it != kVGGFaceFcIndex.end())
        return {str_cat("classifier.", it->second, rest), ""};
      return {"", "not a layer of VGG-Face (conv1_1 .. conv5_3, fc6, fc7, fc8)"};
    case KeyMap::Dream:
      if (top == "feature")
        return {"", "DREAM's 256-d feature layer above the pooled feature; torchvision's ResNet-18 has none"};
      if (top == "fc1" || top == "fc2") return {"", "DREAM's end-to-end branch; torchvision's ResNet-18 has none"};
      if (top == "fc") return {"", "DREAM's classifier reads the 256-d feature layer, not the pooled feature"};
      return {name, ""};
  }
  return {name, ""};
}

bool key_map_fits(KeyMap key_map, Arch arch) {
  switch (key_map) {
    case KeyMap::VGGFace: return arch == Arch::VGG16;
    case KeyMap::Dream: return arch == Arch::ResNet18;
    default: return true;
  }
}

std::string layout_str(const DetectedLayout& l) {
  return str_cat(arch_name(l.arch), " in ", key_map_name(l.key_map), " names");
}

}  // namespace

// ---------------------------------------------------------------- names of things

Arch parse_arch(const std::string& name) {
  if (name == "vgg16") return Arch::VGG16;
  if (name == "vgg16_bn") return Arch::VGG16BN;
  if (name == "resnet18") return Arch::ResNet18;
  if (name == "vgg10ae") return Arch::VGG10AutoEncoder;
  throw Error(str_cat("unknown architecture '", name, "' (known: vgg16, vgg16_bn, resnet18, vgg10ae)"));
}

const char* arch_name(Arch arch) {
  switch (arch) {
    case Arch::VGG16: return "vgg16";
    case Arch::VGG16BN: return "vgg16_bn";
    case Arch::ResNet18: return "resnet18";
    case Arch::VGG10AutoEncoder: return "vgg10ae";
  }
  return "?";
}

KeyMap parse_key_map(const std::string& name) {
  if (name == "auto") return KeyMap::Auto;
  if (name == "torchvision") return KeyMap::Torchvision;
  if (name == "vggface") return KeyMap::VGGFace;
  if (name == "dream") return KeyMap::Dream;
  throw Error(str_cat("unknown key map '", name, "' (known: auto, torchvision, vggface, dream)"));
}

const char* key_map_name(KeyMap key_map) {
  switch (key_map) {
    case KeyMap::Auto: return "auto";
    case KeyMap::Torchvision: return "torchvision";
    case KeyMap::VGGFace: return "vggface";
    case KeyMap::Dream: return "dream";
  }
  return "?";
}

// ---------------------------------------------------------------- detection

DetectedLayout detect_layout(const nn::NamedTensors& source, const std::string& source_name) {
  SCEALD_CHECK(!source.empty(), "'", source_name, "' holds no tensors: nothing to convert");
  std::set<std::string> tops;
  for (const auto& [name, _] : source) tops.insert(first_component(name));
  auto all_in = [&](auto&& accepts) { return std::all_of(tops.begin(), tops.end(), accepts); };
  auto any_in = [&](const std::set<std::string>& set) {
    return std::any_of(tops.begin(), tops.end(), [&](const std::string& t) { return set.count(t) > 0; });
  };
  if (all_in([](const std::string& t) { return kVGGTorchvision.count(t) > 0; }) && tops.count("features")) {
    // vgg16_bn: features.1 is the first BatchNorm2d (features.1 of vgg16 is a ReLU, which holds no tensor).
    const bool bn = std::any_of(source.begin(), source.end(),
                                [](const auto& named) { return named.first.rfind("features.1.", 0) == 0; });
    return {bn ? Arch::VGG16BN : Arch::VGG16, KeyMap::Torchvision};
  }
  if (all_in([](const std::string& t) { return is_vggface_conv(t) || kVGGFace.count(t) > 0; }))
    return {Arch::VGG16, KeyMap::VGGFace};
  if (all_in([](const std::string& t) { return kResNet.count(t) > 0 || kDreamExtras.count(t) > 0; }) &&
      tops.count("layer1")) {
    return {Arch::ResNet18, any_in(kDreamExtras) ? KeyMap::Dream : KeyMap::Torchvision};
  }
  if (all_in([](const std::string& t) { return kAutoEncoder.count(t) > 0; }))
    return {Arch::VGG10AutoEncoder, KeyMap::Torchvision};
  std::vector<std::string> first(tops.begin(), tops.end());
  throw Error(str_cat("cannot tell which layout '", source_name, "' uses: its names start with ", listed(first),
                      ". Known: torchvision vgg16 and vgg16_bn (features., classifier.), VGG-Face (conv1_1 .. conv5_3, fc6..fc8), "
                      "torchvision resnet18 (conv1, bn1, layer1..4, fc), DREAM resnet18 (the same plus feature), "
                      "our vgg10ae (encoder., decoder.). Pass --key-map to force one."));
}

// ---------------------------------------------------------------- mapping

KeyMap resolve_key_map(const nn::NamedTensors& source, Arch arch, KeyMap key_map, const std::string& source_name) {
  if (key_map == KeyMap::Auto) {
    const DetectedLayout found = detect_layout(source, source_name);
    if (found.arch != arch) {
      throw Error(str_cat("'", source_name, "' holds a ", layout_str(found), ", not a ", arch_name(arch),
                          ": pass --arch ", arch_name(found.arch), " (or --key-map to force a layout)"));
    }
    key_map = found.key_map;
  }
  SCEALD_CHECK(key_map_fits(key_map, arch), "the key map '", key_map_name(key_map), "' is for ",
               key_map == KeyMap::VGGFace ? "vgg16" : "resnet18", ", not ", arch_name(arch));
  return key_map;
}

MappedState map_state_dict(const nn::NamedTensors& source, Arch arch, KeyMap key_map, const nn::Module& target,
                           const std::string& source_name) {
  MappedState out;
  key_map = resolve_key_map(source, arch, key_map, source_name);
  out.key_map = key_map;

  std::map<std::string, Tensor> ours;
  const nn::NamedTensors own = target.state_dict();
  for (const auto& [name, t] : own) ours.emplace(name, t);

  std::set<std::string> provided;
  std::vector<std::string> mismatches;
  for (const auto& [name, tensor] : source) {
    const Renamed r = rename(key_map, name);
    if (r.target.empty()) {
      out.dropped.push_back({name, r.reason});
      continue;
    }
    auto it = ours.find(r.target);
    if (it == ours.end()) {
      out.dropped.push_back({name, str_cat("our ", arch_name(arch), " has no tensor '", r.target, "'")});
      continue;
    }
    const Shape& want = it->second.shape();
    Tensor value = tensor;
    std::string note;
    // A fully connected layer stored as a convolution over the whole input
    // ([out, C, kh, kw], VGG-Face's fc6): flattening (C, kh, kw) row-major is
    // the same order as flattening the [C, kh, kw] input it reads.
    if (key_map == KeyMap::VGGFace && tensor.dim() == 4 && want.size() == 2 &&
        tensor.size(1) * tensor.size(2) * tensor.size(3) == want[1]) {
      value = tensor.reshape({tensor.size(0), want[1]});
      note = str_cat("reshaped ", shape_str(tensor.shape()), " -> ", shape_str(value.shape()));
    }
    if (value.shape() != want) {
      const bool class_count_only = is_head(arch, r.target) && value.dim() == static_cast<std::int64_t>(want.size()) &&
                                    std::equal(value.shape().begin() + 1, value.shape().end(), want.begin() + 1);
      if (class_count_only) {
        out.dropped.push_back({name, str_cat("a head of ", value.size(0), " classes, ", want[0],
                                             " wanted: a fresh head is initialised")});
        continue;
      }
      mismatches.push_back(str_cat(name, r.target != name ? " -> " + r.target : "", ": checkpoint ",
                                   shape_str(tensor.shape()), " vs ours ", shape_str(want)));
      continue;
    }
    SCEALD_CHECK(provided.insert(r.target).second, "'", source_name, "': two tensors map to '", r.target,
                 "' (the second is '", name, "')");
    out.tensors.emplace_back(r.target, value);
    out.matched.push_back({name, r.target, note});
  }
  if (!mismatches.empty()) {
    throw Error(str_cat("'", source_name, "' (", key_map_name(key_map), " names) does not fit our ", arch_name(arch),
                        ": ", mismatches.size(), " shape mismatches: ", listed(mismatches, 6),
                        ". Check --arch, --width-mult and the input channels."));
  }
  if (out.matched.empty()) {
    throw Error(str_cat("'", source_name, "' maps nothing onto our ", arch_name(arch), " with the ",
                        key_map_name(key_map), " key map (", source.size(), " tensors, all dropped; the first: ",
                        source.front().first, "). Check --arch and --key-map."));
  }

  std::vector<std::string> missing;
  for (const auto& [name, _] : own) {
    if (provided.count(name)) continue;
    if (is_head(arch, name) || ends_with(name, "num_batches_tracked")) {
      out.initialised.push_back(name);
    } else {
      missing.push_back(name);
    }
  }
  if (!missing.empty()) {
    throw Error(str_cat("'", source_name, "' (", key_map_name(key_map), " names) leaves ", missing.size(), " of our ",
                        arch_name(arch), "'s ", own.size(), " tensors without a value: ", listed(missing),
                        ". Only the classifier head may be initialised afresh; check --arch and --key-map."));
  }
  return out;
}

}  // namespace sceald::nets
