#include "nets/convert.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "engine/autograd/grad_mode.h"
#include "engine/cuda_runtime.h"
#include "engine/data/transforms.h"
#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/npy.h"
#include "engine/io/finite_check.h"
#include "engine/io/safetensors.h"
#include "engine/io/torch_checkpoint.h"
#include "engine/ops/layout.h"
#include "nets/resnet18.h"
#include "nets/vgg10_autoencoder.h"
#include "nets/vgg16.h"

namespace sceald::nets {

namespace {

// ---------------------------------------------------------------- file kinds

enum class FileKind { Safetensors, Torch, Npy };

// Told apart by their first bytes: a zip's local header, a pickle's protocol
// opcode (the legacy format), NumPy's magic, or safetensors' 8-byte length
// followed by the JSON header's '{'.
FileKind sniff(const std::string& path) {
  io::ReadOnlyFile file(path);
  unsigned char head[9] = {};
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(file.size(), sizeof head));
  file.read_at(0, head, n);
  if (n >= 6 && std::string(reinterpret_cast<char*>(head), 6) == "\x93NUMPY") return FileKind::Npy;
  if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return FileKind::Torch;
  if (n >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5) return FileKind::Torch;
  if (n >= 9 && head[8] == '{') return FileKind::Safetensors;
  std::string shown;
  for (std::size_t i = 0; i < n; ++i) shown += str_cat(i ? " " : "", "0123456789abcdef"[head[i] >> 4], "0123456789abcdef"[head[i] & 15]);
  throw Error(str_cat("'", path, "' is neither a PyTorch checkpoint (zip or legacy), a .safetensors file nor a .npy "
                      "array (its first bytes: ", shown.empty() ? "none, the file is empty" : shown, ")"));
}

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

std::string format_double(double v) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, result.ptr);
}

std::string joined(const std::vector<std::string>& names, const char* separator = ",") {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? separator : "") + names[i];
  return out;
}

// ---------------------------------------------------------------- conventions

// The convention a source was trained with (see convert.h).
data::InputConvention source_convention(KeyMap key_map) {
  switch (key_map) {
    case KeyMap::VGGFace: {
      // Albanie's vgg_face_dag meta: RGB mean of the VGG-Face training faces, std 1, 0..255.
      data::InputConvention c;
      c.order = data::InputConvention::ColorOrder::RGB;
      c.scale = 1.0f;
      c.mean = {129.186279296875f, 104.76238250732422f, 93.59396362304688f};
      c.std = {1.0f, 1.0f, 1.0f};
      return c;
    }
    case KeyMap::Dream: {
      data::InputConvention c;  // torchvision's ToTensor() alone
      c.order = data::InputConvention::ColorOrder::RGB;
      c.scale = 1.0f / 255.0f;
      return c;
    }
    default: return data::InputConvention::imagenet();
  }
}

data::InputConvention chosen_convention(const std::string& text, KeyMap key_map) {
  if (text.empty()) return source_convention(key_map);
  if (text == "imagenet" || text == "vggface" || text == "grey01") return data::InputConvention::preset(text);
  return data::InputConvention::parse(text);
}

// ---------------------------------------------------------------- forward layers

LogitsAndFeature classifier_outputs(nn::Module& net, const Tensor& x) {
  if (auto* vgg = dynamic_cast<VGG16*>(&net)) return vgg->forward_with_feature(x);
  if (auto* resnet = dynamic_cast<ResNet18*>(&net)) return resnet->forward_with_feature(x);
  throw Error(str_cat("forward: a ", net.type_name(), " has no logits and feature outputs"));
}

Tensor run_layer(nn::Module& net, const NetSpec& spec, const Tensor& x, const std::string& layer) {
  if (spec.arch == Arch::VGG10AutoEncoder) {
    auto* ae = dynamic_cast<VGG10AutoEncoder*>(&net);
    SCEALD_CHECK(ae, "forward: expected a VGG10AutoEncoder, got a ", net.type_name());
    if (layer == "code" || layer == "feature") return ae->encode(x);
    if (layer == "reconstruction") return ae->forward(x);
    throw Error(str_cat("forward: unknown layer '", layer, "' for vgg10ae (known: code, feature, reconstruction)"));
  }
  if (layer != "logits" && layer != "feature")
    throw Error(str_cat("forward: unknown layer '", layer, "' for ", arch_name(spec.arch), " (known: logits, feature)"));
  const LogitsAndFeature out = classifier_outputs(net, x);
  return layer == "logits" ? out.logits : out.feature;
}

