// The caching allocator for CUDA device memory.
//
// cudaMalloc and cudaFree are slow and synchronise the device, so freed
// blocks are kept and handed out again. Requests are rounded up to a size
// class (512 bytes at least, then four classes per power of two: 2^k,
// 1.25 2^k, 1.5 2^k, 1.75 2^k, so at most 25% is wasted), and a block is
// reused only for its own class. When cudaMalloc reports out-of-memory, every
// cached block of that device is released and the allocation retried once;
// if it still fails, the error says what was asked, what is in use, what the
// device has left, and to lower the batch size.
//
// Reuse is safe without events because all work on a device runs in one
// stream (engine/cuda/context.h): a block freed by the host is only handed to
// work queued after the work that used it.
//
// Debug switches: SCEALD_CUDA_NO_CACHE=1 (read at first use) allocates blocks
// of exactly the requested size and frees them at once (for compute-sanitizer); set_poison_allocations(true) fills every
// handed-out block with 0xFF bytes, a NaN in float32 and float64, so a kernel
// that leaves an output element unwritten is caught by the comparison tests.
// Plain C++ API: in a build without CUDA the counters are zero and
// allocation throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sceald::cuda {

struct MemoryStats {
  std::size_t in_use_bytes = 0;          // blocks handed out (rounded to their size class)
  std::size_t requested_bytes = 0;       // what the callers of those blocks asked for
  std::size_t peak_in_use_bytes = 0;     // the most in_use_bytes since start or reset_peak_memory()
  std::size_t peak_requested_bytes = 0;  // the most requested_bytes since then (what PyTorch's
                                         // max_memory_allocated counts, near enough)
  std::size_t cached_bytes = 0;          // free blocks kept for reuse
  std::size_t reserved_bytes = 0;        // in use + cached: everything held from cudaMalloc
  std::uint64_t device_allocations = 0;  // cudaMalloc calls
  std::uint64_t reuses = 0;              // requests served from the cache
  std::uint64_t oom_retries = 0;         // times the cache was emptied to retry an allocation
};

// The size class a request of `bytes` is rounded up to.
std::size_t allocation_size_class(std::size_t bytes);

// Device memory of at least `bytes` on `device`; throws sceald::Error on
// out-of-memory (after emptying the cache and retrying), naming the sizes.
void* caching_alloc(std::size_t bytes, int device);
// The same, but returns null instead of throwing on out-of-memory (for
// optional buffers such as convolution workspaces).
void* try_caching_alloc(std::size_t bytes, int device);
// Returns a block to the cache. Null is ignored.
void caching_free(void* p);

MemoryStats memory_stats(int device);
void reset_peak_memory(int device);
// Waits for the device, then returns every cached block to the driver.
void empty_cache(int device);
// One line for --verbose runs: in use, peak, cached, reserved, counts.
std::string memory_summary(int device);
// "1.50 GiB", "512.0 KiB", "17 B".
std::string format_bytes(std::size_t bytes);

// False when SCEALD_CUDA_NO_CACHE=1: every block goes back to the driver at once.
bool caching_enabled();

void set_poison_allocations(bool on);
bool poison_allocations();

}  // namespace sceald::cuda
