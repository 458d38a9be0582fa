// What only the emulated device can show (built with -DSCEALD_CUDA_EMULATION=ON,
// ctest label `emulated_gpu`): which cuBLAS math and which cuDNN algorithm the
// engine's two math modes really run, the allocator's release-and-retry on
// out-of-memory, a workspace that cannot be had, and that the stand-ins'
// pointer checks are live (so the GPU suite passing here means something).
// The cuDNN expectations follow the stand-in's fixed algorithm menu
// (tests/cuda_emulation/cudnn.h); tests/gpu covers the real libraries.
#include <cublas_v2.h>
#include <cudnn.h>
#include <gtest/gtest.h>

#include <string>

#include "emulated_device.h"
#include "engine/cuda/caching_allocator.h"
#include "engine/cuda/math_mode.h"
#include "engine/cuda/ops.h"
#include "engine/cuda_runtime.h"
#include "engine/error.h"
#include "engine/ops/linalg.h"
#include "engine/rng.h"
#include "engine/tensor.h"

using namespace sceald;

namespace {

Tensor gpu_random(const Shape& shape, std::uint64_t seed, DType dtype = DType::Float32) {
  Generator gen(seed);
  return gen.uniform(shape, -1.0, 1.0, dtype).to(Device::cuda(0));
}

// A 3x3 "same" convolution of a [2, 3, 9, 7] batch into 4 channels.
struct SmallConv {
  kernels::cpu::ConvGeometry g{3, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 9, 7};
  Tensor x, w, y, gx, gw;
  explicit SmallConv(DType t)
      : x(gpu_random({2, 3, 9, 7}, 1, t)),
        w(gpu_random({4, 3, 3, 3}, 2, t)),
        y(Tensor::empty({2, 4, 9, 7}, t, Device::cuda(0))),
        gx(Tensor::empty({2, 3, 9, 7}, t, Device::cuda(0))),
        gw(Tensor::empty({4, 3, 3, 3}, t, Device::cuda(0))) {}
  void forward() { cuda_ops::conv2d_forward(x, w, Tensor(), g, y); }
  void backward_data() { cuda_ops::conv2d_backward_data(y, w, g, gx); }
  void backward_filter() { cuda_ops::conv2d_backward_filter(y, x, g, gw); }
};

}  // namespace

TEST(EmulatedDevice, IsTheDeviceTheTestsRunOn) {
  ASSERT_TRUE(cuda::compiled());
  EXPECT_EQ(cuda::device_count(), cuda_emulation::emulated_device_count());
  EXPECT_TRUE(cuda_emulation::pointer_checks_active() || cuda::device_count() > 0);
}

TEST(EmulatedDevice, MatmulRunsTf32OnlyInFastModeAndOnlyInFloat32) {
  for (cuda::MathMode mode : {cuda::MathMode::Precise, cuda::MathMode::Fast})
    for (DType t : {DType::Float32, DType::Float64}) {
      const cuda::MathModeGuard guard(mode);
      const std::uint64_t before = cuda_emulation::cublas_calls();
      (void)matmul(gpu_random({5, 7}, 3, t), gpu_random({7, 6}, 4, t));
      ASSERT_EQ(cuda_emulation::cublas_calls(), before + 1);
      const cuda_emulation::CublasCall call = cuda_emulation::last_cublas_call();
      const bool fast32 = mode == cuda::MathMode::Fast && t == DType::Float32;
      EXPECT_EQ(call.tf32, fast32) << cuda::math_mode_name(mode) << " " << dtype_name(t);
      // Row-major [5, 7] x [7, 6] is column-major [6, 7] x [7, 5]: the operands swapped.
      EXPECT_EQ(call.m, 6);
      EXPECT_EQ(call.n, 5);
      EXPECT_EQ(call.k, 7);
    }
}

