#include "nets/sceald/train_config.h"

#include <cmath>

#include "engine/data/dataset.h"
#include "engine/error.h"
#include "kernels/cpu/cpu_features.h"
#include "nets/sceald/confidence.h"
#include "nets/sceald/prototypes.h"

namespace sceald::train {

void TrainConfig::validate() const {
  data::parse_dataset_kind(dataset);  // throws listing the choices
  data::parse_split(train_split);
  data::parse_split(val_split);
  data::parse_ferplus_labels(labels);
  data::parse_ferplus_labels(val_labels);
  method::parse_confidence_distance(confidence_distance);
  method::parse_prototype_mode(prototype);
  SCEALD_CHECK(dataset == "synthetic" || !data_root.empty(), "--data-root is required for --dataset ", dataset);
  SCEALD_CHECK(arch == "vgg16" || arch == "resnet18", "--arch ", arch, ": expected vgg16 or resnet18");
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
          {"image_size", image_size}, {"arch", arch},
          {"width", width},       {"init", init},
          {"epochs", epochs},     {"batch_size", batch_size},
          {"optimizer", optimizer}, {"lr", lr},
          {"momentum", momentum}, {"beta", beta},
          {"ld_start_epoch", ld_start_epoch}, {"confidence_distance", confidence_distance},
          {"confidence_eps", confidence_eps}, {"prototype", prototype},
          {"flip_probability", flip_probability}, {"crop_padding", crop_padding},
          {"ae_epochs", ae_epochs},
          {"ae_width", ae_width}, {"ae_hidden", ae_hidden},
          {"ae_lr", ae_lr},       {"gamma", gamma},
          {"word_vectors", word_vectors}, {"stage", stage},
          {"seed", seed},         {"threads", threads},
          {"workers", workers},   {"device", device},
          {"math", math}};
}

TrainConfig TrainConfig::from_json(const nlohmann::json& j) {
  SCEALD_CHECK(j.is_object(), "expected a JSON object of options, got ", j.type_name());
  TrainConfig c;
  auto get = [&](const char* key, auto& field) {
    if (!j.contains(key)) return;
    try {
      field = j.at(key).get<std::decay_t<decltype(field)>>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(str_cat("key '", key, "' is ", j.at(key).dump(), ": ", e.what()));
    }
  };
  get("dataset", c.dataset); get("data_root", c.data_root); get("train_split", c.train_split);
  get("val_split", c.val_split); get("labels", c.labels); get("noise", c.noise);
  get("val_labels", c.val_labels);
  get("train_subset", c.train_subset);
  get("image_size", c.image_size); get("arch", c.arch); get("width", c.width); get("init", c.init);
  get("epochs", c.epochs); get("batch_size", c.batch_size); get("lr", c.lr); get("beta", c.beta);
  get("optimizer", c.optimizer); get("momentum", c.momentum);
  get("ld_start_epoch", c.ld_start_epoch); get("confidence_distance", c.confidence_distance);
  get("confidence_eps", c.confidence_eps); get("flip_probability", c.flip_probability);
  get("crop_padding", c.crop_padding);
  get("prototype", c.prototype); get("ae_epochs", c.ae_epochs); get("ae_width", c.ae_width);
  get("ae_hidden", c.ae_hidden); get("ae_lr", c.ae_lr); get("gamma", c.gamma);
  get("word_vectors", c.word_vectors); get("stage", c.stage); get("seed", c.seed);
  get("threads", c.threads); get("workers", c.workers); get("device", c.device); get("math", c.math);
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
  c.width = 0.125;
  c.ae_width = 0.125;
  c.ae_hidden = 256;
  c.ae_epochs = 14;
  c.ae_lr = 1e-3;
  c.gamma = 5.0;
  c.epochs = 8;
  c.ld_start_epoch = 4;
  c.lr = 3e-4;
  return c;
}

}  // namespace sceald::train
