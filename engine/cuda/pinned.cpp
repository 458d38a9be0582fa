#include "engine/cuda/pinned.h"

#include "engine/cuda_runtime.h"

#ifdef SCEALD_WITH_CUDA
#include <cuda_runtime_api.h>

#include <mutex>
#include <unordered_map>
#endif

namespace sceald::cuda {

#ifdef SCEALD_WITH_CUDA

namespace {

// Pinning is slow (the driver locks the pages one by one) and cudaFreeHost
// waits for the device, so a freed block is kept for the next request of
// the same size: the loader asks for one size, batch after batch. Reuse is
// safe because host-device copies return only once they are done.
class PinnedCache {
 public:
  static constexpr std::size_t kMaxCachedBytes = std::size_t{1} << 30;

  void* take(std::size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (auto it = free_.find(bytes); it != free_.end()) {
        void* p = it->second;
        free_.erase(it);
        cached_bytes_ -= bytes;
        live_[p] = bytes;
        return p;
      }
    }
    void* p = nullptr;
    if (cudaHostAlloc(&p, bytes, cudaHostAllocPortable) != cudaSuccess) {
      cudaGetLastError();  // leave no stale error for the next launch check to report
      return nullptr;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    live_[p] = bytes;
    return p;
  }

  void give_back(void* p) {  // a deleter: must not throw
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    const std::size_t bytes = it == live_.end() ? 0 : it->second;
    if (it != live_.end()) live_.erase(it);
    if (bytes > 0 && cached_bytes_ + bytes <= kMaxCachedBytes) {
      free_.emplace(bytes, p);
      cached_bytes_ += bytes;
    } else if (cudaFreeHost(p) != cudaSuccess) {
      cudaGetLastError();
    }
  }

 private:
  std::mutex mutex_;
  std::unordered_map<void*, std::size_t> live_;
  std::unordered_multimap<std::size_t, void*> free_;
  std::size_t cached_bytes_ = 0;
};

// Never destroyed: batches may be freed after main returns.
PinnedCache& pinned_cache() {
  static auto* cache = new PinnedCache;
  return *cache;
}

void pinned_free(void* p) { pinned_cache().give_back(p); }

}  // namespace

Tensor pinned_empty(const Shape& shape, DType dtype) {
  const std::size_t bytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  if (device_count() == 0) return Tensor::empty(shape, dtype);
  void* p = pinned_cache().take(bytes == 0 ? 1 : bytes);
  if (!p) return Tensor::empty(shape, dtype);  // pageable memory works too, just slower to copy
  auto storage = Storage::wrap(p, bytes, Device::cpu(), pinned_free);
  return Tensor::from_storage(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

bool is_pinned(const Tensor& t) {
  if (!t.defined() || !t.device().is_cpu() || device_count() == 0) return false;
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, t.raw_data()) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return attributes.type == cudaMemoryTypeHost;
}

#else

Tensor pinned_empty(const Shape& shape, DType dtype) { return Tensor::empty(shape, dtype); }
bool is_pinned(const Tensor&) { return false; }

#endif

}  // namespace sceald::cuda
