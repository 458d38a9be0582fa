#include "engine/host_allocator.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/error.h"

namespace sceald {
namespace {

constexpr std::size_t kAlign = 64;
constexpr std::size_t kPage = 4096;

bool caching_disabled() {
  static const bool disabled = [] {
    const char* v = std::getenv("SCEALD_HOST_NO_CACHE");
    return v && *v && std::string_view(v) != "0";
  }();
  return disabled;
}

void* map_pages(std::size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

class LargeBlockCache {
 public:
  void* allocate(std::size_t request) {
    const std::size_t bytes = (request + kPage - 1) / kPage * kPage;
    std::vector<std::pair<void*, std::size_t>> to_unmap;
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // Best fit: the smallest cached block that is at least `bytes`, if it
      // wastes no more than an eighth of it.
      auto it = by_size_.lower_bound(bytes);
      if (it != by_size_.end() && it->first <= bytes + bytes / 8) {
        p = it->second.p;
        const std::size_t size = it->first;
        by_age_.erase(it->second.age);
        by_size_.erase(it);
        stats_.cached_bytes -= size;
        ++stats_.reuses;
        note_in_use(p, size);
        return p;
      }
      // A miss maps fresh pages. What the process holds stays within an
      // eighth over the most it has had in use (or over what it needs now):
      // the oldest cached blocks go back to the OS until the new one fits.
      const std::size_t budget =
          std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes + bytes) / 8 * 9;
      while (!by_age_.empty() && stats_.in_use_bytes + stats_.cached_bytes + bytes > budget) {
        auto oldest = by_age_.begin()->second;
        to_unmap.emplace_back(oldest->second.p, oldest->first);
        stats_.cached_bytes -= oldest->first;
        ++stats_.evictions;
        by_age_.erase(by_age_.begin());
        by_size_.erase(oldest);
      }
    }
    for (auto [q, size] : to_unmap) munmap(q, size);
    p = map_pages(bytes);
    if (!p) {
      empty();
      p = map_pages(bytes);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (!p)
      throw Error(str_cat("out of host memory: could not allocate ", request, " bytes (", stats_.in_use_bytes,
                          " bytes of large blocks in use); lower the batch size, or the network's size"));
    ++stats_.os_allocations;
    note_in_use(p, bytes);
    return p;
  }

  // False when `p` is not one of this cache's blocks.
  bool release(void* p) {
    std::size_t size = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = live_.find(p);
      if (it == live_.end()) return false;
      size = it->second;
      live_.erase(it);
      stats_.in_use_bytes -= size;
      if (!caching_disabled()) {
        const std::uint64_t age = next_age_++;
        by_age_.emplace(age, by_size_.emplace(size, Cached{p, age}));
        stats_.cached_bytes += size;
        return true;
      }
    }
    munmap(p, size);
    return true;
  }

  void empty() {
    std::vector<std::pair<void*, std::size_t>> to_unmap;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& [size, entry] : by_size_) to_unmap.emplace_back(entry.p, size);
      by_size_.clear();
      by_age_.clear();
      stats_.cached_bytes = 0;
    }
    for (auto [q, size] : to_unmap) munmap(q, size);
  }

  HostMemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_in_use_bytes = stats_.in_use_bytes;
  }

 private:
  void note_in_use(void* p, std::size_t size) {
    live_.emplace(p, size);
    stats_.in_use_bytes += size;
    stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
  }

  struct Cached {
    void* p;
    std::uint64_t age;
  };
  std::mutex mutex_;
  // Cached blocks by size (for best fit) and by age (for eviction, oldest first).
  std::multimap<std::size_t, Cached> by_size_;
  std::map<std::uint64_t, std::multimap<std::size_t, Cached>::iterator> by_age_;
  std::uint64_t next_age_ = 0;
  std::unordered_map<void*, std::size_t> live_;  // large blocks in use, with their mapped sizes
  HostMemoryStats stats_;
};

LargeBlockCache& cache() {
  static LargeBlockCache* c = new LargeBlockCache;  // never destroyed: tensors may outlive static teardown
  return *c;
}

}  // namespace

void* host_alloc(std::size_t bytes) {
  if (bytes >= kCachedMinBytes) return cache().allocate(bytes);
  std::size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  if (rounded == 0) rounded = kAlign;
  void* p = std::aligned_alloc(kAlign, rounded);
  if (!p) throw Error(str_cat("out of host memory: could not allocate ", bytes, " bytes"));
  return p;
}

void host_free(void* p) {
  if (!p) return;
  if (!cache().release(p)) std::free(p);
}

HostMemoryStats host_memory_stats() { return cache().stats(); }
void reset_host_peak_memory() { cache().reset_peak(); }
void empty_host_cache() { cache().empty(); }

}  // namespace sceald
