// Host memory for tensors, with a cache of large blocks.
//
// A training step frees and allocates the same large buffers every step
// (activations, their gradients, the optimiser's temporaries). Fresh pages
// from the OS cost a page fault and a zeroing each: 10-14% of a VGG16 step at
// 48x48 batch 64 on 2 cores (perf: clear_page_erms, exc_page_fault). So
// blocks of kCachedMinBytes or more are mapped straight from the OS, kept
// when freed, and handed out again for a request of the same size or up to
// an eighth smaller. Smaller blocks go to malloc, which already recycles them.
//
// Resident memory stays bounded: a request that no cached block fits first
// returns cached blocks to the OS (oldest first) until the bytes held (in use
// + cached + the request) are within an eighth over the most ever in use (or
// over what is in use with the request). A step that repeats the last one's
// sizes then finds every block in the cache.
//
// Thread-safe (one mutex; large blocks are few). SCEALD_HOST_NO_CACHE=1
// (read at first use) returns every block to the OS at once, for memory
// checkers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sceald {

// Blocks this large or larger go through the cache.
inline constexpr std::size_t kCachedMinBytes = std::size_t{1} << 20;

// Host memory aligned to 64 bytes; throws sceald::Error with the size on failure.
void* host_alloc(std::size_t bytes);
// Frees a block from host_alloc (to the cache when it is large). Null is ignored.
void host_free(void* p);

struct HostMemoryStats {
  std::size_t in_use_bytes = 0;       // large blocks handed out
  std::size_t peak_in_use_bytes = 0;  // the most in_use_bytes since start or reset_host_peak_memory()
  std::size_t cached_bytes = 0;       // large blocks kept for reuse
  std::uint64_t os_allocations = 0;   // large blocks mapped from the OS
  std::uint64_t reuses = 0;           // large requests served from the cache
  std::uint64_t evictions = 0;        // cached blocks returned to the OS to make room
};

HostMemoryStats host_memory_stats();
void reset_host_peak_memory();
// Returns every cached block to the OS.
void empty_host_cache();

}  // namespace sceald
