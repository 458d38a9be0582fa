#include "nets/sceald/train_config.h"

#include <algorithm>
#include <cmath>

#include "engine/data/dataset.h"
#include "engine/error.h"
#include "kernels/cpu/cpu_features.h"
#include "nets/sceald/confidence.h"
#include "nets/sceald/prototypes.h"

namespace sceald::train {

namespace {

void validate_schedule(const LrSchedule& s, double lr, int epochs, const std::string& prefix) {
  SCEALD_CHECK(s.kind == "constant" || s.kind == "cosine" || s.kind == "step", prefix, "lr-schedule ", s.kind,
               ": expected constant, cosine or step");
  SCEALD_CHECK(std::isfinite(s.warmup_epochs) && s.warmup_epochs >= 0 && s.warmup_epochs <= epochs, prefix,
               "warmup-epochs ", s.warmup_epochs, ": must lie in [0, ", epochs, "] (the ", prefix, "epochs)");
  SCEALD_CHECK(std::isfinite(s.min_lr) && s.min_lr >= 0 && s.min_lr <= lr, prefix, "min-lr ", s.min_lr,
               ": must lie in [0, ", prefix, "lr ", lr, "]");
  SCEALD_CHECK(s.step_epochs >= 1, prefix, "lr-step-epochs ", s.step_epochs, ": must be >= 1");
  SCEALD_CHECK(std::isfinite(s.step_gamma) && s.step_gamma > 0 && s.step_gamma <= 1, prefix, "lr-step-gamma ",
               s.step_gamma, ": must lie in (0, 1]");
}

nlohmann::json schedule_json(const LrSchedule& s) {
  return {{"kind", s.kind}, {"warmup_epochs", s.warmup_epochs}, {"min_lr", s.min_lr},
          {"step_epochs", s.step_epochs}, {"step_gamma", s.step_gamma}};
}

}  // namespace

void TrainConfig::validate() const {
  data::parse_dataset_kind(dataset);  // throws listing the choices
  data::parse_split(train_split);
  data::parse_split(val_split);
  data::parse_ferplus_labels(labels);
  data::parse_ferplus_labels(val_labels);
  method::parse_confidence_distance(confidence_distance);
  method::parse_prototype_mode(prototype);
  SCEALD_CHECK(dataset == "synthetic" || !data_root.empty(), "--data-root is required for --dataset ", dataset);
  SCEALD_CHECK(arch == "vgg16" || arch == "vgg16_bn" || arch == "resnet18", "--arch ", arch,
               ": expected vgg16, vgg16_bn or resnet18");
  SCEALD_CHECK(stem == "imagenet" || stem == "small" || stem == "cifar", "--stem ", stem,
               ": expected imagenet, small or cifar");
  for (const auto& [option, mode] : {std::pair{"--labels", labels}, std::pair{"--val-labels", val_labels}})
    SCEALD_CHECK(dataset == "ferplus" || dataset == "synthetic" || mode == "plurality", option, " ", mode,
                 ": dataset ", dataset, " has one label per image (--labels plurality, the default); majority, "
                 "votes and fer2013 need FERPlus's votes (--dataset ferplus or synthetic)");
  SCEALD_CHECK(std::isfinite(weight_decay) && weight_decay >= 0, "--weight-decay ", weight_decay, ": must be >= 0");
  SCEALD_CHECK(std::isfinite(rotate_degrees) && rotate_degrees >= 0 && rotate_degrees <= 180, "--rotate ",
               rotate_degrees, ": must lie in [0, 180] degrees");
  SCEALD_CHECK(std::isfinite(scale_jitter) && scale_jitter >= 0 && scale_jitter < 1, "--scale-jitter ", scale_jitter,
               ": must lie in [0, 1)");
  SCEALD_CHECK(std::isfinite(translate_fraction) && translate_fraction >= 0 && translate_fraction <= 0.5,
               "--translate ", translate_fraction, ": must lie in [0, 0.5] (a fraction of the side)");
  SCEALD_CHECK(std::isfinite(erase_probability) && erase_probability >= 0 && erase_probability <= 1, "--erase-prob ",
               erase_probability, ": must lie in [0, 1]");
  SCEALD_CHECK(stage == "ae" || stage == "task" || stage == "both", "--stage ", stage, ": expected ae, task or both");
  SCEALD_CHECK(std::isfinite(beta) && beta >= 0.0 && beta <= 1.0, "--beta ", beta, ": must lie in [0, 1]");
  SCEALD_CHECK(std::isfinite(noise) && noise >= 0.0 && noise <= 1.0, "--noise ", noise, ": must lie in [0, 1]");
  SCEALD_CHECK(std::isfinite(gamma) && gamma >= 0.0, "--gamma ", gamma, ": must be >= 0");
  SCEALD_CHECK(std::isfinite(confidence_eps) && confidence_eps > 0.0, "--confidence-eps ", confidence_eps,
               ": must be > 0 (it keeps alpha finite when the two graphs agree)");
  SCEALD_CHECK(std::isfinite(flip_probability) && flip_probability >= 0.0 && flip_probability <= 1.0, "--flip-prob ",
               flip_probability, ": must lie in [0, 1]");
  SCEALD_CHECK(crop_padding >= 0 && crop_padding <= image_size, "--crop-padding ", crop_padding,
               ": must lie in [0, --image-size ", image_size, "]");
  SCEALD_CHECK(width > 0.0 && std::isfinite(width), "--width-mult ", width, ": must be > 0");
  SCEALD_CHECK(ae_width > 0.0 && std::isfinite(ae_width), "--ae-width-mult ", ae_width, ": must be > 0");
  SCEALD_CHECK(ae_hidden >= 1, "--ae-hidden ", ae_hidden, ": must be >= 1");
  SCEALD_CHECK(image_size >= 32 && image_size <= 512, "--image-size ", image_size, ": must lie in [32, 512]");
  SCEALD_CHECK(epochs >= 1, "--epochs ", epochs, ": must be >= 1");
  SCEALD_CHECK(ae_epochs >= 0, "--ae-epochs ", ae_epochs, ": must be >= 0");
  SCEALD_CHECK(batch_size >= 1, "--batch-size ", batch_size, ": must be >= 1");
  SCEALD_CHECK(lr > 0.0 && std::isfinite(lr), "--lr ", lr, ": must be > 0");
  SCEALD_CHECK(optimizer == "adam" || optimizer == "sgd", "--optimizer ", optimizer, ": expected adam or sgd");
  SCEALD_CHECK(std::isfinite(momentum) && momentum >= 0.0 && momentum < 1.0, "--momentum ", momentum,
               ": must lie in [0, 1)");
  SCEALD_CHECK(ae_lr > 0.0 && std::isfinite(ae_lr), "--ae-lr ", ae_lr, ": must be > 0");
  // After --epochs, --lr and their Auto-Encoder twins: the schedules' bounds depend on them.
  validate_schedule(schedule, lr, epochs, "--");
  validate_schedule(ae_schedule, ae_lr, std::max(ae_epochs, 1), "--ae-");
  SCEALD_CHECK(ld_start_epoch >= 1, "--ld-start-epoch ", ld_start_epoch, ": must be >= 1 (epochs count from 1)");
  SCEALD_CHECK(math == "fast" || math == "precise", "--math ", math, ": expected fast or precise");
  SCEALD_CHECK(train_subset >= 0, "--train-subset ", train_subset, ": must be >= 0 (0 = the whole split)");
  SCEALD_CHECK(threads >= 0 && threads <= kernels::cpu::kMaxCpuThreads, "--threads ", threads,
               ": must be in [0, ", kernels::cpu::kMaxCpuThreads, "] (0: OpenMP's default)");
  SCEALD_CHECK(workers >= 0, "--workers ", workers, ": must be >= 0");
  SCEALD_CHECK(noise == 0.0 || train_split == "train", "--noise applies to the train split only, not ", train_split);
}

nlohmann::json TrainConfig::to_json() const {
  return {{"dataset", dataset},   {"data_root", data_root},
          {"train_split", train_split}, {"val_split", val_split},
          {"labels", labels},     {"noise", noise},
          {"val_labels", val_labels}, {"train_subset", train_subset},
          {"image_size", image_size}, {"arch", arch}, {"stem", stem},
          {"width", width},       {"init", init},
          {"epochs", epochs},     {"batch_size", batch_size},
          {"optimizer", optimizer}, {"lr", lr},
          {"momentum", momentum}, {"beta", beta},
          {"weight_decay", weight_decay}, {"schedule", schedule_json(schedule)},
          {"ae_schedule", schedule_json(ae_schedule)},
          {"rotate_degrees", rotate_degrees}, {"scale_jitter", scale_jitter},
          {"translate_fraction", translate_fraction}, {"erase_probability", erase_probability},
          {"ld_start_epoch", ld_start_epoch}, {"confidence_distance", confidence_distance},
          {"confidence_eps", confidence_eps}, {"prototype", prototype},
          {"flip_probability", flip_probability}, {"crop_padding", crop_padding},
          {"ae_epochs", ae_epochs},
          {"ae_width", ae_width}, {"ae_hidden", ae_hidden},
          {"ae_lr", ae_lr},       {"gamma", gamma},
          {"word_vectors", word_vectors}, {"stage", stage},
          {"seed", seed},         {"threads", threads},
          {"workers", workers},   {"device", device},
          {"math", math}, {"preset", preset}};
}

TrainConfig TrainConfig::from_json(const nlohmann::json& j) {
  SCEALD_CHECK(j.is_object(), "expected a JSON object of options, got ", j.type_name());
  TrainConfig c;
  auto get_from = [](const nlohmann::json& o, const std::string& key, auto& field) {
    if (!o.contains(key)) return;
    try {
      field = o.at(key).get<std::decay_t<decltype(field)>>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(str_cat("key '", key, "' is ", o.at(key).dump(), ": ", e.what()));
    }
  };
  auto get = [&](const char* key, auto& field) { get_from(j, key, field); };
  // Runs made before schedules existed have none: a constant rate, as they trained.
  auto get_schedule = [&](const char* key, LrSchedule& s) {
    if (!j.contains(key)) return;
    const nlohmann::json& o = j.at(key);
    SCEALD_CHECK(o.is_object(), "key '", key, "' is ", o.dump(), ": expected an object");
    get_from(o, "kind", s.kind); get_from(o, "warmup_epochs", s.warmup_epochs); get_from(o, "min_lr", s.min_lr);
    get_from(o, "step_epochs", s.step_epochs); get_from(o, "step_gamma", s.step_gamma);
  };
  get("dataset", c.dataset); get("data_root", c.data_root); get("train_split", c.train_split);
  get("val_split", c.val_split); get("labels", c.labels); get("noise", c.noise);
  get("val_labels", c.val_labels);
  get("train_subset", c.train_subset);
  get("image_size", c.image_size); get("arch", c.arch); get("stem", c.stem); get("width", c.width); get("init", c.init);
  get("epochs", c.epochs); get("batch_size", c.batch_size); get("lr", c.lr); get("beta", c.beta);
  get("optimizer", c.optimizer); get("momentum", c.momentum); get("weight_decay", c.weight_decay);
  get_schedule("schedule", c.schedule); get_schedule("ae_schedule", c.ae_schedule);
  get("rotate_degrees", c.rotate_degrees); get("scale_jitter", c.scale_jitter);
  get("translate_fraction", c.translate_fraction); get("erase_probability", c.erase_probability);
  get("ld_start_epoch", c.ld_start_epoch); get("confidence_distance", c.confidence_distance);
  get("confidence_eps", c.confidence_eps); get("flip_probability", c.flip_probability);
  get("crop_padding", c.crop_padding);
  get("prototype", c.prototype); get("ae_epochs", c.ae_epochs); get("ae_width", c.ae_width);
  get("ae_hidden", c.ae_hidden); get("ae_lr", c.ae_lr); get("gamma", c.gamma);
  get("word_vectors", c.word_vectors); get("stage", c.stage); get("seed", c.seed);
  get("threads", c.threads); get("workers", c.workers); get("device", c.device); get("math", c.math);
  get("preset", c.preset);
  return c;
}

TrainConfig TrainConfig::from_json_text(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(str_cat(source, ": not valid JSON (", e.what(), ")"));
  }
  try {
    TrainConfig c = from_json(j);
    c.validate();
    return c;
  } catch (const Error& e) {
    throw Error(str_cat(source, ": ", e.what()));
  }
}

