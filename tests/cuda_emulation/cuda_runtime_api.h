// TEST-ONLY stand-in for the CUDA runtime header <cuda_runtime_api.h>. It is
// first on the include path of the host emulation (tests/cuda_emulation) and
// nowhere else, so the kernels of kernels/cuda/*.cu compile as plain C++, and
// in the emulated-device build (-DSCEALD_CUDA_EMULATION=ON) the engine's CUDA
// host code compiles against it too.
//
// It declares only what the engine uses. "Device memory" is host memory and
// every call completes on the calling thread before it returns (streams are
// accepted and checked, never concurrent). The error state behaves as the
// real one: a failed call or launch records an error that the next
// cudaGetLastError returns and clears. Device memory is recorded
// (emulated_runtime.cpp), so copies and the stand-in cuBLAS and cuDNN can
// check their ranges: see emulated_device.h.
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
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
};

enum cudaMemoryType {
  cudaMemoryTypeUnregistered = 0,
  cudaMemoryTypeHost = 1,
  cudaMemoryTypeDevice = 2,
  cudaMemoryTypeManaged = 3,
};

struct cudaPointerAttributes {
  cudaMemoryType type;
  int device;
  void* devicePointer;
  void* hostPointer;
};

constexpr unsigned cudaStreamDefault = 0x00;
constexpr unsigned cudaStreamNonBlocking = 0x01;
constexpr unsigned cudaHostAllocDefault = 0x00;
constexpr unsigned cudaHostAllocPortable = 0x01;

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
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
  }
  return "cudaErrorUnknown";
}

inline const char* cudaGetErrorString(cudaError e) {
  switch (e) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorNoDevice:
      return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
  }
  return "unknown error";
}

// Defined in emulated_runtime.cpp. Copies and fills check their ranges
// against the recorded device memory (emulated_device.h); a failure returns
// cudaErrorInvalidValue and is recorded as the last error.
cudaError cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t stream = nullptr);
cudaError cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                          cudaStream_t stream = nullptr);

// Devices, memory and streams (the emulated-device build).
cudaError cudaGetDeviceCount(int* count);
cudaError cudaSetDevice(int device);
cudaError cudaGetDevice(int* device);
cudaError cudaDeviceSynchronize();
cudaError cudaMalloc(void** p, std::size_t bytes);
cudaError cudaFree(void* p);
cudaError cudaMemGetInfo(std::size_t* free_bytes, std::size_t* total_bytes);
cudaError cudaHostAlloc(void** p, std::size_t bytes, unsigned flags);
cudaError cudaFreeHost(void* p);
cudaError cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* p);
cudaError cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError cudaStreamSynchronize(cudaStream_t stream);

}  // namespace cuda_emulation

using cudaError_t = cuda_emulation::cudaError;
using enum cuda_emulation::cudaError;
using enum cuda_emulation::cudaMemcpyKind;
using enum cuda_emulation::cudaMemoryType;
using cuda_emulation::cudaDeviceSynchronize;
using cuda_emulation::cudaFree;
using cuda_emulation::cudaFreeHost;
using cuda_emulation::cudaGetDevice;
using cuda_emulation::cudaGetDeviceCount;
using cuda_emulation::cudaGetErrorName;
using cuda_emulation::cudaGetErrorString;
using cuda_emulation::cudaGetLastError;
using cuda_emulation::cudaHostAlloc;
using cuda_emulation::cudaHostAllocDefault;
using cuda_emulation::cudaHostAllocPortable;
using cuda_emulation::cudaMalloc;
using cuda_emulation::cudaMemcpyAsync;
using cuda_emulation::cudaMemGetInfo;
using cuda_emulation::cudaMemsetAsync;
using cuda_emulation::cudaPeekAtLastError;
using cuda_emulation::cudaPointerAttributes;
using cuda_emulation::cudaPointerGetAttributes;
using cuda_emulation::cudaSetDevice;
using cuda_emulation::cudaStreamCreateWithFlags;
using cuda_emulation::cudaStreamDefault;
using cuda_emulation::cudaStreamNonBlocking;
using cuda_emulation::cudaStreamSynchronize;
