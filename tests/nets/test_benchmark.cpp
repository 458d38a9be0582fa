// nets::run_benchmark, the library side of `sceald benchmark`: it builds the
// training model, times both kinds of step and reports consistent numbers;
// bad options are refused with the option's name. (The speed itself is
// measured by bench/compare_peers.sh, never by a test.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/error.h"
#include "nets/benchmark.h"
#include "nets/vgg16.h"

namespace sceald::nets {
namespace {

using ::testing::HasSubstr;

BenchmarkOptions tiny(Arch arch) {
  BenchmarkOptions o;
  o.net.arch = arch;
  o.net.width = 1.0 / 16;
  o.net.in_channels = 1;
  o.net.hidden = 32;
  o.net.code_dim = 8;
  o.image_size = 32;
  o.batch_size = 3;
  o.steps = 3;
  o.warmup = 1;
  return o;
}

TEST(Benchmark, TimesTheTrainingModelAndReportsConsistentRates) {
  const BenchmarkOptions o = tiny(Arch::VGG16);
  const BenchmarkResult r = run_benchmark(o);
  VGG16Options v;
  v.num_classes = o.net.num_classes;
  v.in_channels = 1;
  v.width = o.net.width;
  EXPECT_EQ(r.parameters, VGG16::count_parameters(v));  // the 7x7 pool and 49-fold fc6 included
  EXPECT_GT(r.train_ms_per_step, 0.0);
  EXPECT_GT(r.forward_ms_per_step, 0.0);
  EXPECT_NEAR(r.train_images_per_s, 3e3 / r.train_ms_per_step, 1e-9 * r.train_images_per_s);
  EXPECT_NEAR(r.forward_images_per_s, 3e3 / r.forward_ms_per_step, 1e-9 * r.forward_images_per_s);
  EXPECT_GT(r.peak_rss_bytes, 1 << 20);
  EXPECT_GE(r.threads, 1);
}

TEST(Benchmark, RunsEveryArchitecture) {
  for (Arch arch : {Arch::ResNet18, Arch::VGG10AutoEncoder}) {
    SCOPED_TRACE(arch_name(arch));
    const BenchmarkResult r = run_benchmark(tiny(arch));
    EXPECT_GT(r.train_images_per_s, 0.0);
    EXPECT_GT(r.parameters, 0);
  }
}

TEST(Benchmark, RefusesBadOptionsByName) {
  auto message = [](BenchmarkOptions o) {
    try {
      run_benchmark(o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  BenchmarkOptions o = tiny(Arch::VGG16);
  o.steps = 0;
  EXPECT_THAT(message(o), HasSubstr("--steps must be at least 1, got 0"));
  o = tiny(Arch::VGG16);
  o.batch_size = -2;
  EXPECT_THAT(message(o), HasSubstr("--batch-size must be at least 1, got -2"));
  o = tiny(Arch::VGG16);
  o.image_size = 16;
  EXPECT_THAT(message(o), HasSubstr("--image-size must be at least 32 for vgg16"));
}

TEST(Benchmark, PeakResidentMemoryIsReadFromProc) {
  EXPECT_GT(peak_rss_bytes(), 0);
  std::vector<char> block(std::size_t{64} << 20, 1);  // touched, so resident
  EXPECT_GE(peak_rss_bytes(), std::int64_t(block.size()));
}

}  // namespace
}  // namespace sceald::nets