TEST(EmulatedDevice, PreciseConvolutionRunsDeterministicFmaAlgorithms) {
  const cuda::MathModeGuard guard(cuda::MathMode::Precise);
  SmallConv c(DType::Float32);
  // The menu offers FFT first (workspace over the cap), then TF32 ones and
  // the non-deterministic ALGO_0 / ALGO_3: precise mode must pass them all by.
  c.forward();
  cuda_emulation::CudnnCall call = cuda_emulation::last_cudnn_call();
  EXPECT_EQ(call.function, "cudnnConvolutionForward");
  EXPECT_EQ(call.algo, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
  EXPECT_EQ(call.math, CUDNN_FMA_MATH);
  c.backward_data();
  call = cuda_emulation::last_cudnn_call();
  EXPECT_EQ(call.algo, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1);
  EXPECT_EQ(call.math, CUDNN_FMA_MATH);
  c.backward_filter();
  call = cuda_emulation::last_cudnn_call();
  EXPECT_EQ(call.algo, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1);
  EXPECT_EQ(call.math, CUDNN_FMA_MATH);
}

TEST(EmulatedDevice, FastConvolutionTakesTensorOpsInFloat32AndDefaultMathInFloat64) {
  const cuda::MathModeGuard guard(cuda::MathMode::Fast);
  SmallConv c32(DType::Float32);
  c32.forward();
  cuda_emulation::CudnnCall call = cuda_emulation::last_cudnn_call();
  EXPECT_EQ(call.algo, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);  // FFT's workspace is over the cap
  EXPECT_EQ(call.math, CUDNN_TENSOR_OP_MATH);
  EXPECT_GT(call.workspace_bytes, 0u);
  SmallConv c64(DType::Float64);
  c64.forward();
  call = cuda_emulation::last_cudnn_call();
  EXPECT_EQ(call.math, CUDNN_DEFAULT_MATH);
}

TEST(EmulatedDevice, PreciseModeWithoutWorkspaceSaysNoAlgorithmFits) {
  const cuda::MathModeGuard guard(cuda::MathMode::Precise);
  const std::size_t cap = cuda_ops::conv_workspace_cap();
  cuda_ops::set_conv_workspace_cap(0);
  SmallConv c(DType::Float64);  // a dtype no other test used with this cap: a fresh plan
  c.forward();                  // IMPLICIT_GEMM needs none
  EXPECT_EQ(cuda_emulation::last_cudnn_call().algo, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
  // Backward data: the deterministic direct algorithm needs a workspace and
  // the one without is non-deterministic.
  try {
    c.backward_data();
    ADD_FAILURE() << "precise backward-data with a zero workspace cap must fail";
  } catch (const std::exception& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("no deterministic FMA-math algorithm"), std::string::npos) << m;
    EXPECT_NE(m.find("workspace cap of 0 bytes"), std::string::npos) << m;
    // ... and says what it passed over, and why.
    EXPECT_NE(m.find("passed over: 0: not deterministic"), std::string::npos) << m;
    EXPECT_NE(m.find("1: default math needs "), std::string::npos) << m;  // float64 keeps the default math
    EXPECT_NE(m.find(" bytes of workspace"), std::string::npos) << m;
  }
  cuda_ops::set_conv_workspace_cap(cap);
}

TEST(EmulatedDevice, AWorkspaceThatCannotBeHadFallsBackToTheNextAlgorithm) {
  const cuda::MathModeGuard guard(cuda::MathMode::Fast);
  SmallConv c(DType::Float32);
  c.forward();  // plans the problem while memory is plentiful
  ASSERT_EQ(cuda_emulation::last_cudnn_call().algo, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
  cuda::empty_cache(0);
  const std::size_t total = cuda_emulation::set_device_memory_total(cuda_emulation::device_memory_in_use(0));
  c.forward();  // the column-matrix workspace cannot be had: IMPLICIT_GEMM needs none
  cuda_emulation::set_device_memory_total(total);
  const cuda_emulation::CudnnCall call = cuda_emulation::last_cudnn_call();
  EXPECT_EQ(call.algo, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
  EXPECT_EQ(call.workspace_bytes, 0u);
}

TEST(EmulatedDevice, OutOfMemoryEmptiesTheCacheAndRetries) {
  if (!cuda::caching_enabled()) GTEST_SKIP() << "SCEALD_CUDA_NO_CACHE=1: the cache is off, nothing is reused";
  cuda::empty_cache(0);
  const std::size_t block = std::size_t{1} << 20;
  // Room for two blocks beyond what is in use now.
  const std::size_t total =
      cuda_emulation::set_device_memory_total(cuda_emulation::device_memory_in_use(0) + 2 * block);
  void* a = cuda::caching_alloc(block, 0);
  void* b = cuda::caching_alloc(block, 0);
  cuda::caching_free(a);
  cuda::caching_free(b);  // both cached: the device is full
  const cuda::MemoryStats before = cuda::memory_stats(0);
  EXPECT_EQ(before.cached_bytes, 2 * block);
  void* c = cuda::caching_alloc(2 * block, 0);  // fits only once the cache is emptied
  const cuda::MemoryStats after = cuda::memory_stats(0);
  EXPECT_NE(c, nullptr);
  EXPECT_EQ(after.oom_retries, before.oom_retries + 1);
  EXPECT_EQ(after.cached_bytes, 0u);
  // Nothing more fits: the error names the request and the remedy.
  try {
    (void)cuda::caching_alloc(block, 0);
    ADD_FAILURE() << "the device is full";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("1.00 MiB"), std::string::npos) << m;
    EXPECT_NE(m.find("batch size"), std::string::npos) << m;
  }
  cuda::caching_free(c);
  cuda_emulation::set_device_memory_total(total);
}

TEST(EmulatedDevice, PointerChecksRefuseHostMemoryWhereDeviceMemoryBelongs) {
  Tensor t = gpu_random({16}, 5);
  std::vector<float> host(16);
  // A copy in the direction its kind names is fine; the reverse is refused.
  EXPECT_EQ(cudaMemcpyAsync(host.data(), t.raw_data(), 64, cudaMemcpyDeviceToHost, nullptr), cudaSuccess);
  EXPECT_EQ(cudaMemcpyAsync(host.data(), t.raw_data(), 64, cudaMemcpyHostToDevice, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  // A range that runs past the end of its allocation is no device range.
  EXPECT_TRUE(cuda_emulation::is_device_range(t.raw_data(), 64));
  EXPECT_FALSE(cuda_emulation::is_device_range(static_cast<char*>(t.raw_data()) + 4, 1 << 20));
  EXPECT_FALSE(cuda_emulation::is_device_range(host.data(), 64));
  // cuBLAS with a host operand.
  cublasHandle_t h = nullptr;
  ASSERT_EQ(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
  const float one = 1.0f, zero = 0.0f;
  EXPECT_EQ(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 1, &one, host.data(), 4, static_cast<float*>(t.raw_data()),
                        1, &zero, static_cast<float*>(t.raw_data()), 4),
            CUBLAS_STATUS_INVALID_VALUE);
  cublasDestroy(h);
}
