#include "engine/storage.h"

#include "engine/cuda_runtime.h"
#include "engine/error.h"
#include "engine/host_allocator.h"

namespace sceald {

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