void check_device(const Device& device) {
  if (device.is_cpu()) return;
  SCEALD_CHECK(cuda::compiled(), "--device ", device.str(), ": this sceald was built without the CUDA backend "
               "(configure with -DSCEALD_CUDA=ON on a machine with the CUDA toolkit and cuDNN); use --device cpu");
  SCEALD_CHECK(cuda::device_count() > device.index, "--device ", device.str(), ": no such CUDA device (",
               cuda::device_count(), " found", cuda::device_count() == 0 ? ": " + cuda::unavailable_reason() : "", ")");
}

// Rows [begin, end) of a contiguous tensor, as a view.
Tensor rows(const Tensor& x, std::int64_t begin, std::int64_t end) {
  Shape shape = x.shape();
  shape[0] = end - begin;
  const std::int64_t row = x.numel() / std::max<std::int64_t>(1, x.size(0));
  return Tensor::from_storage(x.storage(), shape, x.strides(), x.offset() + begin * row, x.dtype());
}

// ---------------------------------------------------------------- metadata check

void check_metadata(const std::map<std::string, std::string>& meta, const NetSpec& spec, const std::string& path) {
  const std::map<std::string, std::string> want = net_metadata(spec);
  const std::map<std::string, std::string> option = {
      {"arch", "--arch"},         {"num_classes", "--num-classes"}, {"width", "--width-mult"},
      {"in_channels", "--in-channels"}, {"side", "--side"}, {"code_dim", "--code-dim"}, {"hidden", "--hidden"},
      {"stem", "--stem"}};
  for (const auto& [key, value] : want) {
    auto it = meta.find(key);
    if (it == meta.end() || it->second == value) continue;
    // Numbers may be spelled differently ("0.25" and "0.250").
    char* end = nullptr;
    const double a = std::strtod(it->second.c_str(), &end);
    if (end && *end == '\0' && !it->second.empty() && a == std::strtod(value.c_str(), nullptr)) continue;
    throw Error(str_cat("'", path, "' holds weights for ", key, " ", it->second, ", but ", option.at(key), " is ",
                        value, ": pass ", option.at(key), " ", it->second));
  }
}

}  // namespace

// ---------------------------------------------------------------- nets

std::shared_ptr<nn::Module> build_net(const NetSpec& spec, Generator& gen) {
  switch (spec.arch) {
    case Arch::VGG16:
    case Arch::VGG16BN: {
      VGG16Options o;
      o.num_classes = spec.num_classes;
      o.in_channels = spec.in_channels;
      o.width = spec.width;
      o.batch_norm = spec.arch == Arch::VGG16BN;
      return std::make_shared<VGG16>(o, gen);
    }
    case Arch::ResNet18: {
      ResNet18Options o;
      o.num_classes = spec.num_classes;
      o.in_channels = spec.in_channels;
      o.width = spec.width;
      o.stem = spec.stem;
      return std::make_shared<ResNet18>(o, gen);
    }
    case Arch::VGG10AutoEncoder: {
      VGG10AutoEncoderOptions o;
      o.side = spec.side;
      o.in_channels = spec.in_channels;
      o.code_dim = spec.code_dim;
      o.hidden = spec.hidden;
      o.width = spec.width;
      return std::make_shared<VGG10AutoEncoder>(o, gen);
    }
  }
  throw Error("build_net: unknown architecture");
}

std::map<std::string, std::string> net_metadata(const NetSpec& spec) {
  std::map<std::string, std::string> meta = {
      {"arch", arch_name(spec.arch)},
      {"width", format_double(spec.width)},
      {"in_channels", std::to_string(spec.in_channels)},
  };
  if (spec.arch == Arch::VGG10AutoEncoder) {
    meta["side"] = std::to_string(spec.side);
    meta["code_dim"] = std::to_string(spec.code_dim);
    meta["hidden"] = std::to_string(spec.hidden);
  } else {
    if (spec.arch == Arch::ResNet18) meta["stem"] = resnet_stem_name(spec.stem);
    meta["num_classes"] = std::to_string(spec.num_classes);
  }
  return meta;
}

// ---------------------------------------------------------------- reading

LoadedStateDict load_state_dict_file(const std::string& path) {
  LoadedStateDict out;
  switch (sniff(path)) {
    case FileKind::Torch: {
      io::TorchCheckpoint ckpt = io::load_torch_checkpoint(path);
      out.tensors = std::move(ckpt.tensors);
      out.format = ckpt.format;
      out.notes = std::move(ckpt.notes);
      return out;
    }
    case FileKind::Safetensors: {
      io::SafetensorsFile file = io::load_safetensors(path);
      out.tensors = std::move(file.tensors);
      out.format = "safetensors";
      out.metadata = std::move(file.metadata);
      return out;
    }
    case FileKind::Npy:
      throw Error(str_cat("'", path, "' is a .npy array, not a checkpoint: it holds one tensor without names"));
  }
  throw Error("load_state_dict_file: unreachable");
}

