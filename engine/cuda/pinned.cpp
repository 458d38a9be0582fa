#include "engine/cuda/pinned.h"

#include "engine/cuda_runtime.h"

#ifdef SCEALD_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace sceald::cuda {

#ifdef SCEALD_WITH_CUDA

namespace {
void pinned_free(void* p) { cudaFreeHost(p); }  // a deleter must not throw; an error here changes nothing
}  // namespace

Tensor pinned_empty(const Shape& shape, DType dtype) {
  const std::size_t bytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  if (device_count() == 0) return Tensor::empty(shape, dtype);
  void* p = nullptr;
  const cudaError_t status = cudaHostAlloc(&p, bytes == 0 ? 1 : bytes, cudaHostAllocPortable);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return Tensor::empty(shape, dtype);  // pageable memory works too, just slower to copy
  }
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
