#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/launch.cuh"

namespace sceald::kernels::cuda {

namespace {

// Offsets of the views a and b for row-major linear index i over the layout.
__device__ inline void strided_offsets(const StridedLayout& l, std::int64_t i, std::int64_t& oa, std::int64_t& ob) {
  oa = 0;
  ob = 0;
  for (int d = l.dims - 1; d >= 0; --d) {
    const std::int64_t extent = l.shape[d];
    const std::int64_t k = i % extent;
    i /= extent;
    oa += k * l.a[d];
    ob += k * l.b[d];
  }
}

template <typename T>
__device__ inline T apply(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::Add:
      return x + y;
    case BinaryOp::Sub:
      return x - y;
    case BinaryOp::Mul:
      return x * y;
    case BinaryOp::Div:
      return x / y;
  }
  return x;
}

template <typename T>
__global__ void binary_flat_kernel(BinaryOp op, const T* a, const T* b, T* out, std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) out[i] = apply(op, a[i], b[i]);
}

template <typename T>
__global__ void binary_scalar_kernel(BinaryOp op, const T* a, const T* b, T* out, std::int64_t n) {
  const T bv = b[0];
  for (std::int64_t i = global_index(); i < n; i += global_stride()) out[i] = apply(op, a[i], bv);
}

template <typename T>
__global__ void binary_strided_kernel(BinaryOp op, const T* a, const T* b, T* out, StridedLayout layout,
                                      std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) {
    std::int64_t oa, ob;
    strided_offsets(layout, i, oa, ob);
    out[i] = apply(op, a[oa], b[ob]);
  }
}

// Precise library functions (no fast-math intrinsics), one overload per type.
__device__ inline float exp_of(float x) { return expf(x); }
__device__ inline double exp_of(double x) { return exp(x); }
__device__ inline float log_of(float x) { return logf(x); }
__device__ inline double log_of(double x) { return log(x); }
__device__ inline float sqrt_of(float x) { return sqrtf(x); }
__device__ inline double sqrt_of(double x) { return sqrt(x); }
__device__ inline float pow_of(float x, float y) { return powf(x, y); }
__device__ inline double pow_of(double x, double y) { return pow(x, y); }

template <typename T>
__global__ void unary_kernel(UnaryOp op, T value, const T* x, T* out, std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) {
    const T v = x[i];
    T r = v;
    switch (op) {
      case UnaryOp::Neg:
        r = -v;
        break;
      case UnaryOp::Exp:
        r = exp_of(v);
        break;
      case UnaryOp::Log:
        r = log_of(v);
        break;
      case UnaryOp::Sqrt:
        r = sqrt_of(v);
        break;
      case UnaryOp::Pow:
        r = pow_of(v, value);
        break;
      case UnaryOp::Scale:
        r = v * value;
        break;
      case UnaryOp::Shift:
        r = v + value;
        break;
    }
    out[i] = r;
  }
}

template <typename Word>
__global__ void copy_strided_kernel(const Word* src, Word* dst, StridedLayout layout, std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) {
    std::int64_t os, od;
    strided_offsets(layout, i, os, od);
    dst[od] = src[os];
  }
}

bool is_flat(const StridedLayout& l, const std::int64_t* strides) {
  // After merging, a contiguous view over the whole shape is one axis of stride 1.
  return l.dims == 0 || (l.dims == 1 && strides[0] == 1);
}

bool is_scalar(const StridedLayout& l, const std::int64_t* strides) {
  for (int d = 0; d < l.dims; ++d)
    if (strides[d] != 0) return false;
  return true;
}

}  // namespace

template <typename T>
void binary_broadcast(BinaryOp op, const T* a, const T* b, T* out, const StridedLayout& layout, std::int64_t n,
                      cudaStream_t stream) {
  if (n == 0) return;
  const unsigned grid = grid_for(n);
  if (is_flat(layout, layout.a) && is_flat(layout, layout.b))
    binary_flat_kernel<T><<<grid, kThreads, 0, stream>>>(op, a, b, out, n);
  else if (is_flat(layout, layout.a) && is_scalar(layout, layout.b))
    binary_scalar_kernel<T><<<grid, kThreads, 0, stream>>>(op, a, b, out, n);
  else
    binary_strided_kernel<T><<<grid, kThreads, 0, stream>>>(op, a, b, out, layout, n);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void unary_map(UnaryOp op, T value, const T* x, T* out, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  unary_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(op, value, x, out, n);
  SCEALD_CUDA_LAUNCH_CHECK();
}

void copy_strided(const void* src, void* dst, std::size_t element_size, const StridedLayout& layout, std::int64_t n,
                  cudaStream_t stream) {
  if (n == 0) return;
  if (is_flat(layout, layout.a) && is_flat(layout, layout.b)) {
    SCEALD_CUDA_OK(
        cudaMemcpyAsync(dst, src, static_cast<std::size_t>(n) * element_size, cudaMemcpyDeviceToDevice, stream));
    return;
  }
  if (element_size == 4)
    copy_strided_kernel<std::uint32_t><<<grid_for(n), kThreads, 0, stream>>>(
        static_cast<const std::uint32_t*>(src), static_cast<std::uint32_t*>(dst), layout, n);
  else if (element_size == 8)
    copy_strided_kernel<std::uint64_t><<<grid_for(n), kThreads, 0, stream>>>(
        static_cast<const std::uint64_t*>(src), static_cast<std::uint64_t*>(dst), layout, n);
  else
    throw std::runtime_error("copy_strided: element size " + std::to_string(element_size) + " is not 4 or 8 bytes");
  SCEALD_CUDA_LAUNCH_CHECK();
}

template void binary_broadcast<float>(BinaryOp, const float*, const float*, float*, const StridedLayout&, std::int64_t,
                                      cudaStream_t);
template void binary_broadcast<double>(BinaryOp, const double*, const double*, double*, const StridedLayout&,
                                       std::int64_t, cudaStream_t);
template void unary_map<float>(UnaryOp, float, const float*, float*, std::int64_t, cudaStream_t);
template void unary_map<double>(UnaryOp, double, const double*, double*, std::int64_t, cudaStream_t);

}  // namespace sceald::kernels::cuda
