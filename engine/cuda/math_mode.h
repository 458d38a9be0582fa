// The two math modes of the CUDA backend, chosen explicitly (never implied):
//
//   Precise: FMA math only, no TF32 anywhere (cuBLAS default math, cuDNN
//            CUDNN_FMA_MATH), deterministic cuDNN algorithms only, and our own
//            deterministic kernels. The GPU tests run in this mode; results
//            agree with the CPU kernels to a few float32 ulps per reduction.
//   Fast:    TF32 tensor cores allowed in cuBLAS and cuDNN for float32 (10-bit
//            mantissa products, float32 accumulation), any cuDNN algorithm.
//            Meant for training; float64 work is unaffected.
//
// The process-wide default is Precise, so nothing is approximated unless a
// caller (the training command, a --math fast flag) asks for it. The mode is
// read when an op runs; a guard switches it for a scope. Plain C++: usable in
// builds without CUDA, where it changes nothing.
#pragma once

#include <string>

namespace sceald::cuda {

enum class MathMode { Precise, Fast };

MathMode math_mode();
void set_math_mode(MathMode mode);
const char* math_mode_name(MathMode mode);  // "precise" or "fast"
// Parses "precise" or "fast"; anything else is an error naming the value.
MathMode parse_math_mode(const std::string& name);

class MathModeGuard {
 public:
  explicit MathModeGuard(MathMode mode) : previous_(math_mode()) { set_math_mode(mode); }
  ~MathModeGuard() { set_math_mode(previous_); }
  MathModeGuard(const MathModeGuard&) = delete;
  MathModeGuard& operator=(const MathModeGuard&) = delete;

 private:
  MathMode previous_;
};

}  // namespace sceald::cuda
