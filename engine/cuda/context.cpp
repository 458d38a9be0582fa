#ifdef SCEALD_WITH_CUDA

#include "engine/cuda/context.h"

#include <mutex>

#include "engine/cuda/debug_sync.h"
#include "engine/cuda_runtime.h"

namespace sceald::cuda {

namespace {

constexpr int kMaxDevices = 64;

struct DeviceState {
  std::once_flag stream_once, cublas_once, cudnn_once;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
};

// Never destroyed: handles outlive every static that might still run GPU work at exit.
DeviceState& state(int device) {
  static DeviceState* states = new DeviceState[kMaxDevices];
  return states[device];
}

int usable_devices() {
  static const int count = device_count();
  return count;
}

}  // namespace

void activate(int device) {
  const int count = usable_devices();
  if (count == 0)
    throw Error(str_cat("cuda:", device, " was asked for, but there is no usable GPU here (", unavailable_reason(),
                        "); use --device cpu"));
  SCEALD_CHECK(device >= 0 && device < count && device < kMaxDevices, "cuda:", device,
               " does not exist: this machine has ", count, " CUDA device", count == 1 ? "" : "s", " (cuda:0",
               count > 1 ? str_cat(" to cuda:", count - 1) : std::string(), ")");
  SCEALD_CUDA_CALL(cudaSetDevice(device));
}

cudaStream_t stream_for(int device) {
  activate(device);
  DeviceState& s = state(device);
  std::call_once(s.stream_once, [&] { SCEALD_CUDA_CALL(cudaStreamCreateWithFlags(&s.stream, cudaStreamDefault)); });
  return s.stream;
}

cublasHandle_t cublas_for(int device) {
  cudaStream_t stream = stream_for(device);
  DeviceState& s = state(device);
  std::call_once(s.cublas_once, [&] {
    cublasHandle_t handle = nullptr;
    SCEALD_CUBLAS_CALL(cublasCreate(&handle));
    SCEALD_CUBLAS_CALL(cublasSetStream(handle, stream));
    // Scalars (alpha, beta) come from host memory.
    SCEALD_CUBLAS_CALL(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST));
    s.cublas = handle;
  });
  return s.cublas;
}

cudnnHandle_t cudnn_for(int device) {
  cudaStream_t stream = stream_for(device);
  DeviceState& s = state(device);
  std::call_once(s.cudnn_once, [&] {
    cudnnHandle_t handle = nullptr;
    SCEALD_CUDNN_CALL(cudnnCreate(&handle));
    SCEALD_CUDNN_CALL(cudnnSetStream(handle, stream));
    s.cudnn = handle;
  });
  return s.cudnn;
}

void synchronize(int device) { SCEALD_CUDA_CALL(cudaStreamSynchronize(stream_for(device))); }

void finish_op(const char* op, int device) {
  if (!sync_after_each_op()) return;
  cudaError_t status = cudaStreamSynchronize(stream_for(device));
  if (status == cudaSuccess) status = cudaGetLastError();
  if (status != cudaSuccess)
    throw Error(str_cat("CUDA error in op '", op, "' on cuda:", device,
                        " (caught by the synchronisation after each op, SCEALD_CUDA_SYNC=1): ",
                        cudaGetErrorName(status), " (", cudaGetErrorString(status), ")"));
}

}  // namespace sceald::cuda

#endif  // SCEALD_WITH_CUDA
