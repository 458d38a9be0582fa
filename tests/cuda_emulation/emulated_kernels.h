// The CUDA kernels' entry points (kernels/cuda/*.cuh) as the host emulation
// builds them: the same declarations, in namespace
// sceald::kernels::cuda_emulated, aliased sceald::emulated.
//
// Why another namespace: a CUDA build's sceald_engine links the real kernels
// (sceald::kernels::cuda), and the emulated ones would collide with them.
// tests/CMakeLists.txt compiles the emulated sources with -Dcuda=cuda_emulated;
// the same macro, scoped to the includes below, declares them here. Include
// this header before anything that could include a kernels/cuda header
// unrenamed (the engine's public headers include none).
#pragma once

// Everything the headers below include that must keep its own names.
#include <cuda_runtime_api.h>  // the emulation's stand-in (tests/cuda_emulation)

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/cpu/pooling.h"
#include "kernels/philox.h"

#ifdef cuda
#error "emulated_kernels.h: the macro `cuda` is already defined"
#endif
#define cuda cuda_emulated
#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/batch_norm.cuh"
#include "kernels/cuda/bias.cuh"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/optim.cuh"
#include "kernels/cuda/pooling.cuh"
#include "kernels/cuda/random.cuh"
#include "kernels/cuda/reduce.cuh"
#include "kernels/cuda/similarity.cuh"
#include "kernels/cuda/softmax.cuh"
#include "kernels/cuda/strided_layout.h"
#include "kernels/cuda/upsample.cuh"
#undef cuda

namespace sceald {
namespace emulated = kernels::cuda_emulated;
}
