// The emulation itself (cuda_emulation.h, grid_runner.h): the properties the
// kernel tests rely on, checked with small kernels of their own.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cuda_emulation.h"
#include "fiber_scheduler.h"
#include "kernels/cuda/check.cuh"

namespace {

using cuda_emulation::GridCap;
using cuda_emulation::kFullGrid;
using cuda_emulation::Scheduler;

const char* name(Scheduler s) { return s == Scheduler::Fibers ? "fibers" : "threads"; }

// Every thread waits, without a barrier, until all of its block has arrived:
// this ends only if the block's threads really run at the same time.
__global__ void wait_for_the_whole_block(std::atomic<unsigned>* arrived, bool* all_met) {
  if (threadIdx.x == 0) arrived->store(0);
  __syncthreads();
  arrived->fetch_add(1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (arrived->load() < blockDim.x) {
    if (std::chrono::steady_clock::now() > deadline) {
      *all_met = false;
      break;
    }
    std::this_thread::yield();  // two cores, 256 threads: let the others arrive
  }
  __syncthreads();
}

TEST(CudaEmulation, ThreadsOfABlockRunConcurrentlyOnTheThreadScheduler) {
  const cuda_emulation::SchedulerChoice threads(Scheduler::Threads);
  std::atomic<unsigned> arrived{0};
  bool all_met = true;
  cuda_emulation::launch(wait_for_the_whole_block, 2, 256)(&arrived, &all_met);
  EXPECT_TRUE(all_met);
}

// Each thread reads what its neighbour wrote to shared memory before the barrier.
__global__ void rotate_through_shared_memory(int* out) {
  __shared__ int shared[1024];
  shared[threadIdx.x] = static_cast<int>(blockIdx.x * 10000 + threadIdx.x);
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = shared[(threadIdx.x + 1) % blockDim.x];
}

TEST(CudaEmulation, SyncthreadsIsABarrier) {
  const GridCap full(kFullGrid);
  for (Scheduler s : {Scheduler::Fibers, Scheduler::Threads}) {
    const cuda_emulation::SchedulerChoice choice(s);
    for (unsigned threads : {1u, 96u, 256u, 1024u}) {
      const unsigned blocks = 5;
      std::vector<int> out(blocks * threads, -1);
      cuda_emulation::launch(rotate_through_shared_memory, blocks, threads)(out.data());
      for (unsigned b = 0; b < blocks; ++b)
        for (unsigned t = 0; t < threads; ++t)
          ASSERT_EQ(out[b * threads + t], static_cast<int>(b * 10000 + (t + 1) % threads))
              << name(s) << ": block " << b << " thread " << t << " of " << threads;
    }
  }
}

// The same exchange without the barrier, reading the next thread's value
// (`step` 1) or the previous one's (`step` -1).
__global__ void exchange_without_a_barrier(int* out, int step) {
  __shared__ int shared[1024];
  shared[threadIdx.x] = static_cast<int>(blockIdx.x * 10000 + threadIdx.x);
  const unsigned from = (threadIdx.x + blockDim.x + step) % blockDim.x;
  out[blockIdx.x * blockDim.x + threadIdx.x] = shared[from];
}

TEST(CudaEmulation, FibersShowAMissingBarrierWhicheverWayTheDataFlows) {
  if (!cuda_emulation::fibers_available()) GTEST_SKIP() << "no fibers in this build (AddressSanitizer or not x86-64)";
  const cuda_emulation::SchedulerChoice fibers(Scheduler::Fibers);
  const unsigned blocks = 2, threads = 64;
  for (int step : {1, -1}) {
    std::vector<int> out(blocks * threads, -1);
    cuda_emulation::launch(exchange_without_a_barrier, blocks, threads)(out.data(), step);
    int wrong = 0;
    for (unsigned b = 0; b < blocks; ++b)
      for (unsigned t = 0; t < threads; ++t)
        wrong += out[b * threads + t] != static_cast<int>(b * 10000 + (t + threads + step) % threads);
    EXPECT_GT(wrong, 0) << "step " << step << ": a read before the barrier-less write went unnoticed";
  }
}

__global__ void record_the_grid(unsigned* grid_dims, std::atomic<int>* runs) {
  grid_dims[blockIdx.x * blockDim.x + threadIdx.x] = gridDim.x;
  runs[blockIdx.x * blockDim.x + threadIdx.x].fetch_add(1);
}

// A launch runs min(grid, cap) blocks, each thread of each once, and gridDim
// reports that number: grid-stride loops then cover everything.
TEST(CudaEmulation, TheGridCapShowsInGridDim) {
  const unsigned requested = 10, threads = 64;
  for (unsigned cap : {1u, 3u, kFullGrid}) {
    const GridCap limit(cap);
    const unsigned expected = std::min(requested, cap);
    std::vector<unsigned> grid_dims(requested * threads, 0);
    std::vector<std::atomic<int>> runs(requested * threads);
    cuda_emulation::launch(record_the_grid, requested, threads)(grid_dims.data(), runs.data());
    for (unsigned i = 0; i < requested * threads; ++i) {
      const bool ran = i < expected * threads;
      ASSERT_EQ(runs[i].load(), ran ? 1 : 0) << "cap " << cap << ", thread " << i;
      if (ran) {
        ASSERT_EQ(grid_dims[i], expected) << "cap " << cap;
      }
    }
  }
  EXPECT_EQ(cuda_emulation::grid_cap(), 3u);  // the guards restored the default
}

__global__ void count_runs(std::atomic<int>* runs) { runs->fetch_add(1); }

// A configuration a real launch rejects runs nothing and leaves
// cudaErrorInvalidConfiguration for the next cudaGetLastError, which the
// kernels' SCEALD_CUDA_LAUNCH_CHECK turns into an exception.
TEST(CudaEmulation, InvalidConfigurationsFailAsOnAGpu) {
  struct Config {
    dim3 grid, block;
  };
  for (const Config& c : {Config{0, 256}, Config{1, 0}, Config{1, 1025}, Config{1, dim3(32, 32, 2)},
                          Config{dim3(1, 0), 256}, Config{dim3(1, 1, 65536), 32}}) {
    std::atomic<int> runs{0};
    const std::uint64_t launches = cuda_emulation::launches_run();
    cuda_emulation::launch(count_runs, c.grid, c.block)(&runs);
    EXPECT_EQ(runs.load(), 0);
    EXPECT_EQ(cuda_emulation::launches_run(), launches);
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // reading the error clears it

    cuda_emulation::launch(count_runs, c.grid, c.block)(&runs);
    try {
      SCEALD_CUDA_LAUNCH_CHECK();
      ADD_FAILURE() << "the launch check passed";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("cudaErrorInvalidConfiguration"), std::string::npos) << e.what();
    }
  }
  std::atomic<int> runs{0};
  cuda_emulation::launch(count_runs, 1, 1024)(&runs);  // the largest block is fine
  SCEALD_CUDA_LAUNCH_CHECK();
  EXPECT_EQ(runs.load(), 1024);
}

}  // namespace
