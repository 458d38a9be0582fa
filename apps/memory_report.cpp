#include "apps/memory_report.h"

#include "engine/cuda/caching_allocator.h"
#include "engine/host_allocator.h"
#include "nets/benchmark.h"

namespace sceald::apps {

void print_memory_report(Device device, std::ostream& out) {
  out << "memory: peak resident (host) " << cuda::format_bytes(static_cast<std::size_t>(nets::peak_rss_bytes()))
      << "\n";
  const HostMemoryStats h = host_memory_stats();
  out << "memory: host blocks of 1 MiB+ in use " << cuda::format_bytes(h.in_use_bytes) << ", peak "
      << cuda::format_bytes(h.peak_in_use_bytes) << ", cached " << cuda::format_bytes(h.cached_bytes) << "; "
      << h.os_allocations << " mapped from the OS, " << h.reuses << " reuses, " << h.evictions << " evictions\n";
  if (device.is_cuda()) out << cuda::memory_summary(device.index) << "\n";
}

}  // namespace sceald::apps