// ---------------------------------------------------------------- converting

ConversionReport convert_checkpoint(const ConvertOptions& options) {
  SCEALD_CHECK(!options.out_path.empty(), "convert: no output path given");
  ConversionReport report;
  report.source_path = options.in_path;
  report.out_path = options.out_path;
  report.net = options.net;

  LoadedStateDict source = load_state_dict_file(options.in_path);
  report.source_format = source.format;
  report.reader_notes = source.notes;

  // The names are checked before the network is built (a full-size VGG16 takes seconds to initialise).
  const KeyMap key_map = resolve_key_map(source.tensors, options.net.arch, options.key_map, options.in_path);
  Generator gen(options.seed);
  std::shared_ptr<nn::Module> net = build_net(options.net, gen);
  MappedState mapped = map_state_dict(source.tensors, options.net.arch, key_map, *net, options.in_path);
  io::require_finite(mapped.tensors, options.in_path);
  // Everything else of our net was checked to be a head or a counter, so
  // this load is strict about the part that maps: names and shapes.
  net->load_state_dict(mapped.tensors, /*strict=*/false);

  report.key_map = mapped.key_map;
  report.matched = std::move(mapped.matched);
  report.dropped = std::move(mapped.dropped);
  report.initialised = std::move(mapped.initialised);
  report.input_convention = chosen_convention(options.input_convention, report.key_map).to_string();

  report.metadata = net_metadata(options.net);
  report.metadata["source"] = file_name(options.in_path);
  report.metadata["source_format"] = report.source_format;
  report.metadata["key_map"] = key_map_name(report.key_map);
  report.metadata["input_convention"] = report.input_convention;
  report.metadata["initialised"] = joined(report.initialised);
  report.metadata["init_seed"] = std::to_string(options.seed);
  io::save_safetensors(options.out_path, net->state_dict(), report.metadata);
  return report;
}

ConversionReport convert_checkpoint(const std::string& in_path, const std::string& arch, std::int64_t num_classes,
                                    const std::string& key_map, const std::string& out_path) {
  ConvertOptions options;
  options.in_path = in_path;
  options.out_path = out_path;
  options.net.arch = parse_arch(arch);
  options.net.num_classes = num_classes;
  options.key_map = parse_key_map(key_map);
  return convert_checkpoint(options);
}

std::string ConversionReport::summary(bool list_matched) const {
  std::ostringstream os;
  os << source_path << " (" << source_format << ", " << key_map_name(key_map) << " names) -> " << out_path << "\n";
  for (const std::string& note : reader_notes) os << "  reader: " << note << "\n";
  os << "  " << arch_name(net.arch);
  if (net.arch != Arch::VGG10AutoEncoder) os << ", " << net.num_classes << " classes";
  os << ", width " << format_double(net.width) << ", " << net.in_channels << " input channels\n";
  os << "  matched " << matched.size() << ", dropped " << dropped.size() << ", initialised " << initialised.size()
     << "\n";
  for (const MatchedKey& m : matched) {
    if (!list_matched && m.note.empty()) continue;
    os << "  matched      " << m.source;
    if (m.target != m.source) os << " -> " << m.target;
    if (!m.note.empty()) os << " (" << m.note << ")";
    os << "\n";
  }
  for (const DroppedKey& d : dropped) os << "  dropped      " << d.source << ": " << d.reason << "\n";
  for (const std::string& name : initialised) os << "  initialised  " << name << "\n";
  os << "  input convention: " << input_convention << "\n";
  return os.str();
}

// ---------------------------------------------------------------- forward

std::shared_ptr<nn::Module> load_converted_net(const NetSpec& spec, const std::string& weights_path) {
  SCEALD_CHECK(sniff(weights_path) != FileKind::Torch, "'", weights_path,
               "' is a PyTorch checkpoint; convert it first: sceald convert --in ", weights_path,
               " --out WEIGHTS.safetensors");
  const io::SafetensorsFile file = io::load_safetensors(weights_path);
  check_metadata(file.metadata, spec, weights_path);
  io::require_finite(file.tensors, weights_path);
  Generator gen(0);
  std::shared_ptr<nn::Module> net = build_net(spec, gen);
  try {
    net->load_state_dict(file.tensors, /*strict=*/true);
  } catch (const Error& e) {
    throw Error(str_cat("'", weights_path, "': ", e.what()));
  }
  net->eval();
  return net;
}

