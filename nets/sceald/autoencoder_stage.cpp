#include "nets/sceald/autoencoder_stage.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "engine/autograd/grad_mode.h"
#include "engine/cuda_runtime.h"
#include "engine/data/loader.h"
#include "engine/error.h"
#include "engine/io/finite_check.h"
#include "engine/io/safetensors.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/loss.h"
#include "engine/ops/reduction.h"
#include "engine/ops/similarity.h"
#include "engine/optim/adam.h"
#include "nets/sceald/confidence.h"
#include "nets/sceald/divergence.h"
#include "nets/sceald/lr_schedule.h"
#include "nets/sceald/semantic.h"
#include "nets/sceald/semantic_loss.h"
#include "nets/vgg10_autoencoder.h"

namespace sceald::train {
namespace fs = std::filesystem;

namespace {

// The rows of V for the labels of a batch: [B, d], a constant.
Tensor gather_rows(const Tensor& v, const Tensor& labels) {
  const auto y = labels.to_vector<std::int64_t>();
  const std::int64_t d = v.size(1);
  Tensor out = Tensor::empty({static_cast<std::int64_t>(y.size()), d});
  const float* src = v.data<float>();
  float* dst = out.data<float>();
  for (std::size_t i = 0; i < y.size(); ++i)
    std::copy(src + y[i] * d, src + (y[i] + 1) * d, dst + static_cast<std::int64_t>(i) * d);
  return out;
}

}  // namespace

SemanticSpace prepare_semantic_space(const TrainConfig& config, const TrainingData& data, const std::string& out_dir,
                                     const TrainHooks& hooks) {
  SemanticSpace space;
  space.word_vectors = method::load_class_word_vectors(config.word_vectors).to_tensor(DType::Float32).contiguous();
  space.ground_cost = method::transport_ground_cost(space.word_vectors);
  const std::string path = (fs::path(out_dir) / kSemanticFile).string();
  const std::int64_t n = static_cast<std::int64_t>(data.train.size());

  if (fs::exists(path)) {
    const io::SafetensorsFile f = io::load_safetensors(path);
    io::require_finite(f.tensors, path);
    SCEALD_CHECK(f.at("semantic_graph").size(0) == n, path, ": made for ", f.at("semantic_graph").size(0),
                 " training images, this training set has ", n, "; use a fresh --out folder");
    // Module A's codes and S^s were made against its word vectors: other ones would mismatch them silently.
    if (const Tensor* saved = f.find("word_vectors"))
      SCEALD_CHECK(saved->shape() == space.word_vectors.shape() &&
                       saved->to(DType::Float64).to_vector<double>() ==
                           space.word_vectors.to(DType::Float64).to_vector<double>(),
                   path, ": Module A was trained with other word vectors (", saved->str(), ") than ",
                   config.word_vectors.empty() ? std::string("the built-in ones")
                                               : "--word-vectors " + config.word_vectors,
                   " (", space.word_vectors.str(), "); give the same file, or use a fresh --out folder");
    space.codes = f.at("codes");
    space.semantic_graph = f.at("semantic_graph");
    return space;
  }

  nets::VGG10AutoEncoderOptions ao;
  ao.side = config.image_size;
  ao.in_channels = data.convention.channels;
  ao.code_dim = space.word_vectors.size(1);
  ao.hidden = config.ae_hidden;
  ao.width = config.ae_width;
  Generator gen(config.seed * 6364136223846793005ULL + 3);
  nets::VGG10AutoEncoder ae(ao, gen);
  const Device device = cuda::select_device(config.device);
  ae.to(device);
  optim::Adam adam(ae.parameters(), config.ae_lr);

  data::DataLoader train_loader(data.train,
                                loader_options(config, data.convention, device, true, true, config.seed + 7));
  const std::unique_ptr<optim::LRScheduler> schedule =
      make_lr_scheduler(config.ae_schedule, adam, std::max(config.ae_epochs, 1), train_loader.batches_per_epoch());
  const auto images_per_epoch = n;
  for (int epoch = 1; epoch <= config.ae_epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    ae.train();
    train_loader.start_epoch(epoch);
    double loss_sum = 0, mse_sum = 0, cos_sum = 0;
    std::int64_t seen = 0;
    while (auto batch = train_loader.next()) {
      const std::int64_t b = batch->images.size(0);
      const Tensor images = batch->images.to(device);
      auto out = ae.forward_with_code(images);
      const Tensor targets = gather_rows(space.word_vectors, batch->labels).to(device);
      const method::SemanticLossTerms terms =
          method::semantic_loss(images, out.reconstruction, out.code, targets, config.gamma);
      const Tensor& loss = terms.loss;
      ae.zero_grad();
      loss.backward();
      const double lr = adam.lr();
      adam.step();
      schedule->step();
      const double loss_value = loss.item<float>();
      check_loss_finite(loss_value, {"ae", epoch, seen + b, "--ae-lr", lr});
      loss_sum += loss_value * b;
      mse_sum += terms.mse.item<float>() * b;
      cos_sum += terms.cosine.item<float>() * b;
      seen += b;
      if (hooks.batch) hooks.batch("ae", epoch, seen, images_per_epoch);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (hooks.epoch)
      hooks.epoch({{"stage", "ae"}, {"epoch", epoch}, {"loss", loss_sum / seen}, {"mse", mse_sum / seen},
                   {"cosine", cos_sum / seen}, {"seconds", secs}, {"images_per_second", seen / secs}});
  }

  // Frozen: codes of every training image, no augmentation, in dataset order.
  ae.eval();
  NoGradGuard no_grad;
  data::DataLoader plain(data.train, loader_options(config, data.convention, device, false, false, config.seed));
  plain.start_epoch(0);
  space.codes = Tensor::empty({n, space.word_vectors.size(1)});
  float* codes = space.codes.data<float>();
  std::int64_t done = 0;
  while (auto batch = plain.next()) {
    const Tensor c = ae.encode(batch->images.to(device)).to(Device::cpu()).contiguous();
    const float* src = c.data<float>();
    for (std::size_t i = 0; i < batch->indices.size(); ++i)
      std::copy(src + i * c.size(1), src + (i + 1) * c.size(1), codes + batch->indices[i] * c.size(1));
    done += c.size(0);
    if (hooks.batch) hooks.batch("ae-codes", 0, done, n);
  }
  space.semantic_graph = method::semantic_cr_graph(space.codes, space.word_vectors);

  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& [name, t] : on_cpu(ae.state_dict())) tensors.emplace_back("ae." + name, t);
  tensors.emplace_back("codes", space.codes);
  tensors.emplace_back("semantic_graph", space.semantic_graph);
  tensors.emplace_back("word_vectors", space.word_vectors);
  io::save_safetensors(path, tensors,
                       {{"config", config.to_json().dump()}, {"input_convention", data.convention.to_string()}});
  return space;
}

}  // namespace sceald::train
