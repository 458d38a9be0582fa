// The emulation's fast way to run a block (grid_runner.h): its threads as
// fibers on the launching thread, switched by hand at each __syncthreads, so
// a barrier costs some hundred nanoseconds instead of waking hundreds of OS
// threads. Phases between barriers run the block's threads one after the
// other, from the first up in even blocks and from the last down in odd
// ones: a missing barrier then shows deterministically, whichever way the
// data flows. x86-64 Linux without AddressSanitizer; elsewhere
// fibers_available() is false and the thread pool runs every launch.
#pragma once

#include "grid_runner.h"

namespace cuda_emulation {

bool fibers_available();

// Runs `blocks` blocks of `threads` fibers each on the calling thread.
void run_blocks_on_fibers(unsigned blocks, unsigned threads, BlockBody body, void* context);

// __syncthreads for the running fiber; false when the caller is no fiber.
bool fiber_barrier();

}  // namespace cuda_emulation
