#include "nets/sceald/run_state.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/cuda/pinned.h"
#include "engine/data/expressions.h"
#include "engine/error.h"
#include "engine/io/finite_check.h"
#include "engine/io/safetensors.h"
#include "engine/nn/init.h"
#include "nets/convert.h"
#include "nets/resnet18.h"

namespace sceald::train {
namespace fs = std::filesystem;

data::Dataset open_split(const TrainConfig& config, const std::string& split, const std::string& labels) {
  data::DatasetOptions o;
  o.kind = data::parse_dataset_kind(config.dataset);
  o.root = config.data_root;
  o.split = data::parse_split(split);
  o.labels = data::parse_ferplus_labels(labels);
  if (o.kind != data::DatasetKind::Synthetic) {
    SCEALD_CHECK(!o.root.empty(), "--data-root is required for --dataset ", config.dataset);
    SCEALD_CHECK(fs::exists(o.root), "--data-root ", o.root, ": no such folder");
  }
  data::Dataset d = data::open_dataset(o);
  SCEALD_CHECK(!d.samples.empty(), "dataset ", config.dataset, " split ", split, " under '", o.root,
               "' holds no usable sample");
  return d;
}

data::InputConvention input_convention_for(const TrainConfig& config) {
  if (!config.init.empty()) {
    const auto loaded = nets::load_state_dict_file(config.init);
    auto it = loaded.metadata.find("input_convention");
    if (it != loaded.metadata.end() && !it->second.empty()) return data::InputConvention::parse(it->second);
    return data::InputConvention::imagenet();
  }
  const auto kind = data::parse_dataset_kind(config.dataset);
  if (kind == data::DatasetKind::Synthetic || kind == data::DatasetKind::FerPlus) return data::InputConvention::grey01();
  return data::InputConvention::imagenet();
}

TrainingData open_training_data(const TrainConfig& config) {
  TrainingData t;
  t.train = open_split(config, config.train_split, config.labels);
  SCEALD_CHECK(config.train_subset <= static_cast<std::int64_t>(t.train.size()), "--train-subset ",
               config.train_subset, ": the ", config.train_split, " split has only ", t.train.size(),
               " usable samples");
  if (config.train_subset > 0 && config.train_subset < static_cast<std::int64_t>(t.train.size())) {
    // A seeded random subset, kept in file order; drawn before the noise, from its own stream.
    Generator gen(config.seed ^ 0x737562736574ULL);
    std::vector<std::int64_t> pick = gen.permutation(static_cast<std::int64_t>(t.train.size()));
    pick.resize(static_cast<std::size_t>(config.train_subset));
    std::sort(pick.begin(), pick.end());
    std::vector<data::Sample> kept;
    kept.reserve(pick.size());
    for (std::int64_t i : pick) kept.push_back(std::move(t.train.samples[static_cast<std::size_t>(i)]));
    t.train.report.notes.push_back(str_cat("training on a random ", kept.size(), " of ", t.train.size(),
                                           " samples (--train-subset, seed ", config.seed, ")"));
    t.train.samples = std::move(kept);
  }
  t.val = open_split(config, config.val_split, config.val_labels);
  t.convention = input_convention_for(config);
  if (config.noise > 0.0) {
    // Its own stream, so the noise does not depend on anything else drawn.
    Generator gen(config.seed ^ 0x6e6f697365ULL);
    t.noise = data::add_label_noise(t.train, config.noise, gen);
  }
  std::vector<std::int64_t> labels;
  for (const auto& s : t.train.samples) labels.push_back(s.label);
  t.train_labels = Tensor::from_vector(labels, {static_cast<std::int64_t>(labels.size())});
  return t;
}

nets::LogitsAndFeature TaskNet::forward_with_feature(const Tensor& x) const {
  if (auto* v = dynamic_cast<nets::VGG16*>(module.get())) return v->forward_with_feature(x);
  if (auto* r = dynamic_cast<nets::ResNet18*>(module.get())) return r->forward_with_feature(x);
  throw Error("task network: expected VGG16 or ResNet18, got " + module->type_name());
}

static void collect_dropouts(nn::Module& m, std::vector<nn::Dropout*>& out) {
  if (auto* d = dynamic_cast<nn::Dropout*>(&m)) out.push_back(d);
  for (const auto& [name, child] : m.named_children()) collect_dropouts(*child, out);
}

std::vector<nn::Dropout*> TaskNet::dropouts() const {
  std::vector<nn::Dropout*> out;
  collect_dropouts(*module, out);
  return out;
}

nets::NetSpec task_spec(const TrainConfig& config, std::int64_t in_channels) {
  nets::NetSpec spec;
  spec.arch = nets::parse_arch(config.arch);
  spec.num_classes = data::kNumExpressions;
  spec.in_channels = in_channels;
  spec.width = config.width;
  spec.stem = nets::parse_resnet_stem(config.stem);
  return spec;
}

TaskNet make_task_net(const TrainConfig& config, std::int64_t in_channels, Device device) {
  TaskNet net;
  const nets::NetSpec spec = task_spec(config, in_channels);
  Generator gen(config.seed * 2654435761ULL + 17);
  net.module = config.init.empty() ? nets::build_net(spec, gen) : nets::load_converted_net(spec, config.init);
  net.module->to(device);  // drawn on the CPU first, so every device starts from the same weights
  net.device = device;
  net.module->train();
  // Dropout masks from seeded generators of their own, saved in checkpoints.
  std::uint64_t k = 0;
  for (nn::Dropout* d : net.dropouts()) d->seed(config.seed * 1000003ULL + 101 + k++);
  if (auto* v = dynamic_cast<nets::VGG16*>(net.module.get())) net.feature_dim = v->feature_dim();
  if (auto* r = dynamic_cast<nets::ResNet18*>(net.module.get())) net.feature_dim = r->feature_dim();
  return net;
}

data::BatchAllocator batch_allocator_for(Device device) {
  if (!device.is_cuda()) return {};
  return [](const Shape& shape, DType dtype) { return cuda::pinned_empty(shape, dtype); };
}

data::LoaderOptions loader_options(const TrainConfig& config, const data::InputConvention& convention, Device device,
                                   bool augment, bool shuffle, std::uint64_t seed) {
  data::LoaderOptions o;
  o.batch_size = config.batch_size;
  o.shuffle = shuffle;
  o.workers = config.workers;
  o.seed = seed;
  o.transform.convention = convention;
  o.transform.side = config.image_size;
  o.transform.augment = augment;
  o.transform.flip_probability = config.flip_probability;
  o.transform.crop_padding = config.crop_padding;
  o.transform.affine = {config.rotate_degrees, config.scale_jitter, config.translate_fraction};
  o.transform.erase_probability = config.erase_probability;
  o.allocator = batch_allocator_for(device);
  return o;
}

std::vector<std::pair<std::string, Tensor>> on_cpu(std::vector<std::pair<std::string, Tensor>> tensors) {
  for (auto& [name, t] : tensors)
    if (!t.device().is_cpu()) t = t.to(Device::cpu());
  return tensors;
}

// A double as text that reads back to the same value.
static std::string exact_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

static std::string class_names_csv() {
  std::string s;
  for (auto n : data::kExpressionNames) {
    if (!s.empty()) s += ',';
    s += n;
  }
  return s;
}

void save_task_checkpoint(const std::string& path, const TaskNet& net, const optim::Optimizer& optimizer,
                          const method::FeatureBank* bank, const TaskState& state, const TrainConfig& config,
                          const data::InputConvention& convention, const Tensor& train_labels) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& [name, t] : on_cpu(net.module->state_dict())) tensors.emplace_back("model." + name, t);
  for (auto& [name, t] : on_cpu(optimizer.state_dict())) tensors.emplace_back("optim." + name, t);
  std::int64_t i = 0;
  for (nn::Dropout* d : net.dropouts()) {
    const std::vector<std::int64_t> rng = {static_cast<std::int64_t>(d->generator.seed()),
                                           static_cast<std::int64_t>(d->generator.offset())};
    tensors.emplace_back("rng.dropout." + std::to_string(i++), Tensor::from_vector(rng, {2}));
  }
  if (bank && bank->ready()) tensors.emplace_back("bank.features", bank->features());
  if (state.prototypes.defined()) tensors.emplace_back("prototypes", state.prototypes);
  if (state.alpha.defined()) tensors.emplace_back("alpha", state.alpha);
  if (state.task_graph.defined()) tensors.emplace_back("task_graph", state.task_graph);
  tensors.emplace_back("train_labels", train_labels);
  std::map<std::string, std::string> meta = {
      {"format", "sceald-train-v1"},
      {"epoch", std::to_string(state.epoch)},
      {"config", config.to_json().dump()},
      {"class_names", class_names_csv()},
      {"input_convention", convention.to_string()},
      {"arch", config.arch},
      {"width", std::to_string(config.width)},
      {"in_channels", std::to_string(convention.channels)},
      {"num_classes", std::to_string(data::kNumExpressions)},
      {"lr_step", std::to_string(state.lr_step)},
      {"best_epoch", std::to_string(state.best_epoch)},
      {"best_accuracy", exact_text(state.best_accuracy)},
      {"best_mean_class_accuracy", exact_text(state.best_mean_class_accuracy)}};
  io::save_safetensors(path, tensors, meta);
}

