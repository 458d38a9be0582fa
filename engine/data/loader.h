// The prefetching data loader: turns a Dataset (dataset.h) into batches of
// normalised image tensors, decoding and augmenting on worker threads ahead
// of the training step.
//
// Per sample (load_sample): decode (decode.h) with the convention's channel
// count -> the sample's crop box, if any -> resize to side x side when the
// size differs -> with augmentation: a random affine warp when any jitter is
// set (augment.h), random horizontal flip, then a random side x side crop of
// the image padded by crop_padding zero pixels (torchvision's
// RandomHorizontalFlip + RandomCrop(side, padding)) -> normalise per
// InputConvention into CHW floats (transforms.h) -> with augmentation and
// erase_probability > 0: random erasing (augment.h).
//
// Determinism: the order of an epoch is a Philox permutation keyed by (seed,
// epoch), and sample i's augmentation draws come from its own Philox stream
// keyed by (seed, epoch) at offset i. Batches are delivered in order. So a
// seed and an epoch give the same batches, bit for bit, whatever the number
// of workers and however the threads are scheduled.
//
// Threads: `workers` std::threads per epoch each build whole batches (the
// next one not yet claimed) and park them until the consumer takes them; at
// most max(prefetch, workers) batches are built or waiting ahead of the one
// the consumer holds. workers = 0 builds each batch on the caller's thread
// inside next(). An error while loading a sample (an unreadable or corrupt
// file: the message names it) is carried to the consumer and thrown from
// next() when that batch is due; the epoch then ends. Starting another
// epoch, stop() and the destructor abandon the current epoch: workers
// finish the sample in hand and are joined.
//
// Memory: batch tensors come from a BatchAllocator, by default plain CPU
// tensors. Training a model on a GPU passes cuda::pinned_empty
// (nets/sceald/run_state.cpp), so batches sit in page-locked host memory and
// the host-to-device copy needs no staging. It is called from the worker
// threads, so it must be thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/data/augment.h"
#include "engine/data/dataset.h"
#include "engine/data/transforms.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace sceald::data {

struct SampleTransform {
  InputConvention convention = InputConvention::grey01();  // channels and normalisation
  int side = 48;                  // output height and width
  bool augment = false;           // training augmentation: flip + pad-and-crop
  double flip_probability = 0.5;
  int crop_padding = 4;           // zero pixels added on each side before the random crop
  AffineJitter affine;            // rotation, scale and shift (off by default)
  double erase_probability = 0;   // random erasing after normalisation
};

// The augmentation stream of sample `index` in `epoch`: a Generator keyed by
// (seed, epoch) positioned at the sample's own counter range.
Generator augmentation_generator(std::uint64_t seed, std::int64_t epoch, std::int64_t index);

// Loads one sample into `dst` (convention.channels * side * side floats,
// CHW). `augmentation` is used only when transform.augment is set (then it
// must not be null). Errors name the sample's id and file.
void load_sample(const Sample& sample, const SampleTransform& transform, Generator* augmentation, float* dst);
// The same into a new float32 tensor [C, side, side].
Tensor load_sample_tensor(const Sample& sample, const SampleTransform& transform, Generator* augmentation = nullptr);

// Makes the tensors of a batch; must be thread-safe (called from workers).
using BatchAllocator = std::function<Tensor(const Shape& shape, DType dtype)>;

struct LoaderOptions {
  int batch_size = 32;
  bool shuffle = false;
  bool drop_last = false;     // drop the last, smaller batch
  int workers = 2;            // 0: load on the caller's thread
  int prefetch = 4;           // batches built ahead of the consumer (at least `workers` are used)
  std::uint64_t seed = 0;     // shuffling and augmentation
  SampleTransform transform;
  BatchAllocator allocator;   // empty: Tensor::empty on the CPU
};

struct Batch {
  Tensor images;         // float32 [B, C, side, side]
  Tensor labels;         // int64 [B], canonical classes
  Tensor distributions;  // float32 [B, 7] when every sample has one; undefined otherwise
  std::vector<std::int64_t> indices;  // positions in the dataset's sample list
  std::int64_t epoch = 0;
  std::int64_t number = 0;  // the batch's place in its epoch, from 0
};

class DataLoader {
 public:
  // Checks the options and every sample's label (0..6); throws naming the
  // offending option or sample.
  DataLoader(Dataset dataset, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  const Dataset& dataset() const { return dataset_; }
  const LoaderOptions& options() const { return options_; }
  bool has_distributions() const { return has_distributions_; }
  std::int64_t batches_per_epoch() const;
  // The dataset positions in the order `epoch` delivers them.
  std::vector<std::int64_t> epoch_order(std::int64_t epoch) const;

  // Begins `epoch` (abandoning one in progress) and starts the workers.
  void start_epoch(std::int64_t epoch);
  // The next batch of the current epoch; nullopt once it is done. Rethrows a
  // worker's loading error when its batch is due.
  std::optional<Batch> next();
  // Abandons the current epoch and joins the workers; next() then gives nullopt.
  void stop();

 private:
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };
  Batch build_batch(std::int64_t number) const;
  void worker_loop();

  Dataset dataset_;
  LoaderOptions options_;
  bool has_distributions_ = false;

  // The current epoch. `order_` and the counts are written only while no
  // worker runs; the rest is guarded by mutex_.
  std::int64_t epoch_ = -1;
  std::vector<std::int64_t> order_;
  std::int64_t total_batches_ = 0;
  std::int64_t delivered_ = 0;
  std::int64_t claimed_ = 0;
  std::map<std::int64_t, Slot> ready_;
  std::mutex mutex_;
  std::condition_variable ready_cv_;  // a batch was parked
  std::condition_variable space_cv_;  // the consumer took one, or stop
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace sceald::data
