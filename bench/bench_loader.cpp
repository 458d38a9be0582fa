// Loader throughput: images per wall-clock second through the whole pipeline
// (PNG decode, training augmentation, normalisation, batching) at 48x48,
// batch 64, on a freshly generated synthetic set of 1,024 training images,
// with 0 (the caller's thread), 1 and 2 worker threads. The consumer does no
// work, so this is the loader's ceiling; with training on the same cores the
// workers compete with the step. Each timed iteration is one epoch, validated
// first (every sample once, the right shapes).
//
//   ./bench_loader
//   ./bench_loader --benchmark_filter=workers:2
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/data/loader.h"
#include "engine/data/synthetic.h"
#include "engine/error.h"

namespace {

using namespace sceald;
using namespace sceald::data;

constexpr int kImages = 1024, kSide = 48, kBatch = 64;

// The generated set, made once per process and removed at exit.
class GeneratedSet {
 public:
  GeneratedSet() {
    dir_ = (std::filesystem::temp_directory_path() / ("sceald_bench_loader_" + std::to_string(::getpid()))).string();
    SyntheticOptions o;
    o.train = kImages;
    o.valid = 0;
    o.test = 0;
    o.size = kSide;
    generate_synthetic_dataset(dir_, o);
    DatasetOptions d;
    d.root = dir_;
    d.split = Split::Train;
    dataset_ = open_synthetic_dataset(d);
  }
  ~GeneratedSet() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const Dataset& dataset() const { return dataset_; }

 private:
  std::string dir_;
  Dataset dataset_;
};

const Dataset& generated() {
  static GeneratedSet set;
  return set.dataset();
}

LoaderOptions loader_options(int workers) {
  LoaderOptions o;
  o.batch_size = kBatch;
  o.workers = workers;
  o.shuffle = true;
  o.transform.side = kSide;
  o.transform.augment = true;
  o.transform.convention = InputConvention::grey01();
  return o;
}

// One epoch; returns the images seen. Checks shapes and coverage when asked.
std::int64_t run_epoch(DataLoader& loader, std::int64_t epoch, bool validate) {
  loader.start_epoch(epoch);
  std::int64_t images = 0;
  std::vector<int> seen(loader.dataset().size(), 0);
  while (auto batch = loader.next()) {
    const std::int64_t b = batch->images.size(0);
    images += b;
    if (validate) {
      SCEALD_CHECK(batch->images.shape() == (Shape{b, 1, kSide, kSide}), "bench_loader: wrong batch shape ",
                   shape_str(batch->images.shape()));
      for (std::int64_t index : batch->indices) ++seen[static_cast<std::size_t>(index)];
    }
  }
  if (validate)
    SCEALD_CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }),
                 "bench_loader: an epoch did not visit every sample exactly once");
  return images;
}

void BM_Loader(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  DataLoader loader(generated(), loader_options(workers));
  std::int64_t epoch = 0;
  run_epoch(loader, epoch++, /*validate=*/true);
  std::int64_t images = 0;
  for (auto _ : state) images += run_epoch(loader, epoch++, false);
  state.SetItemsProcessed(images);
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Loader)->ArgName("workers")->Arg(0)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// The decode-and-transform cost of one sample on the caller's thread, for scale.
void BM_LoadSample(benchmark::State& state) {
  const Dataset& dataset = generated();
  const LoaderOptions o = loader_options(0);
  std::vector<float> out(static_cast<std::size_t>(kSide * kSide));
  std::int64_t i = 0;
  for (auto _ : state) {
    Generator g = augmentation_generator(0, 0, i);
    load_sample(dataset.samples[static_cast<std::size_t>(i % kImages)], o.transform, &g, out.data());
    benchmark::DoNotOptimize(out.data());
    ++i;
  }
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_LoadSample)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