Tensor run_forward(nn::Module& net, const NetSpec& spec, const Tensor& input, const std::string& layer, Device device,
                   std::int64_t batch_size) {
  SCEALD_CHECK(input.defined() && input.dim() == 4, "forward: the input must be [N, C, H, W], got ",
               input.defined() ? shape_str(input.shape()) : "nothing");
  SCEALD_CHECK(is_floating(input.dtype()), "forward: the input must be float32 (already normalised), got ",
               dtype_name(input.dtype()));
  SCEALD_CHECK(input.size(1) == spec.in_channels, "forward: the input ", shape_str(input.shape()), " has ",
               input.size(1), " channels, the network takes ", spec.in_channels);
  SCEALD_CHECK(batch_size >= 1, "forward: the batch size must be at least 1, got ", batch_size);
  check_device(device);
  const Tensor x = input.to(DType::Float32).contiguous().to(Device::cpu());
  net.eval();
  net.to(device);
  NoGradGuard no_grad;
  std::vector<Tensor> parts;
  for (std::int64_t begin = 0; begin < x.size(0); begin += batch_size) {
    const std::int64_t end = std::min(x.size(0), begin + batch_size);
    parts.push_back(run_layer(net, spec, rows(x, begin, end).to(device), layer).to(Device::cpu()));
  }
  if (parts.empty()) {  // no rows: the output's shape from one dummy row
    Tensor one = Tensor::zeros({1, x.size(1), x.size(2), x.size(3)});
    Shape shape = run_layer(net, spec, one.to(device), layer).shape();
    shape[0] = 0;
    return Tensor::empty(shape);
  }
  return parts.size() == 1 ? parts[0].contiguous() : concat(parts, 0);
}

Tensor forward_npy(const ForwardOptions& options) {
  const Device device = Device::parse(options.device);
  check_device(device);  // before reading anything large
  const Tensor input = io::load_npy(options.input_path);
  std::shared_ptr<nn::Module> net = load_converted_net(options.net, options.weights_path);
  const Tensor out = run_forward(*net, options.net, input, options.layer, device, options.batch_size);
  io::save_npy(options.output_path, out);
  return out;
}

// ---------------------------------------------------------------- inspect

std::string describe_weights_file(const std::string& path) {
  std::ostringstream os;
  std::int64_t total = 0;
  auto tensor_line = [&](const std::string& name, const Tensor& t) {
    os << "  " << name << "  " << dtype_name(t.dtype()) << shape_str(t.shape()) << "\n";
    total += t.numel();
  };
  switch (sniff(path)) {
    case FileKind::Npy: {
      const io::NpyHeader h = io::read_npy_header(path);
      os << path << ": npy " << h.major << "." << h.minor << ", '" << h.descr << "' " << shape_str(h.shape)
         << " (loads as " << dtype_name(h.loads_as) << "), " << h.data_bytes << " data bytes\n";
      return os.str();
    }
    case FileKind::Safetensors: {
      const io::SafetensorsFile file = io::load_safetensors(path);
      os << path << ": safetensors, " << file.tensors.size() << " tensors\n";
      for (const auto& [name, t] : file.tensors) tensor_line(name, t);
      os << "  total elements: " << total << "\n";
      for (const auto& [key, value] : file.metadata) os << "  metadata " << key << " = " << value << "\n";
      return os.str();
    }
    case FileKind::Torch: {
      const io::TorchCheckpoint ckpt = io::load_torch_checkpoint(path);
      os << path << ": PyTorch checkpoint (" << ckpt.format << "), " << ckpt.tensors.size() << " tensors\n";
      for (const auto& [name, t] : ckpt.tensors) tensor_line(name, t);
      os << "  total elements: " << total << "\n";
      for (const std::string& note : ckpt.notes) os << "  note: " << note << "\n";
      try {
        const DetectedLayout layout = detect_layout(ckpt.tensors, path);
        os << "  layout: " << arch_name(layout.arch) << " in " << key_map_name(layout.key_map)
           << " names (sceald convert --arch " << arch_name(layout.arch) << " --key-map "
           << key_map_name(layout.key_map) << ")\n";
      } catch (const Error&) {
        os << "  layout: not one sceald convert knows\n";
      }
      return os.str();
    }
  }
  return os.str();
}

}  // namespace sceald::nets
