// What this CPU offers the kernels: vector ISA and cache sizes, read once.
#pragma once

#include <cstddef>
#include <string>

namespace sceald::kernels::cpu {

struct CpuFeatures {
  bool avx2_fma = false;
  bool avx512f = false;
  std::size_t l1d_bytes = 32 * 1024;
  std::size_t l2_bytes = 1024 * 1024;
  std::size_t l3_bytes = 8 * 1024 * 1024;
};

// The most OpenMP threads the command line accepts (--threads,
// OMP_NUM_THREADS): libgomp crashes when asked for tens of thousands.
inline constexpr int kMaxCpuThreads = 1024;

const CpuFeatures& cpu_features();
// "avx512 avx2 L1d 32 KiB L2 1024 KiB L3 32768 KiB", for logs and benchmarks.
std::string describe_cpu();

}  // namespace sceald::kernels::cpu
