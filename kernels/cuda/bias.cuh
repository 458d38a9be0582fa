// Bias kernels of linear and conv2d on the GPU. Device memory, T = float or
// double; work queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace sceald::kernels::cuda {

// y [rows, cols] (overwritten): every row a copy of bias [cols] (the GEMM then accumulates onto it).
template <typename T>
void fill_rows_with_bias(const T* bias, T* y, std::int64_t rows, std::int64_t cols, cudaStream_t stream);
// y [n, channels, inner] += bias[c] (in place).
template <typename T>
void add_channel_bias(T* y, const T* bias, std::int64_t n, std::int64_t channels, std::int64_t inner,
                      cudaStream_t stream);

}  // namespace sceald::kernels::cuda
