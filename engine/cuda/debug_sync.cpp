#include "engine/cuda/debug_sync.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace sceald::cuda {

namespace {
bool from_environment() {
  const char* v = std::getenv("SCEALD_CUDA_SYNC");
  return v != nullptr && std::strcmp(v, "1") == 0;
}
std::atomic<bool>& flag() {
  static std::atomic<bool> on{from_environment()};
  return on;
}
}  // namespace

bool sync_after_each_op() { return flag().load(std::memory_order_relaxed); }
void set_sync_after_each_op(bool on) { flag().store(on, std::memory_order_relaxed); }

}  // namespace sceald::cuda
