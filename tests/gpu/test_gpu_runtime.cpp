// The CUDA runtime layer: device selection and its errors (these run on any
// machine), the caching allocator, pinned buffers, the math mode and the
// debug synchronisation (on a GPU).
#include <cmath>
#include <cstdlib>
#include <string>

#include "engine/cuda/caching_allocator.h"
#include "engine/cuda/debug_sync.h"
#include "engine/cuda/math_mode.h"
#include "engine/cuda/pinned.h"
#include "engine/cuda_runtime.h"
#include "engine/error.h"
#include "engine/ops/elementwise.h"
#include "gpu_test.h"

using namespace sceald;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

// ---- on every machine

TEST(GpuRuntime, SizeClassesRoundUpByAtMostAQuarter) {
  EXPECT_EQ(cuda::allocation_size_class(0), 512u);
  EXPECT_EQ(cuda::allocation_size_class(1), 512u);
  EXPECT_EQ(cuda::allocation_size_class(512), 512u);
  EXPECT_EQ(cuda::allocation_size_class(513), 640u);
  EXPECT_EQ(cuda::allocation_size_class(1024), 1024u);
  EXPECT_EQ(cuda::allocation_size_class(1025), 1280u);
  EXPECT_EQ(cuda::allocation_size_class(3 << 20), 3u << 20);
  for (std::size_t bytes : {700u, 4097u, 100000u, 123456789u}) {
    const std::size_t c = cuda::allocation_size_class(bytes);
    EXPECT_GE(c, bytes);
    EXPECT_LE(c, bytes + bytes / 4 + 512) << bytes;
    EXPECT_EQ(cuda::allocation_size_class(c), c) << "a class is its own class";
  }
}

TEST(GpuRuntime, MathModeIsExplicitAndScoped) {
  EXPECT_EQ(cuda::math_mode(), cuda::MathMode::Precise) << "the process default must be precise";
  {
    cuda::MathModeGuard fast(cuda::MathMode::Fast);
    EXPECT_EQ(cuda::math_mode(), cuda::MathMode::Fast);
  }
  EXPECT_EQ(cuda::math_mode(), cuda::MathMode::Precise);
  EXPECT_EQ(cuda::parse_math_mode("fast"), cuda::MathMode::Fast);
  EXPECT_EQ(cuda::parse_math_mode("precise"), cuda::MathMode::Precise);
  EXPECT_THROW(cuda::parse_math_mode("tf32"), Error);
}

TEST(GpuRuntime, DebugSyncCanBeSwitched) {
  const bool before = cuda::sync_after_each_op();
  cuda::set_sync_after_each_op(!before);
  EXPECT_EQ(cuda::sync_after_each_op(), !before);
  cuda::set_sync_after_each_op(before);
}

TEST(GpuRuntime, FormatsBytes) {
  EXPECT_EQ(cuda::format_bytes(17), "17 B");
  EXPECT_EQ(cuda::format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(cuda::format_bytes(std::size_t{3} << 30), "3.00 GiB");
}

TEST(GpuRuntime, DeviceSelection) {
  EXPECT_TRUE(cuda::select_device("cpu").is_cpu());
  EXPECT_THROW(cuda::select_device("gpu"), Error);
  if (cuda::device_count() == 0) {
    try {
      cuda::select_device("cuda");
      FAIL() << "--device cuda without a GPU must be an error";
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), "--device cpu")) << e.what();
    }
  } else {
    EXPECT_TRUE(cuda::select_device("cuda").is_cuda());
    EXPECT_THROW(cuda::select_device("cuda:" + std::to_string(cuda::device_count())), Error);
  }
}

TEST(GpuRuntime, CudaTensorWithoutGpuIsAClearError) {
  if (cuda::device_count() > 0) GTEST_SKIP() << "a GPU is present; this test covers machines without one";
  try {
    (void)Tensor::zeros({3}).to(Device::cuda(0));
    FAIL() << "a CUDA tensor without a GPU must be an error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "cpu")) << e.what();
  }
}

TEST(GpuRuntime, PinnedBufferIsAnOrdinaryCpuTensor) {
  Tensor t = cuda::pinned_empty({4, 3});
  EXPECT_TRUE(t.device().is_cpu());
  EXPECT_EQ(t.shape(), (Shape{4, 3}));
  t.fill_(2.0);
  EXPECT_EQ(t.to_vector<float>()[11], 2.0f);
  if (cuda::device_count() > 0) {
    EXPECT_TRUE(cuda::is_pinned(t));
    EXPECT_EQ(t.to(Device::cuda(0)).to(Device::cpu()).to_vector<float>(), t.to_vector<float>());
  }
}

// ---- on a GPU

