// CUDA entry points: activations, dropout, softmax, the fused losses, and
// the similarity ops.
#ifdef SCEALD_WITH_CUDA

#include "engine/cuda/op_support.h"
#include "engine/cuda/ops.h"
#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/similarity.cuh"
#include "kernels/cuda/softmax.cuh"

namespace sceald::cuda_ops {

namespace kc = kernels::cuda;

void relu_forward(const Tensor& x, const Tensor& y) {
  run_op("relu", x.dtype(), {&x, &y}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::relu_forward<T>(ptr<const T>(x), ptr<T>(y), y.numel(), stream);
  });
}

void relu_backward(const Tensor& y, const Tensor& g, const Tensor& gx) {
  run_op("relu backward", y.dtype(), {&y, &g, &gx}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::relu_backward<T>(ptr<const T>(y), ptr<const T>(g), ptr<T>(gx), gx.numel(), stream);
  });
}

void sigmoid_forward(const Tensor& x, const Tensor& y) {
  run_op("sigmoid", x.dtype(), {&x, &y}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::sigmoid_forward<T>(ptr<const T>(x), ptr<T>(y), y.numel(), stream);
  });
}

void sigmoid_backward(const Tensor& y, const Tensor& g, const Tensor& gx) {
  run_op("sigmoid backward", y.dtype(), {&y, &g, &gx}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::sigmoid_backward<T>(ptr<const T>(y), ptr<const T>(g), ptr<T>(gx), gx.numel(), stream);
  });
}

void prelu_forward(const Tensor& x, const Tensor& weight, const Tensor& y, std::int64_t outer, std::int64_t channels,
                   std::int64_t inner) {
  run_op("prelu", x.dtype(), {&x, &weight, &y}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::prelu_forward<T>(ptr<const T>(x), ptr<const T>(weight), ptr<T>(y), outer, channels, inner, stream);
  });
}

void prelu_backward(const Tensor& x, const Tensor& weight, const Tensor& g, const Tensor& gx, const Tensor& gw,
                    std::int64_t outer, std::int64_t channels, std::int64_t inner) {
  OpContext ctx("prelu backward", {&x, &weight, &g, &gx, &gw});
  const std::size_t scratch_bytes = gw.defined() ? kc::prelu_grad_weight_scratch_bytes(outer, channels) : 0;
  Tensor scratch;
  if (scratch_bytes > 0)
    scratch = scratch_doubles(static_cast<std::int64_t>(scratch_bytes / sizeof(double)), ctx.device());
  dispatch_floating(x.dtype(), "prelu backward", [&](auto tag) {
    using T = decltype(tag);
    kc::prelu_backward<T>(ptr<const T>(x), ptr<const T>(weight), ptr<const T>(g), ptr<T>(gx), ptr<T>(gw), outer,
                          channels, inner, ptr<double>(scratch), ctx.stream());
  });
  ctx.finish();
}

void dropout_forward(const Tensor& x, const Tensor& y, const Tensor& mask, std::uint64_t seed, std::uint64_t start,
                     double p) {
  run_op("dropout", x.dtype(), {&x, &y, &mask}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::dropout_forward<T>(ptr<const T>(x), ptr<T>(y), ptr<T>(mask), y.numel(), seed, start, p, stream);
  });
}

void softmax_forward(const Tensor& x, const Tensor& y, std::int64_t outer, std::int64_t axis, std::int64_t inner,
                     bool log_output) {
  run_op(log_output ? "log_softmax" : "softmax", x.dtype(), {&x, &y}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::softmax_forward<T>(ptr<const T>(x), ptr<T>(y), outer, axis, inner, log_output, stream);
  });
}

void softmax_backward(const Tensor& y, const Tensor& g, const Tensor& gx, std::int64_t outer, std::int64_t axis,
                      std::int64_t inner, bool log_output) {
  run_op(log_output ? "log_softmax backward" : "softmax backward", y.dtype(), {&y, &g, &gx},
         [&](auto tag, cudaStream_t stream) {
           using T = decltype(tag);
           kc::softmax_backward<T>(ptr<const T>(y), ptr<const T>(g), ptr<T>(gx), outer, axis, inner, log_output,
                                   stream);
         });
}

void cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& log_probs, const Tensor& loss) {
  run_op("cross_entropy", logits.dtype(), {&logits, &labels, &log_probs, &loss}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::cross_entropy_forward<T>(ptr<const T>(logits), ptr<const std::int64_t>(labels), ptr<T>(log_probs), ptr<T>(loss),
                                 logits.size(0), logits.size(1), stream);
  });
}

void cross_entropy_backward(const Tensor& log_probs, const Tensor& labels, const Tensor& grad_loss, const Tensor& gx) {
  run_op("cross_entropy backward", log_probs.dtype(), {&log_probs, &labels, &grad_loss, &gx},
         [&](auto tag, cudaStream_t stream) {
           using T = decltype(tag);
           kc::cross_entropy_backward<T>(ptr<const T>(log_probs), ptr<const std::int64_t>(labels),
                                         ptr<const T>(grad_loss), ptr<T>(gx), gx.size(0), gx.size(1), stream);
         });
}

void soft_cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& log_probs,
                                const Tensor& loss) {
  run_op("soft_cross_entropy", logits.dtype(), {&logits, &target, &log_probs, &loss},
         [&](auto tag, cudaStream_t stream) {
           using T = decltype(tag);
           kc::soft_cross_entropy_forward<T>(ptr<const T>(logits), ptr<const T>(target), ptr<T>(log_probs),
                                             ptr<T>(loss), logits.size(0), logits.size(1), stream);
         });
}

void soft_cross_entropy_backward(const Tensor& log_probs, const Tensor& target, const Tensor& grad_loss,
                                 const Tensor& gx) {
  run_op("soft_cross_entropy backward", log_probs.dtype(), {&log_probs, &target, &grad_loss, &gx},
         [&](auto tag, cudaStream_t stream) {
           using T = decltype(tag);
           kc::soft_cross_entropy_backward<T>(ptr<const T>(log_probs), ptr<const T>(target), ptr<const T>(grad_loss),
                                              ptr<T>(gx), gx.size(0), gx.size(1), stream);
         });
}

void cosine_similarity_forward(const Tensor& a, const Tensor& b, const Tensor& out, std::int64_t outer,
                               std::int64_t dim, std::int64_t inner, double eps) {
  run_op("cosine_similarity", a.dtype(), {&a, &b, &out}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::cosine_similarity_forward<T>(ptr<const T>(a), ptr<const T>(b), ptr<T>(out), outer, dim, inner, eps, stream);
  });
}

void cosine_similarity_backward(const Tensor& a, const Tensor& b, const Tensor& g, const Tensor& ga, const Tensor& gb,
                                std::int64_t outer, std::int64_t dim, std::int64_t inner, double eps) {
  run_op("cosine_similarity backward", a.dtype(), {&a, &b, &g, &ga, &gb}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::cosine_similarity_backward<T>(ptr<const T>(a), ptr<const T>(b), ptr<const T>(g), ptr<T>(ga), ptr<T>(gb), outer,
                                      dim, inner, eps, stream);
  });
}

void l2_normalize_forward(const Tensor& x, const Tensor& y, std::int64_t outer, std::int64_t dim, std::int64_t inner,
                          double eps) {
  run_op("l2_normalize", x.dtype(), {&x, &y}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::l2_normalize_forward<T>(ptr<const T>(x), ptr<T>(y), outer, dim, inner, eps, stream);
  });
}

void l2_normalize_backward(const Tensor& x, const Tensor& g, const Tensor& gx, std::int64_t outer, std::int64_t dim,
                           std::int64_t inner, double eps) {
  run_op("l2_normalize backward", x.dtype(), {&x, &g, &gx}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::l2_normalize_backward<T>(ptr<const T>(x), ptr<const T>(g), ptr<T>(gx), outer, dim, inner, eps, stream);
  });
}

}  // namespace sceald::cuda_ops

#endif  // SCEALD_WITH_CUDA
