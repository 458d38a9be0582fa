// Cosine similarity and L2 normalisation on the GPU, twins of the loops in
// engine/ops/similarity.cpp (PyTorch's formulas, sums in double). Each op
// reduces along the middle axis of a contiguous [outer, dim, inner] view; one
// thread per line (o, i). Device memory, T = float or double; outputs
// overwritten; work queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace sceald::kernels::cuda {

// out [outer, inner] = sum(a b) / sqrt(max(|a|^2 |b|^2, eps^2)) along dim.
template <typename T>
void cosine_similarity_forward(const T* a, const T* b, T* out, std::int64_t outer, std::int64_t dim, std::int64_t inner,
                               double eps, cudaStream_t stream);
// g [outer, inner]; ga, gb [outer, dim, inner] (either may be null).
template <typename T>
void cosine_similarity_backward(const T* a, const T* b, const T* g, T* ga, T* gb, std::int64_t outer, std::int64_t dim,
                                std::int64_t inner, double eps, cudaStream_t stream);

// y = x / max(|x|, eps) along dim.
template <typename T>
void l2_normalize_forward(const T* x, T* y, std::int64_t outer, std::int64_t dim, std::int64_t inner, double eps,
                          cudaStream_t stream);
// gx = (g - y (g . y)) / |x|, or g / eps where clamped.
template <typename T>
void l2_normalize_backward(const T* x, const T* g, T* gx, std::int64_t outer, std::int64_t dim, std::int64_t inner,
                           double eps, cudaStream_t stream);

}  // namespace sceald::kernels::cuda