namespace {

int parse_epoch(const std::string& text, const std::string& path) {
  int epoch = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), epoch);
  SCEALD_CHECK(ec == std::errc() && end == text.data() + text.size() && epoch >= 0, path,
               ": metadata 'epoch' is '", text, "', expected a non-negative integer");
  return epoch;
}

std::int64_t parse_count(const std::string& text, const char* key, const std::string& path) {
  std::int64_t v = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  SCEALD_CHECK(ec == std::errc() && end == text.data() + text.size() && v >= 0, path, ": metadata '", key, "' is '",
               text, "', expected a non-negative integer");
  return v;
}

double parse_real(const std::string& text, const char* key, const std::string& path) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  SCEALD_CHECK(!text.empty() && end == text.c_str() + text.size() && std::isfinite(v), path, ": metadata '", key,
               "' is '", text, "', expected a finite number");
  return v;
}

}  // namespace

TaskState load_task_checkpoint(const std::string& path, TaskNet& net, optim::Optimizer& optimizer,
                               std::optional<method::FeatureBank>& bank, const Tensor& train_labels) {
  const io::SafetensorsFile f = io::load_safetensors(path);
  SCEALD_CHECK(f.metadata.count("format") && f.metadata.at("format") == "sceald-train-v1", path,
               ": not a sceald training checkpoint (no format = sceald-train-v1 in its metadata)");
  io::require_finite(f.tensors, path);
  nn::NamedTensors model;
  std::map<std::string, Tensor> optim;
  for (const auto& [name, t] : f.tensors) {
    if (name.rfind("model.", 0) == 0) model.emplace_back(name.substr(6), t);
    if (name.rfind("optim.", 0) == 0) optim.emplace(name.substr(6), t);
  }
  net.module->load_state_dict(model);
  optimizer.load_state_dict(optim);
  std::int64_t i = 0;
  for (nn::Dropout* d : net.dropouts()) {
    const auto rng = f.at("rng.dropout." + std::to_string(i++)).to_vector<std::int64_t>();
    d->generator.set_state(static_cast<std::uint64_t>(rng[0]), static_cast<std::uint64_t>(rng[1]));
  }
  const auto saved_labels = f.at("train_labels").to_vector<std::int64_t>();
  SCEALD_CHECK(saved_labels == train_labels.to_vector<std::int64_t>(), path,
               ": the training labels differ from the ones this run was started with (another data set or noise?)");
  TaskState s;
  s.epoch = parse_epoch(f.metadata_at("epoch"), path);
  // Checkpoints from before schedules and best-epoch tracking lack these: a constant rate, no best yet.
  s.lr_step = f.metadata.count("lr_step") ? parse_count(f.metadata.at("lr_step"), "lr_step", path) : -1;
  if (f.metadata.count("best_epoch")) {
    s.best_epoch = static_cast<int>(parse_count(f.metadata.at("best_epoch"), "best_epoch", path));
    s.best_accuracy = parse_real(f.metadata_at("best_accuracy"), "best_accuracy", path);
    s.best_mean_class_accuracy = parse_real(f.metadata_at("best_mean_class_accuracy"), "best_mean_class_accuracy", path);
  }
  if (const Tensor* p = f.find("prototypes")) s.prototypes = *p;
  if (const Tensor* a = f.find("alpha")) s.alpha = *a;
  if (const Tensor* g = f.find("task_graph")) s.task_graph = *g;
  if (const Tensor* b = f.find("bank.features")) {
    bank.emplace(b->size(0), b->size(1));
    std::vector<std::int64_t> all(static_cast<std::size_t>(b->size(0)));
    for (std::size_t k = 0; k < all.size(); ++k) all[k] = static_cast<std::int64_t>(k);
    bank->store(*b, all);
    bank->begin_epoch();
  }
  return s;
}

