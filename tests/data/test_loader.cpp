// The prefetching loader on a tiny generated synthetic set: the same batches
// bit for bit whatever the number of workers, every sample once per epoch,
// epochs shuffled differently, drop_last, pixels and augmentation checked
// against the transforms applied by hand, errors that name the broken file,
// and epochs abandoned half-way without hanging.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <set>
#include <thread>

#include "engine/data/decode.h"
#include "engine/data/loader.h"
#include "engine/data/synthetic.h"
#include "tests/data/dataset_fixtures.h"

namespace sceald::data {
namespace {

using testing::TempFolder;
using testing::throws_with;

class DataLoaderTest : public ::testing::Test {
 protected:
  static constexpr int kTrain = 37;
  static constexpr int kSide = 32;

  static void SetUpTestSuite() {
    folder_ = new TempFolder;
    SyntheticOptions o;
    o.train = kTrain;
    o.valid = 0;
    o.test = 3;
    o.size = kSide;
    o.seed = 3;
    generate_synthetic_dataset(*folder_ / "set", o);
  }
  static void TearDownTestSuite() {
    delete folder_;
    folder_ = nullptr;
  }

  static Dataset train_set() {
    DatasetOptions d;
    d.root = *folder_ / "set";
    d.split = Split::Train;
    return open_synthetic_dataset(d);
  }

  static LoaderOptions options(int workers, int batch = 8) {
    LoaderOptions o;
    o.batch_size = batch;
    o.workers = workers;
    o.shuffle = true;
    o.seed = 7;
    o.transform.side = kSide;
    o.transform.augment = true;
    return o;
  }

  static std::vector<Batch> run_epoch(DataLoader& loader, std::int64_t epoch) {
    loader.start_epoch(epoch);
    std::vector<Batch> batches;
    while (auto batch = loader.next()) batches.push_back(std::move(*batch));
    return batches;
  }

  static inline TempFolder* folder_ = nullptr;
};

void expect_same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(what + ", batch " + std::to_string(i));
    EXPECT_EQ(a[i].indices, b[i].indices);
    EXPECT_EQ(a[i].number, static_cast<std::int64_t>(i));
    EXPECT_EQ(a[i].images.shape(), b[i].images.shape());
    EXPECT_EQ(a[i].images.to_vector<float>(), b[i].images.to_vector<float>());  // exact
    EXPECT_EQ(a[i].labels.to_vector<std::int64_t>(), b[i].labels.to_vector<std::int64_t>());
    EXPECT_EQ(a[i].distributions.to_vector<float>(), b[i].distributions.to_vector<float>());
  }
}

TEST_F(DataLoaderTest, SameBatchesWhateverTheNumberOfWorkers) {
  DataLoader one(train_set(), options(1));
  const std::vector<Batch> reference = run_epoch(one, 2);
  ASSERT_EQ(reference.size(), 5u);
  for (int workers : {0, 2, 4}) {
    for (int prefetch : {1, 3}) {
      LoaderOptions o = options(workers);
      o.prefetch = prefetch;
      DataLoader loader(train_set(), o);
      expect_same_batches(run_epoch(loader, 2), reference,
                          "workers " + std::to_string(workers) + ", prefetch " + std::to_string(prefetch));
    }
  }
  // The same loader gives the same epoch again.
  expect_same_batches(run_epoch(one, 2), reference, "epoch 2 again");
}

TEST_F(DataLoaderTest, EveryEpochVisitsEverySampleOnceInItsOwnOrder) {
  DataLoader loader(train_set(), options(2));
  std::vector<std::vector<std::int64_t>> orders;
  for (std::int64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<std::int64_t> order;
    for (const Batch& b : run_epoch(loader, epoch)) {
      EXPECT_EQ(b.epoch, epoch);
      order.insert(order.end(), b.indices.begin(), b.indices.end());
    }
    std::vector<std::int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::int64_t> all(kTrain);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(sorted, all) << "epoch " << epoch;
    EXPECT_EQ(order, loader.epoch_order(epoch));
    orders.push_back(order);
  }
  EXPECT_NE(orders[0], orders[1]);
  EXPECT_NE(orders[1], orders[2]);

  LoaderOptions o = options(2);
  o.shuffle = false;
  DataLoader in_order(train_set(), o);
  std::vector<std::int64_t> all(kTrain);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(in_order.epoch_order(5), all);
}

