#include "engine/cuda/caching_allocator.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/error.h"

#ifdef SCEALD_WITH_CUDA
#include "engine/cuda/context.h"
#endif

namespace sceald::cuda {

std::size_t allocation_size_class(std::size_t bytes) {
  constexpr std::size_t kMin = 512;
  if (bytes <= kMin) return kMin;
  if (bytes > (std::size_t{1} << 60)) return bytes;  // no device has that much; cudaMalloc will say so
  std::size_t power = kMin;
  while (power * 2 < bytes) power *= 2;  // power < bytes <= 2 power
  const std::size_t quarter = power / 4;
  return power + (bytes - power + quarter - 1) / quarter * quarter;  // power + k quarters, k in 1..4
}

std::string format_bytes(std::size_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%zu B", bytes);
  else
    std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

namespace {
std::atomic<bool> poison_flag{false};
}
void set_poison_allocations(bool on) { poison_flag.store(on); }
bool poison_allocations() { return poison_flag.load(); }

bool caching_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("SCEALD_CUDA_NO_CACHE");
    return !(v != nullptr && std::strcmp(v, "1") == 0);
  }();
  return enabled;
}

std::string memory_summary(int device) {
  const MemoryStats s = memory_stats(device);
  return str_cat("cuda:", device, " memory: in use ", format_bytes(s.in_use_bytes), " (peak ",
                 format_bytes(s.peak_in_use_bytes), "; requested ", format_bytes(s.requested_bytes), ", peak ",
                 format_bytes(s.peak_requested_bytes), "), cached ", format_bytes(s.cached_bytes), ", reserved ",
                 format_bytes(s.reserved_bytes), "; ", s.device_allocations, " cudaMalloc, ", s.reuses, " reuses, ",
                 s.oom_retries, " out-of-memory retries");
}

#ifdef SCEALD_WITH_CUDA

namespace {

struct Block {
  std::size_t size;       // the size class
  std::size_t requested;  // what the caller asked for
  int device;
};

class CachingAllocator {
 public:
  void* allocate(std::size_t bytes, int device, bool throw_on_oom) {
    cudaStream_t stream = stream_for(device);  // also checks the device and makes it current
    // Uncached (debug) blocks are exactly as large as asked, so that a memory
    // checker sees an access past a tensor's end instead of its class's slack.
    const std::size_t size = caching_enabled() ? allocation_size_class(bytes) : std::max<std::size_t>(bytes, 1);
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      DeviceCache& cache = cache_for(device);
      auto it = cache.free_blocks.find(size);
      if (it != cache.free_blocks.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
        cache.stats.cached_bytes -= size;
        ++cache.stats.reuses;
      } else {
        p = device_malloc(size, bytes, device, cache, throw_on_oom);
        if (!p) return nullptr;
      }
      live_[p] = Block{size, bytes, device};
      MemoryStats& s = cache.stats;
      s.in_use_bytes += size;
      s.requested_bytes += bytes;
      if (s.in_use_bytes > s.peak_in_use_bytes) s.peak_in_use_bytes = s.in_use_bytes;
      if (s.requested_bytes > s.peak_requested_bytes) s.peak_requested_bytes = s.requested_bytes;
      s.reserved_bytes = s.in_use_bytes + s.cached_bytes;
    }
    if (poison_allocations()) SCEALD_CUDA_CALL(cudaMemsetAsync(p, 0xFF, size, stream));
    return p;
  }

