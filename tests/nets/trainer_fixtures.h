// Small synthetic sets and configurations shared by the trainer tests.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "engine/data/synthetic.h"
#include "nets/sceald/train_config.h"

namespace sceald::train {

inline std::string make_set(const std::string& name, std::int64_t train, std::int64_t held_out, int size) {
  const std::string d =
      (std::filesystem::temp_directory_path() / ("sceald-trainer-" + name + "-" + std::to_string(getpid()))).string();
  data::SyntheticOptions o;
  o.train = train;
  o.valid = held_out;
  o.test = held_out;
  o.size = size;
  o.seed = 3;
  data::generate_synthetic_dataset(d, o);
  return d;
}

// 200 images at 32x32: enough to exercise every path quickly.
inline const std::string& tiny_set() {
  static const std::string dir = make_set("tiny", 200, 60, 32);
  return dir;
}

// 400 images at 48x48: enough for a small ResNet-18 to learn in seconds.
inline const std::string& learnable_set() {
  static const std::string dir = make_set("learnable", 400, 100, 48);
  return dir;
}

inline TrainConfig tiny_config() {
  TrainConfig c = synthetic_fast_preset();
  c.data_root = tiny_set();
  c.image_size = 32;
  c.labels = "fer2013";  // clean dominant labels
  c.arch = "vgg16";       // the SPEC's task network, with a constant rate, as these tests were written for
  c.stem = "imagenet";
  c.schedule = {};
  c.width = 0.0625;
  c.ae_width = 0.0625;
  c.ae_hidden = 32;
  c.ae_epochs = 1;
  c.epochs = 3;
  c.ld_start_epoch = 2;
  c.batch_size = 20;
  c.lr = 2e-3;
  c.workers = 0;
  c.threads = 1;
  return c;
}

inline std::string temp_out(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("sceald-trainer-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  return d.string();
}

}  // namespace sceald::train
