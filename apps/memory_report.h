// What `--verbose` prints after a command that ran a model: the process's
// peak resident memory, the host block cache's counters (engine/host_allocator.h)
// and, on a GPU, the caching allocator's counters (in
// use, peak, cached, reserved, cudaMalloc calls, reuses, out-of-memory retries).
#pragma once

#include <ostream>

#include "engine/device.h"

namespace sceald::apps {

void print_memory_report(Device device, std::ostream& out);

}  // namespace sceald::apps