  void release(void* p) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    if (it == live_.end()) {
      // A deleter must not throw; a pointer we never handed out is a bug worth a loud line.
      std::fprintf(stderr, "sceald: caching_free of a pointer the CUDA allocator does not own (%p); ignored\n", p);
      return;
    }
    const Block b = it->second;
    live_.erase(it);
    DeviceCache& cache = cache_for(b.device);
    cache.stats.in_use_bytes -= b.size;
    cache.stats.requested_bytes -= b.requested;
    if (!caching_enabled()) {
      // Debug mode: wait for the work that may still use the block, then free it.
      // A deleter must not throw; clear any error so that no later launch check reports it as its own.
      int current = 0;
      const bool known = cudaGetDevice(&current) == cudaSuccess;
      const bool freed = cudaSetDevice(b.device) == cudaSuccess && cudaDeviceSynchronize() == cudaSuccess &&
                         cudaFree(p) == cudaSuccess;
      if (known) cudaSetDevice(current);  // the caller's device stays current
      if (!freed)
        std::fprintf(stderr, "sceald: freeing a CUDA block (debug mode, uncached): %s\n",
                     cudaGetErrorString(cudaGetLastError()));
    } else {
      cache.free_blocks[b.size].push_back(p);
      cache.stats.cached_bytes += b.size;
    }
    cache.stats.reserved_bytes = cache.stats.in_use_bytes + cache.stats.cached_bytes;
  }

  MemoryStats stats(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    return cache_for(device).stats;
  }

  void reset_peak(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    MemoryStats& s = cache_for(device).stats;
    s.peak_in_use_bytes = s.in_use_bytes;
    s.peak_requested_bytes = s.requested_bytes;
  }

  void empty(int device) {
    activate(device);
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached(cache_for(device), device);
  }

 private:
  struct DeviceCache {
    std::map<std::size_t, std::vector<void*>> free_blocks;
    MemoryStats stats;
  };

  DeviceCache& cache_for(int device) {
    if (device >= static_cast<int>(caches_.size())) caches_.resize(static_cast<std::size_t>(device) + 1);
    return caches_[static_cast<std::size_t>(device)];
  }

  // Holds mutex_. The device is current.
  void release_cached(DeviceCache& cache, int device) {
    if (cache.stats.cached_bytes == 0) return;
    // Blocks in the cache may still be read by queued kernels: wait for them first.
    SCEALD_CUDA_CALL(cudaDeviceSynchronize());
    for (auto& [size, blocks] : cache.free_blocks)
      for (void* p : blocks) SCEALD_CUDA_CALL(cudaFree(p));
    cache.free_blocks.clear();
    cache.stats.cached_bytes = 0;
    cache.stats.reserved_bytes = cache.stats.in_use_bytes;
    (void)device;
  }

  // Holds mutex_. cudaMalloc, then on out-of-memory: empty the cache, retry once.
  void* device_malloc(std::size_t size, std::size_t requested, int device, DeviceCache& cache, bool throw_on_oom) {
    void* p = nullptr;
    cudaError_t status = cudaMalloc(&p, size);
    bool retried = false;
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear it: out-of-memory is not sticky, but leave no trace for later checks
      if (cache.stats.cached_bytes > 0) {
        retried = true;
        ++cache.stats.oom_retries;
        release_cached(cache, device);
        status = cudaMalloc(&p, size);
        if (status == cudaErrorMemoryAllocation) cudaGetLastError();
      }
    }
    if (status == cudaSuccess) {
      ++cache.stats.device_allocations;
      return p;
    }
    if (status != cudaErrorMemoryAllocation)
      throw Error(str_cat("cudaMalloc of ", format_bytes(size), " on cuda:", device,
                          " failed: ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ")"));
    if (!throw_on_oom) return nullptr;
    std::size_t free_bytes = 0, total_bytes = 0;
    std::string device_line;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess)
      device_line = str_cat("; the device has ", format_bytes(free_bytes), " free of ", format_bytes(total_bytes));
    else
      cudaGetLastError();
    throw Error(str_cat("out of GPU memory on cuda:", device, ": could not allocate ", format_bytes(requested), " (",
                        requested, " bytes, size class ", format_bytes(size), "); tensors in use hold ",
                        format_bytes(cache.stats.in_use_bytes), " (peak ", format_bytes(cache.stats.peak_in_use_bytes),
                        ")", retried ? ", the cache was emptied and the allocation retried" : ", nothing was cached",
                        device_line,
                        ". Lower the batch size (--batch-size) or the image size."));
  }

  std::mutex mutex_;
  std::unordered_map<void*, Block> live_;
  std::vector<DeviceCache> caches_;
};

// Never destroyed: tensors held by other statics may be freed after main returns.
CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}

}  // namespace

void* caching_alloc(std::size_t bytes, int device) { return allocator().allocate(bytes, device, true); }
void* try_caching_alloc(std::size_t bytes, int device) { return allocator().allocate(bytes, device, false); }
void caching_free(void* p) { allocator().release(p); }
MemoryStats memory_stats(int device) { return allocator().stats(device); }
void reset_peak_memory(int device) { allocator().reset_peak(device); }
void empty_cache(int device) { allocator().empty(device); }

#else  // no CUDA backend

namespace {
[[noreturn]] void no_cuda() {
  throw Error("this build of sceald has no CUDA backend (configured with -DSCEALD_CUDA=OFF); use --device cpu");
}
}  // namespace

void* caching_alloc(std::size_t, int) { no_cuda(); }
void* try_caching_alloc(std::size_t, int) { no_cuda(); }
void caching_free(void*) {}
MemoryStats memory_stats(int) { return {}; }
void reset_peak_memory(int) {}
void empty_cache(int) {}

#endif

}  // namespace sceald::cuda