TEST(GpuRuntime, FreedPinnedBlocksServeTheNextBatchOfTheirSize) {
  SCEALD_REQUIRE_GPU();
  const void* first = nullptr;
  {
    Tensor batch = cuda::pinned_empty({8, 3, 17, 19});
    first = batch.raw_data();
  }
  Tensor other_size = cuda::pinned_empty({8, 3, 17, 20});
  Tensor same_size = cuda::pinned_empty({8, 3, 17, 19});
  EXPECT_NE(other_size.raw_data(), first);
  EXPECT_EQ(same_size.raw_data(), first) << "the freed block of this size was not reused";
  EXPECT_TRUE(cuda::is_pinned(same_size));
  Tensor while_in_use = cuda::pinned_empty({8, 3, 17, 19});
  EXPECT_NE(while_in_use.raw_data(), first) << "a block in use was handed out twice";
}

TEST(GpuAllocator, ReusesFreedBlocksAndCountsBytes) {
  SCEALD_REQUIRE_GPU();
  if (!cuda::caching_enabled()) GTEST_SKIP() << "SCEALD_CUDA_NO_CACHE=1: the cache is off, nothing is reused";
  cuda::empty_cache(0);
  const cuda::MemoryStats before = cuda::memory_stats(0);
  void* first = nullptr;
  {
    Tensor a = Tensor::empty({1000, 3}, DType::Float32, Device::cuda(0));  // 12000 bytes -> class 12288
    first = a.raw_data();
    const cuda::MemoryStats during = cuda::memory_stats(0);
    EXPECT_EQ(during.in_use_bytes, before.in_use_bytes + cuda::allocation_size_class(12000));
    EXPECT_GE(during.peak_in_use_bytes, during.in_use_bytes);
    EXPECT_GE(during.peak_requested_bytes, before.requested_bytes + 12000);
    EXPECT_LE(during.peak_requested_bytes, during.peak_in_use_bytes);
  }
  const cuda::MemoryStats after = cuda::memory_stats(0);
  EXPECT_EQ(after.in_use_bytes, before.in_use_bytes);
  EXPECT_EQ(after.cached_bytes, before.cached_bytes + cuda::allocation_size_class(12000));
  Tensor b = Tensor::empty({3, 1000}, DType::Float32, Device::cuda(0));  // same class: the same block
  EXPECT_EQ(b.raw_data(), first);
  EXPECT_EQ(cuda::memory_stats(0).reuses, after.reuses + 1);
  EXPECT_TRUE(contains(cuda::memory_summary(0), "peak")) << cuda::memory_summary(0);
}

TEST(GpuAllocator, OutOfMemorySaysWhatWasAskedAndToLowerTheBatchSize) {
  SCEALD_REQUIRE_GPU();
  const std::size_t huge = std::size_t{1} << 40;  // 1 TiB: no GPU has it
  try {
    (void)cuda::caching_alloc(huge, 0);
    FAIL() << "a 1 TiB allocation must fail";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_TRUE(contains(m, "out of GPU memory")) << m;
    EXPECT_TRUE(contains(m, "1.00 TiB")) << m;
    EXPECT_TRUE(contains(m, "in use")) << m;
    EXPECT_TRUE(contains(m, "batch size")) << m;
  }
  EXPECT_EQ(cuda::try_caching_alloc(huge, 0), nullptr);
  // The device still works afterwards.
  Tensor t = Tensor::full({5}, 3.0, DType::Float32, Device::cuda(0));
  EXPECT_EQ(add(t, t).to(Device::cpu()).to_vector<float>(), std::vector<float>(5, 6.0f));
}

TEST(GpuAllocator, PoisonFillsNewBlocksWithNaN) {
  SCEALD_REQUIRE_GPU();
  cuda::set_poison_allocations(true);
  Tensor t = Tensor::empty({7}, DType::Float32, Device::cuda(0));
  cuda::set_poison_allocations(false);
  for (float v : t.to(Device::cpu()).to_vector<float>()) EXPECT_TRUE(std::isnan(v));
}

TEST(GpuRuntime, DebugSyncRunsOpsAndNamesNoFaultWhenThereIsNone) {
  SCEALD_REQUIRE_GPU();
  cuda::set_sync_after_each_op(true);
  Tensor t = Tensor::full({300}, 2.0, DType::Float32, Device::cuda(0));
  Tensor u = exp(mul(t, t));
  cuda::set_sync_after_each_op(false);
  EXPECT_NEAR(u.to(Device::cpu()).to_vector<float>()[299], std::exp(4.0f), 1e-4);
}

TEST(GpuRuntime, TensorsOnDifferentDevicesAreAnErrorNotACopy) {
  SCEALD_REQUIRE_GPU();
  Tensor a = Tensor::ones({3}, DType::Float32, Device::cuda(0));
  Tensor b = Tensor::ones({3});
  EXPECT_THROW(add(a, b), Error);
}
