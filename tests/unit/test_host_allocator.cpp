#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "engine/host_allocator.h"
#include "engine/tensor.h"

using namespace sceald;

namespace {

bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

// Every test starts from an empty cache; other tests in this process may hold blocks, so counts are deltas.
class HostAllocator : public ::testing::Test {
 protected:
  void SetUp() override { empty_host_cache(); }
  void TearDown() override { empty_host_cache(); }
};

}  // namespace

TEST_F(HostAllocator, SmallAndLargeBlocksAreAlignedAndWritable) {
  for (std::size_t bytes : {std::size_t{1}, std::size_t{100}, kCachedMinBytes - 1, kCachedMinBytes,
                            std::size_t{3} * kCachedMinBytes + 17}) {
    void* p = host_alloc(bytes);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(aligned64(p)) << bytes;
    std::memset(p, 0xAB, bytes);  // the whole request is usable
    host_free(p);
  }
  host_free(nullptr);
}

TEST_F(HostAllocator, AFreedLargeBlockIsHandedOutAgainForTheSameOrASlightlySmallerSize) {
  const HostMemoryStats s0 = host_memory_stats();
  const std::size_t bytes = 8 * kCachedMinBytes;
  void* a = host_alloc(bytes);
  EXPECT_EQ(host_memory_stats().in_use_bytes - s0.in_use_bytes, bytes);
  host_free(a);
  EXPECT_EQ(host_memory_stats().cached_bytes, bytes);
  EXPECT_EQ(host_memory_stats().in_use_bytes, s0.in_use_bytes);

  void* b = host_alloc(bytes);
  EXPECT_EQ(b, a);
  host_free(b);
  void* c = host_alloc(bytes - bytes / 10);  // within an eighth: reused
  EXPECT_EQ(c, a);
  const HostMemoryStats s1 = host_memory_stats();
  EXPECT_EQ(s1.reuses - s0.reuses, 2u);
  EXPECT_EQ(s1.os_allocations - s0.os_allocations, 1u);
  EXPECT_EQ(s1.cached_bytes, 0u);
  host_free(c);
}

TEST_F(HostAllocator, HeldMemoryStaysWithinAnEighthOverThePeakInUse) {
  reset_host_peak_memory();
  const HostMemoryStats s0 = host_memory_stats();
  ASSERT_EQ(s0.in_use_bytes, 0u) << "a large block outlived its test";
  const std::size_t mib = kCachedMinBytes;
  host_free(host_alloc(16 * mib));  // peak 16 MiB, all of it cached now
  // Too small to take the 16 MiB block, but 16 + 2 fits in 9/8 of the peak: kept.
  void* small = host_alloc(2 * mib);
  HostMemoryStats s1 = host_memory_stats();
  EXPECT_EQ(s1.cached_bytes, 16 * mib);
  EXPECT_EQ(s1.evictions, s0.evictions);
  // 2 + 16 + 4 does not fit in 9/8 of the new peak (6 MiB in use with this one, 16 before): evicted.
  void* more = host_alloc(4 * mib);
  s1 = host_memory_stats();
  EXPECT_EQ(s1.cached_bytes, 0u);
  EXPECT_EQ(s1.evictions - s0.evictions, 1u);
  EXPECT_EQ(s1.os_allocations - s0.os_allocations, 3u);
  EXPECT_EQ(s1.reuses, s0.reuses);
  host_free(small);
  host_free(more);
}

TEST_F(HostAllocator, PeakAndEmptyCache) {
  reset_host_peak_memory();
  const HostMemoryStats s0 = host_memory_stats();
  void* a = host_alloc(4 * kCachedMinBytes);
  void* b = host_alloc(2 * kCachedMinBytes);
  host_free(a);
  host_free(b);
  const HostMemoryStats s1 = host_memory_stats();
  EXPECT_EQ(s1.peak_in_use_bytes - s0.in_use_bytes, 6 * kCachedMinBytes);
  EXPECT_EQ(s1.cached_bytes, 6 * kCachedMinBytes);
  empty_host_cache();
  EXPECT_EQ(host_memory_stats().cached_bytes, 0u);
}

TEST_F(HostAllocator, TensorsReuseBlocksAcrossSteps) {
  // The pattern of a training step: the same large tensors made and dropped repeatedly.
  const HostMemoryStats s0 = host_memory_stats();
  for (int step = 0; step < 3; ++step) {
    Tensor x = Tensor::zeros({512, 1024});
    Tensor y = Tensor::zeros({256, 1024});
    EXPECT_EQ(x.to_vector<float>()[12345], 0.0f);  // a reused block is initialised like a fresh one
    x.data<float>()[12345] = 7.0f;
  }
  const HostMemoryStats s1 = host_memory_stats();
  EXPECT_EQ(s1.os_allocations - s0.os_allocations, 2u);
  EXPECT_EQ(s1.reuses - s0.reuses, 4u);
}
