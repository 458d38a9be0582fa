// `sceald info`: what this build and machine offer (CUDA, devices, CPU kernels).
#include <omp.h>

#include <iostream>

#include "apps/command_registry.h"
#include "engine/cuda_runtime.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm.h"

namespace sceald::apps {
namespace {

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("info", "Show the build's backends, the GPUs found and the CPU kernels in use");
  cmd->callback([] {
    std::cout << "CUDA backend compiled: " << (cuda::compiled() ? "yes" : "no") << "\n";
    const int n = cuda::device_count();
    std::cout << "CUDA devices: " << n;
    if (n == 0) std::cout << " (" << cuda::unavailable_reason() << ")";
    std::cout << "\nCPU: " << kernels::cpu::describe_cpu() << "\n";
    std::cout << "SGEMM micro-kernel: " << kernels::cpu::sgemm_isa() << "\n";
    std::cout << "OpenMP threads: " << omp_get_max_threads() << "\n";
  });
}

const CommandRegistration registration("info", setup);

}  // namespace
}  // namespace sceald::apps
