#include "nets/sceald/evaluate.h"

#include <cmath>
#include <filesystem>

#include "engine/autograd/grad_mode.h"
#include "engine/cuda_runtime.h"
#include "engine/data/loader.h"
#include "engine/error.h"
#include "engine/ops/layout.h"
#include "engine/ops/softmax.h"
#include "nets/sceald/reports.h"

namespace sceald::train {

Tta parse_tta(const std::string& name) {
  if (name == "none") return Tta::None;
  if (name == "flip") return Tta::Flip;
  throw Error(str_cat("--tta ", name, ": expected none or flip"));
}

namespace {

// The batch [N, C, H, W] (contiguous float32 on the CPU) mirrored left to right.
Tensor mirrored(const Tensor& images) {
  Tensor out = Tensor::empty(images.shape());
  const std::int64_t w = images.size(3), rows = images.numel() / w;
  const float* src = images.data<float>();
  float* dst = out.data<float>();
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t x = 0; x < w; ++x) dst[r * w + x] = src[r * w + w - 1 - x];
  return out;
}

// The logits of a batch, or with Tta::Flip the log of the softmax averaged over the batch and its mirror image.
Tensor batch_logits(const TaskNet& net, const Tensor& images, Tta tta) {
  const Tensor z = net.module->forward(images.to(net.device)).to(Device::cpu()).contiguous();
  if (tta == Tta::None) return z;
  const Tensor zf = net.module->forward(mirrored(images.contiguous()).to(net.device)).to(Device::cpu()).contiguous();
  const Tensor p = softmax(z, 1).to(DType::Float64), q = softmax(zf, 1).to(DType::Float64);
  Tensor out = Tensor::empty(z.shape());
  const double* a = p.data<double>();
  const double* b = q.data<double>();
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < out.numel(); ++i) o[i] = static_cast<float>(std::log(0.5 * (a[i] + b[i])));
  return out;
}

}  // namespace

EvalResult evaluate_net(const TaskNet& net, const data::Dataset& dataset, const data::InputConvention& convention,
                        int side, int batch_size, int workers, const TrainHooks& hooks, Tta tta) {
  const bool was_training = net.module->is_training();
  net.module->eval();
  NoGradGuard no_grad;
  data::LoaderOptions o;
  o.batch_size = batch_size;
  o.workers = workers;
  o.transform.convention = convention;
  o.transform.side = side;
  o.allocator = batch_allocator_for(net.device);
  data::DataLoader loader(dataset, o);
  loader.start_epoch(0);
  method::ConfusionMatrix confusion(data::kNumExpressions);
  std::vector<Tensor> parts, votes;
  std::int64_t done = 0;
  while (auto batch = loader.next()) {
    const Tensor logits = batch_logits(net, batch->images, tta);
    confusion.add(logits, batch->labels);
    parts.push_back(logits);
    if (batch->distributions.defined()) votes.push_back(batch->distributions);
    done += logits.size(0);
    if (hooks.batch) hooks.batch("eval", 0, done, static_cast<std::int64_t>(dataset.size()));
  }
  net.module->train(was_training);
  EvalResult r;
  r.tta = tta;
  r.metrics = confusion.metrics();
  r.logits = concat(parts, 0);
  if (loader.has_distributions() && votes.size() == parts.size())
    r.kl_votes = method::mean_kl_votes_to_logits(concat(votes, 0), r.logits);
  if (auto truth = true_distributions(dataset)) r.kl_true = mean_kl_true(*truth, dataset, softmax(r.logits, 1));
  return r;
}

nlohmann::json metrics_json(const EvalResult& result) {
  const auto& m = result.metrics;
  nlohmann::json per_class = nlohmann::json::array();
  for (double a : m.per_class_accuracy) per_class.push_back(std::isnan(a) ? nlohmann::json(nullptr) : nlohmann::json(a));
  nlohmann::json confusion = nlohmann::json::array();
  for (int t = 0; t < m.num_classes; ++t) {
    nlohmann::json row = nlohmann::json::array();
    for (int p = 0; p < m.num_classes; ++p) row.push_back(m.count(t, p));
    confusion.push_back(row);
  }
  nlohmann::json j = {{"accuracy", m.accuracy},
                      {"per_class_accuracy", per_class},
                      {"mean_class_accuracy", m.mean_class_accuracy},
                      {"confusion", confusion},
                      {"count", m.total}};
  if (result.kl_votes) j["kl_votes"] = *result.kl_votes;
  if (result.kl_true) j["kl_true"] = *result.kl_true;
  if (!result.labels.empty()) j["labels"] = result.labels;
  j["tta"] = result.tta == Tta::Flip ? "flip" : "none";
  return j;
}

EvalResult evaluate_checkpoint(const EvalRequest& request, const TrainHooks& hooks) {
  LoadedRun run = load_run(request.checkpoint, cuda::select_device(request.device));
  TrainConfig c = run.config;
  if (!request.dataset.empty()) {
    c.dataset = request.dataset;
    c.data_root = request.data_root;  // another dataset needs its own root
  } else if (!request.data_root.empty()) {
    c.data_root = request.data_root;
  }
  // Training generates a missing synthetic set; evaluating must not make one up at a mistyped path.
  if (!request.data_root.empty())
    SCEALD_CHECK(std::filesystem::is_directory(request.data_root), "--data-root ", request.data_root,
                 ": no such folder");
  const std::string labels = request.labels.empty() ? c.val_labels : request.labels;
  const data::Dataset d = open_split(c, request.split.empty() ? c.val_split : request.split, labels);
  EvalResult r =
      evaluate_net(run.net, d, run.convention, c.image_size, request.batch_size, request.workers, hooks, request.tta);
  r.labels = labels;
  return r;
}

std::vector<std::vector<double>> predict_images(const std::string& checkpoint, const std::vector<std::string>& images,
                                                const std::string& device) {
  LoadedRun run = load_run(checkpoint, cuda::select_device(device));
  data::SampleTransform t;
  t.convention = run.convention;
  t.side = run.config.image_size;
  NoGradGuard no_grad;
  std::vector<std::vector<double>> out;
  for (const auto& path : images) {
    data::Sample s;
    s.id = path;
    s.path = path;
    s.label = 0;
    const Tensor x = data::load_sample_tensor(s, t);
    const Tensor batch = x.reshape({1, x.size(0), x.size(1), x.size(2)}).to(run.net.device);
    const Tensor logits = run.net.module->forward(batch).to(Device::cpu());
    out.push_back(softmax(logits, 1).to(DType::Float64).to_vector<double>());
  }
  return out;
}

}  // namespace sceald::train
