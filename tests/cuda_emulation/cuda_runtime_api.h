// TEST-ONLY stand-in for the CUDA runtime header <cuda_runtime_api.h>. It is
// first on the include path of the host emulation (tests/cuda_emulation) and
// nowhere else, so the kernels of kernels/cuda/*.cu compile as plain C++.
//
// It declares only what those files use. "Device memory" is host memory and
// every call completes on the calling thread before it returns (streams are
// accepted and ignored). The error state behaves as the real one: a failed
// launch records an error that the next cudaGetLastError returns and clears.
//
// Everything lives in namespace cuda_emulation and is brought into the global
// namespace by using-declarations, so none of these symbols can collide with
// the real CUDA runtime's (extern "C") when a CUDA build links both.
#pragma once

#include <cstddef>
#include <cstring>

// The real header's spelling of a stream handle (an opaque pointer).
typedef struct CUstream_st* cudaStream_t;

namespace cuda_emulation {

// The codes the emulation can produce, with the real runtime's values.
enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorInvalidConfiguration = 9,
};

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

// The calling host thread's last error, as in the real runtime.
inline thread_local cudaError last_error = cudaSuccess;

inline cudaError cudaGetLastError() {
  const cudaError e = last_error;
  last_error = cudaSuccess;
  return e;
}

inline cudaError cudaPeekAtLastError() { return last_error; }

inline const char* cudaGetErrorName(cudaError e) {
  switch (e) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
  }
  return "cudaErrorUnknown";
}

inline const char* cudaGetErrorString(cudaError e) {
  switch (e) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
  }
  return "unknown error";
}

inline cudaError cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t = nullptr) {
  if (bytes > 0) std::memset(p, value, bytes);
  return cudaSuccess;
}

inline cudaError cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind,
                                 cudaStream_t = nullptr) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
  return cudaSuccess;
}

}  // namespace cuda_emulation

using cudaError_t = cuda_emulation::cudaError;
using enum cuda_emulation::cudaError;
using enum cuda_emulation::cudaMemcpyKind;
using cuda_emulation::cudaGetErrorName;
using cuda_emulation::cudaGetErrorString;
using cuda_emulation::cudaGetLastError;
using cuda_emulation::cudaMemcpyAsync;
using cuda_emulation::cudaMemsetAsync;
using cuda_emulation::cudaPeekAtLastError;
