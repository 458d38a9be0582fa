// How the host emulation runs a launch's grid (tests/cuda_emulation). Blocks
// run one after the other, which is one of the orders a GPU may choose, and
// what lets __shared__ arrays be one static array per kernel. A block's
// threads run by one of two schedulers:
//   - fibers (the default where available, fiber_scheduler.h): on the
//     launching thread, one after the other between barriers, alternating
//     direction from block to block, so a read of shared memory that a
//     missing barrier leaves unordered sees the stale value every time; fast
//     enough for whole training runs;
//   - threads: real concurrent threads from a persistent pool, __syncthreads
//     a real barrier (std::barrier); a missing barrier shows up to
//     scheduling luck, and a block's threads really overlap in time.
// SCEALD_EMULATION_SCHEDULER=threads (read at first launch) or a
// SchedulerChoice picks the thread pool.
//
// Grid cap: a launch runs at most grid_cap() blocks and reports that number
// in gridDim, so a grid-stride (or block-stride) loop really takes several
// strides with the small sizes a CPU test can afford. A kernel that assumes
// one thread per element, without such a loop, needs the full grid: see
// GridCap.
#pragma once

#include <cstdint>
#include <limits>

namespace cuda_emulation {

// What a block's threads run: body(context, block, thread) on every thread.
using BlockBody = void (*)(void* context, unsigned block, unsigned thread);

// Runs `blocks` blocks of `threads` threads each and returns when all are
// done. One launch at a time (callers are serialised).
void run_blocks(unsigned blocks, unsigned threads, BlockBody body, void* context);

// Blocks until every thread of the calling thread's block has arrived
// (__syncthreads). Only valid inside run_blocks' body.
void sync_block_threads();

// The most blocks an emulated launch runs (3 unless a GridCap says otherwise).
unsigned grid_cap();
inline constexpr unsigned kFullGrid = std::numeric_limits<unsigned>::max();

// Sets the grid cap for its lifetime, e.g. GridCap full(kFullGrid).
class GridCap {
 public:
  explicit GridCap(unsigned max_blocks);
  ~GridCap();
  GridCap(const GridCap&) = delete;
  GridCap& operator=(const GridCap&) = delete;

 private:
  unsigned previous_;
};

enum class Scheduler { Fibers, Threads };

// The scheduler launches use now.
Scheduler scheduler();

// Sets the scheduler for its lifetime (Fibers where they are not available
// leaves the thread pool).
class SchedulerChoice {
 public:
  explicit SchedulerChoice(Scheduler s);
  ~SchedulerChoice();
  SchedulerChoice(const SchedulerChoice&) = delete;
  SchedulerChoice& operator=(const SchedulerChoice&) = delete;

 private:
  Scheduler previous_;
};

// Kernel launches run so far (failed configurations not counted).
std::uint64_t launches_run();

}  // namespace cuda_emulation
