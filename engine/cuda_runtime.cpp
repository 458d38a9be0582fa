#include "engine/cuda_runtime.h"

#include "engine/error.h"

#ifdef SCEALD_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace sceald::cuda {

#ifdef SCEALD_WITH_CUDA

#define SCEALD_CUDA_CHECK(call)                                                                    \
  do {                                                                                             \
    cudaError_t status_ = (call);                                                                  \
    if (status_ != cudaSuccess)                                                                    \
      throw ::sceald::Error(::sceald::str_cat(#call, " failed at ", __FILE__, ":", __LINE__, ": ", \
                                              cudaGetErrorName(status_), " (", cudaGetErrorString(status_), ")")); \
  } while (0)

bool compiled() { return true; }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls are not confused
    return 0;
  }
  return n;
}

std::string unavailable_reason() {
  int n = 0;
  cudaError_t status = cudaGetDeviceCount(&n);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return str_cat("cudaGetDeviceCount returned error ", static_cast<int>(status), " (", cudaGetErrorName(status),
                   ": ", cudaGetErrorString(status), ")");
  }
  return n == 0 ? "no CUDA device is present" : "";
}

void* device_alloc(std::size_t bytes, int device) {
  SCEALD_CUDA_CHECK(cudaSetDevice(device));
  void* p = nullptr;
  cudaError_t status = cudaMalloc(&p, bytes == 0 ? 1 : bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw Error(str_cat("out of GPU memory on cuda:", device, ": could not allocate ", bytes, " bytes (",
                        cudaGetErrorString(status), "); lower the batch size"));
  }
  return p;
}

void device_free(void* p) { cudaFree(p); }

void copy_host_to_device(void* dst, const void* src, std::size_t bytes, int device) {
  SCEALD_CUDA_CHECK(cudaSetDevice(device));
  SCEALD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
void copy_device_to_host(void* dst, const void* src, std::size_t bytes, int device) {
  SCEALD_CUDA_CHECK(cudaSetDevice(device));
  SCEALD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}
void copy_device_to_device(void* dst, const void* src, std::size_t bytes, int device) {
  SCEALD_CUDA_CHECK(cudaSetDevice(device));
  SCEALD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
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

}  // namespace sceald::cuda