TEST_F(DataLoaderTest, DropLastDropsTheShortBatch) {
  LoaderOptions o = options(2);
  DataLoader keep(train_set(), o);
  const auto kept = run_epoch(keep, 0);
  ASSERT_EQ(kept.size(), 5u);
  EXPECT_EQ(keep.batches_per_epoch(), 5);
  EXPECT_EQ(kept.back().images.shape(), (Shape{kTrain - 32, 1, kSide, kSide}));
  EXPECT_EQ(kept.back().labels.shape(), (Shape{kTrain - 32}));
  o.drop_last = true;
  DataLoader drop(train_set(), o);
  const auto dropped = run_epoch(drop, 0);
  EXPECT_EQ(drop.batches_per_epoch(), 4);
  ASSERT_EQ(dropped.size(), 4u);
  for (const Batch& b : dropped) EXPECT_EQ(b.images.shape(), (Shape{8, 1, kSide, kSide}));
}

// Without augmentation a batch holds (pixel / 255 - 0.5) / 0.5 (grey01) of
// the decoded file, its label and its vote distribution.
TEST_F(DataLoaderTest, BatchesHoldTheNormalisedPixelsAndLabels) {
  LoaderOptions o = options(2, 16);
  o.transform.augment = false;
  const Dataset dataset = train_set();
  DataLoader loader(dataset, o);
  ASSERT_TRUE(loader.has_distributions());
  for (const Batch& b : run_epoch(loader, 0)) {
    const std::vector<float> images = b.images.to_vector<float>();
    const std::vector<float> dist = b.distributions.to_vector<float>();
    ASSERT_EQ(b.distributions.shape(), (Shape{static_cast<std::int64_t>(b.indices.size()), kNumExpressions}));
    for (std::size_t j = 0; j < b.indices.size(); ++j) {
      const Sample& s = dataset.samples[static_cast<std::size_t>(b.indices[j])];
      const Image image = decode_image(s.path);
      for (int p = 0; p < kSide * kSide; ++p)
        ASSERT_EQ(images[j * kSide * kSide + p], (image.pixels[p] * (1.0f / 255.0f) - 0.5f) / 0.5f);
      EXPECT_EQ(b.labels.to_vector<std::int64_t>()[j], s.label);
      float sum = 0.0f;
      for (int k = 0; k < kNumExpressions; ++k) {
        EXPECT_EQ(dist[j * kNumExpressions + k], (*s.distribution)[k]);
        sum += dist[j * kNumExpressions + k];
      }
      EXPECT_NEAR(sum, 1.0f, 1e-6f);
    }
  }
}

TEST_F(DataLoaderTest, ResizesAndAppliesTheCropBoxFirst) {
  Dataset dataset = train_set();
  dataset.samples.resize(3);
  dataset.samples[1].crop = CropBox{4, 2, 20, 24};
  LoaderOptions o = options(1, 3);
  o.transform.augment = false;
  o.transform.side = 20;
  o.transform.convention = InputConvention::imagenet();  // 3 channels from a grey file
  DataLoader loader(dataset, o);
  const auto batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].images.shape(), (Shape{3, 3, 20, 20}));
  const std::vector<float> got = batches[0].images.to_vector<float>();
  for (std::size_t j = 0; j < 3; ++j) {
    const Sample& s = dataset.samples[static_cast<std::size_t>(batches[0].indices[j])];
    Image image = decode_image(s.path, 3);
    if (s.crop) image = crop(image, *s.crop);
    const std::vector<float> expected = image_to_tensor(resize(image, 20, 20), o.transform.convention).to_vector<float>();
    const std::vector<float> slice(got.begin() + j * expected.size(), got.begin() + (j + 1) * expected.size());
    EXPECT_EQ(slice, expected) << s.id;
  }
}

