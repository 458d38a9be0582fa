#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/plane_sums.cuh"
#include "kernels/cuda/reduce.cuh"

namespace sceald::kernels::cuda {

namespace {

// A reduction is split into `chunks` partial sums when the plain kernel would
// leave most of the GPU idle (few long lines).
std::int64_t split_chunks(std::int64_t outer, std::int64_t reduce, std::int64_t inner) {
  if (inner == 1) {
    // One block per line: split when there are few lines and they are long.
    if (outer >= 512 || reduce < 32768) return 1;
    return std::clamp<std::int64_t>(std::min<std::int64_t>(512 / outer, reduce / 16384), 1, 1024);
  }
  // One thread per (outer, inner) column: split when there are few columns.
  const std::int64_t columns = outer * inner;
  if (columns >= 65536 || reduce < 256) return 1;
  return std::clamp<std::int64_t>(std::min<std::int64_t>(65536 / columns, reduce / 64), 1, 1024);
}

// Line (o, chunk) of an inner == 1 reduction: one block sums x[o, begin:end).
// Writes the double sum to partial[o * chunks + chunk], or, with one chunk,
// the value to out[o].
template <typename T>
__global__ void sum_rows_kernel(const T* x, T* out, double* partial, std::int64_t outer, std::int64_t reduce,
                                std::int64_t chunks) {
  __shared__ double shared[kThreads];
  const std::int64_t len = (reduce + chunks - 1) / chunks;
  for (std::int64_t item = blockIdx.x; item < outer * chunks; item += gridDim.x) {
    const std::int64_t o = item / chunks, c = item % chunks;
    const std::int64_t begin = c * len, end = std::min(reduce, begin + len);
    double acc = 0.0;
    for (std::int64_t r = begin + threadIdx.x; r < end; r += kThreads) acc += static_cast<double>(x[o * reduce + r]);
    const double total = block_sum(acc, shared);
    if (threadIdx.x == 0) {
      if (chunks == 1)
        out[o] = static_cast<T>(total);
      else
        partial[item] = total;
    }
  }
}

// inner > 1: one thread per (o, chunk, i), looping over its chunk of r.
template <typename T>
__global__ void sum_columns_kernel(const T* x, T* out, double* partial, std::int64_t outer, std::int64_t reduce,
                                   std::int64_t inner, std::int64_t chunks) {
  const std::int64_t len = (reduce + chunks - 1) / chunks;
  const std::int64_t total = outer * chunks * inner;
  for (std::int64_t item = global_index(); item < total; item += global_stride()) {
    const std::int64_t i = item % inner, oc = item / inner;
    const std::int64_t o = oc / chunks, c = oc % chunks;
    const std::int64_t begin = c * len, end = std::min(reduce, begin + len);
    double acc = 0.0;
    const T* base = x + o * reduce * inner + i;
    for (std::int64_t r = begin; r < end; ++r) acc += static_cast<double>(base[r * inner]);
    if (chunks == 1)
      out[o * inner + i] = static_cast<T>(acc);
    else
      partial[item] = acc;
  }
}

// Second pass: out[o, i] = sum over chunks of partial[o, chunk, i], in chunk order.
template <typename T>
__global__ void sum_partials_kernel(const double* partial, T* out, std::int64_t outer, std::int64_t chunks,
                                    std::int64_t inner) {
  for (std::int64_t item = global_index(); item < outer * inner; item += global_stride()) {
    const std::int64_t o = item / inner, i = item % inner;
    double acc = 0.0;
    for (std::int64_t c = 0; c < chunks; ++c) acc += partial[(o * chunks + c) * inner + i];
    out[item] = static_cast<T>(acc);
  }
}

// The value of element j, for plane_sums_kernel.
template <typename T>
struct Value {
  const T* x;
  __device__ double operator()(std::int64_t j) const { return static_cast<double>(x[j]); }
};

}  // namespace

std::size_t sum_middle_axis_scratch_bytes(std::int64_t outer, std::int64_t reduce, std::int64_t inner) {
  const std::int64_t chunks = split_chunks(outer, reduce, inner);
  return chunks == 1 ? 0 : static_cast<std::size_t>(outer * chunks * inner) * sizeof(double);
}

template <typename T>
void sum_middle_axis(const T* x, T* out, std::int64_t outer, std::int64_t reduce, std::int64_t inner, double* scratch,
                     cudaStream_t stream) {
  if (outer * inner == 0) return;
  if (reduce == 0) {
    SCEALD_CUDA_OK(cudaMemsetAsync(out, 0, static_cast<std::size_t>(outer * inner) * sizeof(T), stream));
    return;
  }
  const std::int64_t chunks = split_chunks(outer, reduce, inner);
  if (chunks > 1 && scratch == nullptr)
    throw std::runtime_error("sum_middle_axis: this shape needs a scratch buffer (sum_middle_axis_scratch_bytes)");
  if (inner == 1)
    sum_rows_kernel<T><<<grid_for(outer * chunks, 1), kThreads, 0, stream>>>(x, out, scratch, outer, reduce, chunks);
  else
    sum_columns_kernel<T>
        <<<grid_for(outer * chunks * inner), kThreads, 0, stream>>>(x, out, scratch, outer, reduce, inner, chunks);
  SCEALD_CUDA_LAUNCH_CHECK();
  if (chunks > 1) {
    sum_partials_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream>>>(scratch, out, outer, chunks, inner);
    SCEALD_CUDA_LAUNCH_CHECK();
  }
}

std::size_t sum_per_channel_scratch_bytes(std::int64_t n, std::int64_t channels, std::int64_t) {
  return plane_sums_scratch_bytes(n, channels);
}

template <typename T>
void sum_per_channel(const T* x, T* out, std::int64_t n, std::int64_t channels, std::int64_t inner, double* scratch,
                     cudaStream_t stream) {
  if (channels == 0) return;
  if (n == 0 || inner == 0) {
    SCEALD_CUDA_OK(cudaMemsetAsync(out, 0, static_cast<std::size_t>(channels) * sizeof(T), stream));
    return;
  }
  if (n > 1 && scratch == nullptr)
    throw std::runtime_error(
        "sum_per_channel: more than one image needs a scratch buffer (sum_per_channel_scratch_bytes)");
  plane_sums_kernel<T, Value<T>><<<grid_for(n * channels, 1), kThreads, 0, stream>>>(Value<T>{x}, out, scratch, n,
                                                                                      channels, inner);
  SCEALD_CUDA_LAUNCH_CHECK();
  if (n > 1) {
    channel_partials_kernel<T><<<grid_for(channels), kThreads, 0, stream>>>(scratch, out, n, channels);
    SCEALD_CUDA_LAUNCH_CHECK();
  }
}

template void sum_middle_axis<float>(const float*, float*, std::int64_t, std::int64_t, std::int64_t, double*,
                                     cudaStream_t);
template void sum_middle_axis<double>(const double*, double*, std::int64_t, std::int64_t, std::int64_t, double*,
                                      cudaStream_t);
template void sum_per_channel<float>(const float*, float*, std::int64_t, std::int64_t, std::int64_t, double*,
                                     cudaStream_t);
template void sum_per_channel<double>(const double*, double*, std::int64_t, std::int64_t, std::int64_t, double*,
                                      cudaStream_t);

}  // namespace sceald::kernels::cuda
