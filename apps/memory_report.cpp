#include "apps/memory_report.h"

#include "engine/cuda/caching_allocator.h"
#include "nets/benchmark.h"

namespace sceald::apps {

void print_memory_report(Device device, std::ostream& out) {
  out << "memory: peak resident (host) " << cuda::format_bytes(static_cast<std::size_t>(nets::peak_rss_bytes()))
      << "\n";
  if (device.is_cuda()) out << cuda::memory_summary(device.index) << "\n";
}

}  // namespace sceald::apps
