#include "engine/storage.h"

#include <cstdlib>
#include <new>

#include "engine/cuda_runtime.h"
#include "engine/error.h"

namespace sceald {

void* host_alloc(std::size_t bytes) {
  constexpr std::size_t kAlign = 64;
  std::size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  if (rounded == 0) rounded = kAlign;
  void* p = std::aligned_alloc(kAlign, rounded);
  if (!p) throw Error(str_cat("out of host memory: could not allocate ", bytes, " bytes"));
  return p;
}

void host_free(void* p) { std::free(p); }

std::shared_ptr<Storage> Storage::allocate(std::size_t bytes, Device device) {
  if (device.is_cpu()) return std::shared_ptr<Storage>(new Storage(host_alloc(bytes), bytes, device, host_free));
  return std::shared_ptr<Storage>(new Storage(cuda::device_alloc(bytes, device.index), bytes, device, cuda::device_free));
}

std::shared_ptr<Storage> Storage::wrap(void* data, std::size_t bytes, Device device, void (*deleter)(void*)) {
  return std::shared_ptr<Storage>(new Storage(data, bytes, device, deleter));
}

Storage::~Storage() {
  if (deleter_ && data_) deleter_(data_);
}

}  // namespace sceald
