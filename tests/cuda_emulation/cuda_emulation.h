// Host emulation of the CUDA execution model: just enough of it to compile
// the kernels of kernels/cuda/*.cu as C++ and run them on the CPU, where the
// tests of this folder compare them with their CPU twins. At configure time
// cmake/CudaEmulation.cmake rewrites every `kernel<<<grid, block, shared, stream>>>(args)`
// into `::cuda_emulation::launch(kernel, grid, block, shared, stream)(args)`
// and compiles the result with this header first; the kernel code itself is
// the real source, unchanged.
//
// What a passing emulation test proves about a kernel:
//   - its index arithmetic: every output element is written (outputs start
//     as NaN) from the right inputs, for odd sizes, padding, dilation,
//     broadcasting and sizes that are no multiple of the block size;
//   - its loops: a launch runs at most a few blocks and gridDim says so
//     (grid_runner.h), so grid-stride and block-stride loops really stride;
//   - its barriers: by default a block's threads run as fibers, one after the
//     other between barriers, upwards in even blocks and downwards in odd
//     ones, so a read of shared memory that a missing barrier leaves
//     unordered sees the stale value every time, whichever thread wrote it
//     (fiber_scheduler.h); the thread-pool scheduler (grid_runner.h) runs
//     them concurrently on real threads instead;
//   - its arithmetic: the formulas, the order of its tree sums, the Philox
//     counters, the optimisers' per-step constants, against the CPU's;
//   - its launch configuration: a grid or block that a real launch rejects
//     (0 blocks or threads, more than 1024 threads) fails here too, at the
//     kernel's SCEALD_CUDA_LAUNCH_CHECK.
// What it does not prove:
//   - warp semantics: there are no warps, no lock-step execution, no
//     shuffles or votes (the kernels use none);
//   - the GPU memory model: host threads see coherent memory, blocks never
//     run concurrently with each other, and a race the GPU would expose can
//     pass here;
//   - floating point as nvcc compiles it: no FMA contraction (this code is
//     compiled with -ffp-contract=off) and the host's libm instead of CUDA's
//     math library, so the GPU's last bits may differ from the emulation's;
//     hence the tests keep the GPU tests' tolerances (tests/gpu/gpu_tolerance.h);
//   - anything about streams (every call completes before it returns), host
//     and device memory being apart, resource limits or performance.
// It is no substitute for tests/gpu, which runs the same kernels on real
// hardware; it keeps their logic checked on every CPU-only CI run.
#pragma once

// Device branches (#if defined(__CUDA_ARCH__)) are what the GPU runs, so the
// emulation compiles those (e.g. nearest_source in index_math.h). Host-only
// code in the .cu files must therefore not test __CUDA_ARCH__ (none does).
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 900
#endif

// CUDA declares its math functions in the global namespace, float overloads
// included; the C++ <math.h> does the same for the host's.
#include <math.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>

#include "cuda_runtime_api.h"
#include "grid_runner.h"

// Qualifiers: everything is host code here.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// One array per kernel, shared by all threads: blocks run one at a time.
#define __shared__ static

// The built-in types, variables and device functions live in this namespace
// and are brought into the global one, where CUDA has them: a CUDA build
// links these objects next to nvcc's, whose host side has its own ::dim3.
namespace cuda_emulation {

struct uint3 {
  unsigned x, y, z;
};

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};

// Per thread, set by the launcher before the kernel runs; per launch.
inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline dim3 blockDim;
inline dim3 gridDim;

inline void __syncthreads() { sync_block_threads(); }

// Arithmetic with an explicit rounding: each is one IEEE operation, rounded
// to nearest, never fused with a neighbour (nor is anything else here).
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }

}  // namespace cuda_emulation

using cuda_emulation::__dadd_rn;
using cuda_emulation::__dmul_rn;
using cuda_emulation::__fdiv_rn;
using cuda_emulation::__fmul_rn;
using cuda_emulation::__syncthreads;
using cuda_emulation::blockDim;
using cuda_emulation::blockIdx;
using cuda_emulation::dim3;
using cuda_emulation::gridDim;
using cuda_emulation::threadIdx;
using cuda_emulation::uint3;

// CUDA's integer and floating min and max of device code.
using std::max;
using std::min;

namespace cuda_emulation {

// The limits every GPU since compute capability 3.0 enforces at launch.
constexpr bool valid_configuration(dim3 grid, dim3 block) {
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  const bool grid_ok =
      grid.x >= 1 && grid.y >= 1 && grid.z >= 1 && grid.x <= 2147483647u && grid.y <= 65535u && grid.z <= 65535u;
  const bool block_ok = block.x >= 1 && block.y >= 1 && block.z >= 1 && block.x <= 1024u && block.y <= 1024u &&
                        block.z <= 64u && threads <= 1024u;
  return grid_ok && block_ok;
}

inline std::mutex& launch_mutex() {
  static std::mutex m;
  return m;
}

// One `kernel<<<grid, block, shared_bytes, stream>>>`, waiting for its arguments.
template <typename... Params>
class KernelLaunch {
 public:
  KernelLaunch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes)
      : kernel_(kernel), grid_(grid), block_(block), shared_bytes_(shared_bytes) {}

  // The arguments convert to the parameter types as at a real launch; every
  // thread then gets its own copy, as the kernel's parameters.
  void operator()(Params... args) const {
    if (!valid_configuration(grid_, block_)) {
      last_error = cudaErrorInvalidConfiguration;  // reported by the next cudaGetLastError
      return;
    }
    if (grid_.y != 1 || grid_.z != 1 || block_.y != 1 || block_.z != 1 || shared_bytes_ != 0)
      throw std::logic_error("cuda emulation: only 1-D launches without dynamic shared memory are emulated");
    // One launch at a time in the process: gridDim, blockDim and the
    // __shared__ arrays are per kernel, not per launch.
    const std::lock_guard<std::mutex> lock(launch_mutex());
    gridDim = dim3(std::min(grid_.x, grid_cap()));
    blockDim = block_;
    auto thread_body = [&](unsigned block, unsigned thread) {
      blockIdx = uint3{block, 0, 0};
      threadIdx = uint3{thread, 0, 0};
      kernel_(args...);
    };
    using Body = decltype(thread_body);
    run_blocks(
        gridDim.x, blockDim.x,
        [](void* body, unsigned block, unsigned thread) { (*static_cast<Body*>(body))(block, thread); }, &thread_body);
  }

 private:
  void (*kernel_)(Params...);
  dim3 grid_, block_;
  std::size_t shared_bytes_;
};

// What `kernel<<<grid, block, shared_bytes, stream>>>` is rewritten into.
// The stream is ignored: the kernel has finished when the launch returns.
template <typename... Params>
KernelLaunch<Params...> launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes = 0,
                               cudaStream_t = nullptr) {
  return KernelLaunch<Params...>(kernel, grid, block, shared_bytes);
}

}  // namespace cuda_emulation