// Augmentation is flip then pad-and-crop, drawn from the sample's own stream.
TEST_F(DataLoaderTest, AugmentationFollowsTheSampleStream) {
  const Dataset dataset = train_set();
  LoaderOptions o = options(2);
  o.transform.flip_probability = 0.5;
  o.transform.crop_padding = 4;
  DataLoader loader(dataset, o);
  const std::int64_t epoch = 3;
  int flipped = 0, shifted = 0;
  for (const Batch& b : run_epoch(loader, epoch)) {
    const std::vector<float> images = b.images.to_vector<float>();
    for (std::size_t j = 0; j < b.indices.size(); ++j) {
      const std::int64_t index = b.indices[j];
      const Image image = decode_image(dataset.samples[static_cast<std::size_t>(index)].path);
      Generator g = augmentation_generator(o.seed, epoch, index);
      const bool flip = g.next_uniform() < 0.5;
      const CropWindow window = random_crop_window(kSide, kSide, kSide, kSide, 4, g);
      flipped += flip;
      shifted += window.left != 0 || window.top != 0;
      const Image expected = crop(flip ? flip_horizontal(image) : image, window);
      const std::vector<float> want = image_to_tensor(expected, o.transform.convention).to_vector<float>();
      const std::vector<float> slice(images.begin() + j * want.size(), images.begin() + (j + 1) * want.size());
      ASSERT_EQ(slice, want) << "sample " << index;
    }
  }
  EXPECT_GT(flipped, 5);
  EXPECT_LT(flipped, kTrain - 5);
  EXPECT_GT(shifted, kTrain / 2);
  // Another epoch draws other augmentations for the same sample.
  Generator a = augmentation_generator(o.seed, 0, 5), b = augmentation_generator(o.seed, 1, 5);
  EXPECT_NE(a.next_uniform(), b.next_uniform());
}

// With the affine warp and erasing on: warp, flip, crop, normalise, erase,
// all from the sample's own stream, the same for any number of workers.
TEST_F(DataLoaderTest, AffineAndErasingFollowTheSampleStream) {
  const Dataset dataset = train_set();
  LoaderOptions o = options(0);
  o.transform.affine = {.rotate_degrees = 15, .scale_jitter = 0.1, .translate_fraction = 0.1};
  o.transform.erase_probability = 0.5;
  DataLoader loader(dataset, o);
  const std::int64_t epoch = 2;
  const std::vector<Batch> batches = run_epoch(loader, epoch);
  int erased = 0;
  for (const Batch& b : batches) {
    const std::vector<float> images = b.images.to_vector<float>();
    for (std::size_t j = 0; j < b.indices.size(); ++j) {
      const std::int64_t index = b.indices[j];
      const Image image = decode_image(dataset.samples[static_cast<std::size_t>(index)].path);
      Generator g = augmentation_generator(o.seed, epoch, index);
      const Image warped = affine_warp(image, draw_affine(o.transform.affine, kSide, kSide, g));
      const bool flip = g.next_uniform() < 0.5;
      const CropWindow window = random_crop_window(kSide, kSide, kSide, kSide, 4, g);
      Tensor want = image_to_tensor(crop(flip ? flip_horizontal(warped) : warped, window), o.transform.convention);
      erased += random_erase(want.data<float>(), 1, kSide, kSide, 0.5, g);
      const std::vector<float> w = want.to_vector<float>();
      const std::vector<float> slice(images.begin() + j * w.size(), images.begin() + (j + 1) * w.size());
      ASSERT_EQ(slice, w) << "sample " << index;
    }
  }
  EXPECT_GT(erased, 5);
  EXPECT_LT(erased, kTrain - 5);
  LoaderOptions four = o;
  four.workers = 4;
  DataLoader parallel(dataset, four);
  expect_same_batches(run_epoch(parallel, epoch), batches, "4 workers");
}

