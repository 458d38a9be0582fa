// Status checks for cuBLAS and cuDNN calls, with file and line (the CUDA
// runtime's own check is SCEALD_CUDA_OK in check.cuh). Host code only.
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

#include <stdexcept>
#include <string>

namespace sceald::kernels::cuda {

[[noreturn]] inline void fail_cublas(const char* what, cublasStatus_t status, const char* file, int line) {
  throw std::runtime_error(std::string(what) + " failed at " + file + ":" + std::to_string(line) + ": " +
                           cublasGetStatusName(status) + " (" + cublasGetStatusString(status) + ")");
}

[[noreturn]] inline void fail_cudnn(const char* what, cudnnStatus_t status, const char* file, int line) {
  throw std::runtime_error(std::string(what) + " failed at " + file + ":" + std::to_string(line) + ": " +
                           cudnnGetErrorString(status));
}

}  // namespace sceald::kernels::cuda

#define SCEALD_CUBLAS_OK(call)                                                                                      \
  do {                                                                                                              \
    const cublasStatus_t status_ = (call);                                                                          \
    if (status_ != CUBLAS_STATUS_SUCCESS) ::sceald::kernels::cuda::fail_cublas(#call, status_, __FILE__, __LINE__); \
  } while (0)

#define SCEALD_CUDNN_OK(call)                                                                                     \
  do {                                                                                                            \
    const cudnnStatus_t status_ = (call);                                                                         \
    if (status_ != CUDNN_STATUS_SUCCESS) ::sceald::kernels::cuda::fail_cudnn(#call, status_, __FILE__, __LINE__); \
  } while (0)
