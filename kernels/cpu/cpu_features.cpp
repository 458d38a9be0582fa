#include "kernels/cpu/cpu_features.h"

#include <unistd.h>

namespace sceald::kernels::cpu {

namespace {
std::size_t cache_size(int name, std::size_t fallback) {
  const long v = sysconf(name);
  return v > 0 ? static_cast<std::size_t>(v) : fallback;
}

CpuFeatures detect() {
  CpuFeatures f;
  __builtin_cpu_init();
  f.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f") && f.avx2_fma;
  f.l1d_bytes = cache_size(_SC_LEVEL1_DCACHE_SIZE, f.l1d_bytes);
  f.l2_bytes = cache_size(_SC_LEVEL2_CACHE_SIZE, f.l2_bytes);
  f.l3_bytes = cache_size(_SC_LEVEL3_CACHE_SIZE, f.l3_bytes);
  return f;
}
}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

std::string describe_cpu() {
  const CpuFeatures& f = cpu_features();
  std::string s = f.avx512f ? "avx512 " : "";
  if (f.avx2_fma) s += "avx2 ";
  s += "L1d " + std::to_string(f.l1d_bytes / 1024) + " KiB L2 " + std::to_string(f.l2_bytes / 1024) + " KiB L3 " +
       std::to_string(f.l3_bytes / 1024) + " KiB";
  return s;
}

}  // namespace sceald::kernels::cpu
