#include "engine/cuda/math_mode.h"

#include <atomic>

#include "engine/error.h"

namespace sceald::cuda {

namespace {
std::atomic<MathMode> current_mode{MathMode::Precise};
}

MathMode math_mode() { return current_mode.load(std::memory_order_relaxed); }
void set_math_mode(MathMode mode) { current_mode.store(mode, std::memory_order_relaxed); }

const char* math_mode_name(MathMode mode) { return mode == MathMode::Precise ? "precise" : "fast"; }

MathMode parse_math_mode(const std::string& name) {
  if (name == "precise") return MathMode::Precise;
  if (name == "fast") return MathMode::Fast;
  throw Error("unknown math mode '" + name + "' (expected precise or fast)");
}

}  // namespace sceald::cuda