TrainConfig synthetic_fast_preset() {
  TrainConfig c;
  c.dataset = "synthetic";
  c.arch = "resnet18";
  c.stem = "small";
  c.width = 0.125;
  c.ae_width = 0.125;
  c.ae_hidden = 256;
  c.ae_epochs = 14;
  c.ae_lr = 1e-3;
  c.gamma = 5.0;
  c.epochs = 10;
  c.ld_start_epoch = 5;
  c.lr = 2e-3;
  c.schedule.kind = "cosine";
  return c;
}

// The FERPlus recipe (docs/RESULTS.md "FERPlus at full scale"): ResNet-18
// with the small stem at width 1/2, SGD 0.1 with momentum, weight decay
// 5e-4, one warm-up epoch and a cosine to 0 over 20 epochs, batch 64;
// crop after 4-pixel padding, flip, rotation up to 10 degrees, scale
// +-10%, random erasing with p = 0.25; label distributions from epoch 6 (a
// quarter in, as the paper's 10 of 40); Module A at width 1/8, h = 256,
// gamma = 5, 5 epochs of Adam 1e-3 on a cosine. At 12 epochs this reached
// 0.808 on FER2013Valid; 20 epochs take about 2 hours on 2 cores.
TrainConfig ferplus_preset() {
  TrainConfig c;
  c.dataset = "ferplus";
  c.labels = "plurality";
  c.val_labels = "plurality";
  c.arch = "resnet18";
  c.stem = "small";
  c.width = 0.5;
  c.epochs = 20;
  c.batch_size = 64;
  c.optimizer = "sgd";
  c.lr = 0.1;
  c.momentum = 0.9;
  c.weight_decay = 5e-4;
  c.schedule.kind = "cosine";
  c.schedule.warmup_epochs = 1;
  c.ld_start_epoch = 6;
  c.crop_padding = 4;
  c.rotate_degrees = 10;
  c.scale_jitter = 0.1;
  c.translate_fraction = 0;
  c.erase_probability = 0.25;
  c.ae_width = 0.125;
  c.ae_hidden = 256;
  c.ae_epochs = 5;
  c.ae_lr = 1e-3;
  c.ae_schedule.kind = "cosine";
  c.gamma = 5.0;
  return c;
}

TrainConfig named_preset(const std::string& name) {
  if (name == "ferplus") return ferplus_preset();
  std::string names;
  for (const auto& n : preset_names()) names += (names.empty() ? "" : ", ") + n;
  throw Error(str_cat("--preset ", name, ": no such preset (known: ", names, ")"));
}

std::vector<std::string> preset_names() { return {"ferplus"}; }

}  // namespace sceald::train
