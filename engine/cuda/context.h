// Per-device CUDA state: one stream, one cuBLAS handle and one cuDNN handle
// per device, each created on first use and kept for the life of the process
// (destroying them at exit would race the CUDA runtime's own teardown).
//
// Every piece of GPU work of the engine (kernels, cuBLAS, cuDNN, copies)
// goes to the device's one stream, in program order. The stream is created
// with cudaStreamDefault, so it also stays ordered with work that other code
// puts on the legacy default stream.
//
// Include only in code compiled with SCEALD_WITH_CUDA.
#pragma once

#ifndef SCEALD_WITH_CUDA
#error "engine/cuda/context.h is for builds with the CUDA backend (SCEALD_WITH_CUDA)"
#endif

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "engine/error.h"

namespace sceald::cuda {

// Each makes `device` current on the calling thread, creating what it returns
// on first use. A device that does not exist, or a machine without a usable
// GPU, gives a sceald::Error that says so and suggests --device cpu.
cudaStream_t stream_for(int device);
cublasHandle_t cublas_for(int device);
cudnnHandle_t cudnn_for(int device);

// Makes `device` current (checked), without creating anything.
void activate(int device);

// Called by every CUDA op at its end: with sync_after_each_op() on, waits
// for the stream and turns any pending fault into an error naming `op`.
void finish_op(const char* op, int device);

// Blocks until all work queued on the device's stream is done (checked).
void synchronize(int device);

}  // namespace sceald::cuda

// Status checks with file and line, throwing sceald::Error.
#define SCEALD_CUDA_CALL(call)                                                                                     \
  do {                                                                                                             \
    const cudaError_t status_ = (call);                                                                            \
    if (status_ != cudaSuccess)                                                                                    \
      throw ::sceald::Error(::sceald::str_cat(#call, " failed at ", __FILE__, ":", __LINE__, ": ",                 \
                                              cudaGetErrorName(status_), " (", cudaGetErrorString(status_), ")")); \
  } while (0)

#define SCEALD_CUBLAS_CALL(call)                                                                                  \
  do {                                                                                                            \
    const cublasStatus_t status_ = (call);                                                                        \
    if (status_ != CUBLAS_STATUS_SUCCESS)                                                                         \
      throw ::sceald::Error(::sceald::str_cat(#call, " failed at ", __FILE__, ":", __LINE__, ": ",                \
                                              cublasGetStatusName(status_), " (", cublasGetStatusString(status_), \
                                              ")"));                                                              \
  } while (0)

#define SCEALD_CUDNN_CALL(call)                                                                                  \
  do {                                                                                                           \
    const cudnnStatus_t status_ = (call);                                                                        \
    if (status_ != CUDNN_STATUS_SUCCESS)                                                                         \
      throw ::sceald::Error(                                                                                     \
          ::sceald::str_cat(#call, " failed at ", __FILE__, ":", __LINE__, ": ", cudnnGetErrorString(status_))); \
  } while (0)
