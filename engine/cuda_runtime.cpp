#include "engine/cuda_runtime.h"

#include "engine/cuda/caching_allocator.h"
#include "engine/error.h"

#ifdef SCEALD_WITH_CUDA
#include <cuda_runtime_api.h>

#include "engine/cuda/context.h"
#endif

namespace sceald::cuda {

#ifdef SCEALD_WITH_CUDA

bool compiled() { return true; }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the error so later calls are not confused
    return 0;
  }
  return n;
}

std::string unavailable_reason() {
  int n = 0;
  cudaError_t status = cudaGetDeviceCount(&n);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return str_cat("cudaGetDeviceCount returned error ", static_cast<int>(status), " (", cudaGetErrorName(status), ": ",
                   cudaGetErrorString(status), ")");
  }
  return n == 0 ? "no CUDA device is present" : "";
}

void* device_alloc(std::size_t bytes, int device) { return caching_alloc(bytes, device); }

void device_free(void* p) { caching_free(p); }

// Host memory may be reused by the caller as soon as these return, so both
// directions wait for the copy (pageable or pinned alike).
void copy_host_to_device(void* dst, const void* src, std::size_t bytes, int device) {
  cudaStream_t stream = stream_for(device);
  SCEALD_CUDA_CALL(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
  SCEALD_CUDA_CALL(cudaStreamSynchronize(stream));
}
void copy_device_to_host(void* dst, const void* src, std::size_t bytes, int device) {
  cudaStream_t stream = stream_for(device);
  SCEALD_CUDA_CALL(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream));
  SCEALD_CUDA_CALL(cudaStreamSynchronize(stream));
}
void copy_device_to_device(void* dst, const void* src, std::size_t bytes, int device) {
  SCEALD_CUDA_CALL(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_for(device)));
  finish_op("copy", device);
}

#else

namespace {
[[noreturn]] void no_cuda() {
  throw Error("this build of sceald has no CUDA backend (configured with -DSCEALD_CUDA=OFF); use --device cpu");
}
}  // namespace

bool compiled() { return false; }
int device_count() { return 0; }
std::string unavailable_reason() { return "built without CUDA (-DSCEALD_CUDA=OFF)"; }
void* device_alloc(std::size_t, int) { no_cuda(); }
void device_free(void*) {}
void copy_host_to_device(void*, const void*, std::size_t, int) { no_cuda(); }
void copy_device_to_host(void*, const void*, std::size_t, int) { no_cuda(); }
void copy_device_to_device(void*, const void*, std::size_t, int) { no_cuda(); }

#endif

Device select_device(const std::string& name) {
  const Device device = Device::parse(name);
  if (device.is_cpu()) return device;
  const int n = device_count();
  SCEALD_CHECK(n > 0, "--device ", name, ": no usable GPU here (", unavailable_reason(), "); use --device cpu");
  SCEALD_CHECK(device.index >= 0 && device.index < n, "--device ", name, ": this machine has ", n, " CUDA device",
               n == 1 ? "" : "s", " (cuda:0", n > 1 ? str_cat(" to cuda:", n - 1) : std::string(), ")");
  return device;
}

}  // namespace sceald::cuda