LoadedRun load_run(const std::string& dir_or_file, Device device) {
  std::string path = dir_or_file;
  if (fs::is_directory(dir_or_file)) {
    path = (fs::path(dir_or_file) / kFinalCheckpoint).string();
    if (!fs::exists(path)) path = (fs::path(dir_or_file) / kLatestCheckpoint).string();
    SCEALD_CHECK(fs::exists(path), "--checkpoint ", dir_or_file, ": no ", kFinalCheckpoint, " or ", kLatestCheckpoint,
                 " in this folder (is it a `sceald train --out` folder?)");
  }
  const io::SafetensorsFile f = io::load_safetensors(path);
  SCEALD_CHECK(f.metadata.count("format") && f.metadata.at("format") == "sceald-train-v1", path,
               ": not a sceald training checkpoint (no format = sceald-train-v1 in its metadata)");
  io::require_finite(f.tensors, path);
  LoadedRun run;
  run.path = path;
  run.config = TrainConfig::from_json_text(f.metadata_at("config"), path + " (metadata 'config')");
  run.convention = data::InputConvention::parse(f.metadata_at("input_convention"));
  run.epoch = parse_epoch(f.metadata_at("epoch"), path);
  TrainConfig fresh = run.config;
  fresh.init.clear();  // the checkpoint holds every weight
  run.net = make_task_net(fresh, run.convention.channels, device);
  nn::NamedTensors model;
  for (const auto& [name, t] : f.tensors)
    if (name.rfind("model.", 0) == 0) model.emplace_back(name.substr(6), t);
  run.net.module->load_state_dict(model);
  run.net.module->eval();
  return run;
}

}  // namespace sceald::train
