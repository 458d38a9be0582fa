// Status checks for every CUDA call and kernel launch, with file and line.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace sceald::kernels::cuda {

[[noreturn]] inline void fail(const char* what, cudaError_t status, const char* file, int line) {
  throw std::runtime_error(std::string(what) + " failed at " + file + ":" + std::to_string(line) + ": " +
                           cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
}

}  // namespace sceald::kernels::cuda

#define SCEALD_CUDA_OK(call)                                                       \
  do {                                                                             \
    cudaError_t status_ = (call);                                                  \
    if (status_ != cudaSuccess) ::sceald::kernels::cuda::fail(#call, status_, __FILE__, __LINE__); \
  } while (0)

// After every kernel launch: a bad configuration shows here, at its launch.
#define SCEALD_CUDA_LAUNCH_CHECK() SCEALD_CUDA_OK(cudaGetLastError())