TEST_F(DataLoaderTest, ACorruptImageIsReportedWithItsName) {
  for (int workers : {0, 3}) {
    Dataset dataset = train_set();
    const std::string broken = folder_->write("broken.png", std::string("\x89PNG\r\n\x1a\n", 8) + "not really a png");
    dataset.samples[10].path = broken;
    LoaderOptions o = options(workers, 4);
    o.shuffle = false;
    DataLoader loader(dataset, o);
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next().has_value());  // samples 0-3
    ASSERT_TRUE(loader.next().has_value());  // samples 4-7
    EXPECT_TRUE(throws_with([&] { loader.next(); }, {"broken.png", dataset.samples[10].id}))
        << workers << " workers";
    EXPECT_FALSE(loader.next().has_value()) << "the epoch ends with its error";
    // A missing file too, and the loader is usable again afterwards.
    dataset.samples[10].path = *folder_ / "no_such_file.png";
    DataLoader missing(dataset, o);
    missing.start_epoch(0);
    EXPECT_TRUE(throws_with(
        [&] {
          while (missing.next()) {
          }
        },
        {"no_such_file.png"}));
    missing.start_epoch(1);
    EXPECT_TRUE(missing.next().has_value());
  }
}

TEST_F(DataLoaderTest, AbandoningAnEpochDoesNotHang) {
  const auto start = std::chrono::steady_clock::now();
  {
    LoaderOptions o = options(4, 2);
    o.prefetch = 2;
    DataLoader loader(train_set(), o);
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next().has_value());
    loader.start_epoch(1);  // abandons epoch 0 with workers blocked on a full queue
    ASSERT_TRUE(loader.next().has_value());
    ASSERT_TRUE(loader.next().has_value());
    loader.stop();
    EXPECT_FALSE(loader.next().has_value());
    loader.start_epoch(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // let the queue fill
  }  // destroyed mid-epoch
  {
    DataLoader never_started(train_set(), options(3));
    DataLoader started_only(train_set(), options(3));
    started_only.start_epoch(0);
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 20.0);
}

TEST_F(DataLoaderTest, BatchTensorsComeFromTheAllocator) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  LoaderOptions o = options(2);
  o.allocator = [calls](const Shape& shape, DType dtype) {
    ++*calls;
    return Tensor::empty(shape, dtype);
  };
  DataLoader loader(train_set(), o);
  EXPECT_EQ(run_epoch(loader, 0).size(), 5u);
  EXPECT_EQ(calls->load(), 5 * 3) << "images, labels and distributions per batch";

  o.allocator = [](const Shape& shape, DType dtype) { return Tensor::empty({1}, dtype); };
  DataLoader bad(train_set(), o);
  bad.start_epoch(0);
  EXPECT_TRUE(throws_with([&] { bad.next(); }, {"allocator"}));
}

TEST_F(DataLoaderTest, OptionsAndLabelsAreChecked) {
  LoaderOptions o = options(1);
  o.batch_size = 0;
  EXPECT_TRUE(throws_with([&] { DataLoader(train_set(), o); }, {"batch_size", "0"}));
  o = options(1);
  o.transform.crop_padding = -1;
  EXPECT_TRUE(throws_with([&] { DataLoader(train_set(), o); }, {"crop_padding"}));
  Dataset dataset = train_set();
  dataset.samples[4].label = 9;
  EXPECT_TRUE(throws_with([&] { DataLoader(dataset, options(1)); }, {dataset.samples[4].id, "label 9"}));

  DataLoader loader(train_set(), options(1));
  EXPECT_TRUE(throws_with([&] { loader.next(); }, {"start_epoch"}));

  Dataset empty = train_set();
  empty.samples.clear();
  DataLoader nothing(empty, options(2));
  EXPECT_EQ(nothing.batches_per_epoch(), 0);
  nothing.start_epoch(0);
  EXPECT_FALSE(nothing.next().has_value());
  EXPECT_FALSE(nothing.has_distributions());

  Dataset partial = train_set();
  partial.samples[0].distribution.reset();
  DataLoader no_dist(partial, options(1));
  EXPECT_FALSE(no_dist.has_distributions());
  no_dist.start_epoch(0);
  EXPECT_FALSE(no_dist.next()->distributions.defined());
}

}  // namespace
}  // namespace sceald::data
