#include "engine/data/loader.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "engine/data/decode.h"
#include "engine/error.h"

namespace sceald::data {

namespace {

// splitmix64's finaliser: spreads (seed, purpose, epoch) over the Philox key
// so that neighbouring seeds and epochs give unrelated streams.
std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

constexpr std::uint64_t kShuffleStream = 0x73687566666C65ull;    // "shuffle"
constexpr std::uint64_t kAugmentStream = 0x6175676D656E74ull;    // "augment"
// 64 Philox blocks per sample, one per draw; augmentation uses at most
// 1 (flip) + 2 (crop) + 4 (affine) + 1 + 4 * kEraseAttempts (erasing) = 48.
constexpr int kSampleStreamShift = 6;
constexpr std::uint64_t kSampleStreamBlocks = std::uint64_t{1} << kSampleStreamShift;

std::uint64_t stream_key(std::uint64_t seed, std::uint64_t purpose, std::int64_t epoch) {
  return mix64(mix64(seed ^ purpose) + static_cast<std::uint64_t>(epoch));
}

void check_options(const LoaderOptions& o) {
  SCEALD_CHECK(o.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ", o.batch_size);
  SCEALD_CHECK(o.workers >= 0 && o.workers <= 256, "DataLoader: workers must be in [0, 256], got ", o.workers);
  SCEALD_CHECK(o.prefetch >= 1, "DataLoader: prefetch must be >= 1, got ", o.prefetch);
  const SampleTransform& t = o.transform;
  SCEALD_CHECK(t.side >= 1 && t.side <= kMaxImageSide, "DataLoader: side must be in [1, ", kMaxImageSide, "], got ",
               t.side);
  SCEALD_CHECK(t.crop_padding >= 0, "DataLoader: crop_padding must be >= 0, got ", t.crop_padding);
  SCEALD_CHECK(t.flip_probability >= 0.0 && t.flip_probability <= 1.0,
               "DataLoader: flip_probability must be in [0, 1], got ", t.flip_probability);
  SCEALD_CHECK(t.erase_probability >= 0.0 && t.erase_probability <= 1.0,
               "DataLoader: erase_probability must be in [0, 1], got ", t.erase_probability);
  SCEALD_CHECK(t.affine.rotate_degrees >= 0 && t.affine.scale_jitter >= 0 && t.affine.scale_jitter < 1 &&
                   t.affine.translate_fraction >= 0,
               "DataLoader: affine jitter must be non-negative with scale_jitter below 1, got rotate ",
               t.affine.rotate_degrees, ", scale ", t.affine.scale_jitter, ", translate ", t.affine.translate_fraction);
  SCEALD_CHECK(t.convention.channels == 1 || t.convention.channels == 3,
               "DataLoader: the input convention must have 1 or 3 channels, got ", t.convention.channels);
}

Tensor allocate(const BatchAllocator& allocator, const Shape& shape, DType dtype) {
  if (!allocator) return Tensor::empty(shape, dtype);
  Tensor t = allocator(shape, dtype);
  SCEALD_CHECK(t.defined() && t.device().is_cpu() && t.is_contiguous() && t.dtype() == dtype && t.shape() == shape,
               "DataLoader: the batch allocator must return a contiguous CPU tensor ", dtype_name(dtype),
               shape_str(shape), ", got ", t.defined() ? t.str() : std::string("an undefined tensor"));
  return t;
}

}  // namespace

// ---- one sample

Generator augmentation_generator(std::uint64_t seed, std::int64_t epoch, std::int64_t index) {
  const std::uint64_t key = stream_key(seed, kAugmentStream, epoch);
  Generator g(key);
  g.set_state(key, static_cast<std::uint64_t>(index) << kSampleStreamShift);
  return g;
}

void load_sample(const Sample& sample, const SampleTransform& t, Generator* augmentation, float* dst) {
  try {
    Image image = sample.image ? convert_channels(*sample.image, t.convention.channels)
                               : decode_image(sample.path, t.convention.channels);
    if (sample.crop) image = crop(image, *sample.crop);
    if (image.width != t.side || image.height != t.side) image = resize(image, t.side, t.side);
    if (t.augment) {
      SCEALD_CHECK(augmentation != nullptr, "augmentation is on but no generator was given");
      const std::uint64_t start = augmentation->offset();
      if (t.affine.active()) image = affine_warp(image, draw_affine(t.affine, image.width, image.height, *augmentation));
      image = random_flip_horizontal(image, *augmentation, t.flip_probability);
      if (t.crop_padding > 0) image = random_crop(image, t.side, t.side, t.crop_padding, *augmentation);
      image_to_chw(image, t.convention, dst);
      if (t.erase_probability > 0)
        random_erase(dst, t.convention.channels, t.side, t.side, t.erase_probability, *augmentation);
      // Past its window the stream would repeat the next sample's draws.
      SCEALD_CHECK(augmentation->offset() - start <= kSampleStreamBlocks, "augmentation drew ",
                   augmentation->offset() - start, " blocks, more than a sample's ", kSampleStreamBlocks);
      return;
    }
    image_to_chw(image, t.convention, dst);
  } catch (const Error& e) {
    throw Error(str_cat("loading sample '", sample.id, "' (", sample.path, "): ", e.what()));
  }
}

Tensor load_sample_tensor(const Sample& sample, const SampleTransform& t, Generator* augmentation) {
  Tensor out = Tensor::empty({t.convention.channels, t.side, t.side});
  load_sample(sample, t, augmentation, out.data<float>());
  return out;
}

// ---- the loader

DataLoader::DataLoader(Dataset dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  check_options(options_);
  has_distributions_ = !dataset_.samples.empty();
  for (const Sample& s : dataset_.samples) {
    SCEALD_CHECK(s.label >= 0 && s.label < kNumExpressions, "DataLoader: sample '", s.id, "' (", s.path,
                 ") has label ", s.label, "; expected a class index in [0, ", kNumExpressions, ")");
    has_distributions_ = has_distributions_ && s.distribution.has_value();
  }
}

DataLoader::~DataLoader() { stop(); }

std::int64_t DataLoader::batches_per_epoch() const {
  const auto n = static_cast<std::int64_t>(dataset_.samples.size());
  const std::int64_t b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<std::int64_t> DataLoader::epoch_order(std::int64_t epoch) const {
  const auto n = static_cast<std::int64_t>(dataset_.samples.size());
  if (options_.shuffle) return Generator(stream_key(options_.seed, kShuffleStream, epoch)).permutation(n);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  return order;
}

Batch DataLoader::build_batch(std::int64_t number) const {
  const std::int64_t begin = number * options_.batch_size;
  const std::int64_t end = std::min<std::int64_t>(begin + options_.batch_size, static_cast<std::int64_t>(order_.size()));
  const std::int64_t count = end - begin;
  const SampleTransform& t = options_.transform;
  const std::int64_t channels = t.convention.channels;
  const std::int64_t plane = channels * t.side * t.side;

  Batch batch;
  batch.epoch = epoch_;
  batch.number = number;
  batch.indices.assign(order_.begin() + begin, order_.begin() + end);
  batch.images = allocate(options_.allocator, {count, channels, t.side, t.side}, DType::Float32);
  batch.labels = allocate(options_.allocator, {count}, DType::Int64);
  if (has_distributions_) batch.distributions = allocate(options_.allocator, {count, kNumExpressions}, DType::Float32);

  float* images = batch.images.data<float>();
  auto* labels = batch.labels.data<std::int64_t>();
  for (std::int64_t j = 0; j < count; ++j) {
    if (stopping_.load(std::memory_order_relaxed)) break;  // abandoned: the batch is thrown away
    const std::int64_t index = batch.indices[static_cast<std::size_t>(j)];
    const Sample& sample = dataset_.samples[static_cast<std::size_t>(index)];
    Generator augmentation = augmentation_generator(options_.seed, epoch_, index);
    load_sample(sample, t, &augmentation, images + j * plane);
    labels[j] = sample.label;
    if (has_distributions_)
      std::memcpy(batch.distributions.data<float>() + j * kNumExpressions, sample.distribution->data(),
                  sizeof(float) * kNumExpressions);
  }
  return batch;
}

void DataLoader::worker_loop() {
  const std::int64_t depth = std::max(options_.prefetch, options_.workers);
  for (;;) {
    std::int64_t number = 0;
    {
      std::unique_lock lock(mutex_);
      space_cv_.wait(lock, [&] {
        return stopping_.load() || claimed_ >= total_batches_ || claimed_ < delivered_ + depth;
      });
      if (stopping_.load() || claimed_ >= total_batches_) return;
      number = claimed_++;
    }
    Slot slot;
    try {
      slot.batch = build_batch(number);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      const std::lock_guard lock(mutex_);
      if (stopping_.load()) return;
      ready_.emplace(number, std::move(slot));
    }
    ready_cv_.notify_all();
  }
}

void DataLoader::start_epoch(std::int64_t epoch) {
  stop();
  epoch_ = epoch;
  order_ = epoch_order(epoch);
  total_batches_ = batches_per_epoch();
  delivered_ = 0;
  claimed_ = 0;
  ready_.clear();
  const auto threads = std::min<std::int64_t>(options_.workers, total_batches_);
  for (std::int64_t i = 0; i < threads; ++i) threads_.emplace_back([this] { worker_loop(); });
}

std::optional<Batch> DataLoader::next() {
  SCEALD_CHECK(epoch_ >= 0, "DataLoader::next: no epoch in progress; call start_epoch(epoch) first");
  if (delivered_ >= total_batches_) {
    stop();
    return std::nullopt;
  }
  Slot slot;
  if (threads_.empty()) {
    try {
      slot.batch = build_batch(delivered_);
    } catch (...) {
      slot.error = std::current_exception();
    }
    ++delivered_;
  } else {
    std::unique_lock lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(delivered_) > 0; });
    auto node = ready_.extract(delivered_);
    slot = std::move(node.mapped());
    ++delivered_;
    lock.unlock();
    space_cv_.notify_all();
  }
  if (slot.error) {
    stop();  // the epoch ends with its first error
    std::rethrow_exception(slot.error);
  }
  return std::move(slot.batch);
}

void DataLoader::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  space_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  ready_.clear();
  delivered_ = claimed_ = total_batches_;
  stopping_.store(false);
}

}  // namespace sceald::data
