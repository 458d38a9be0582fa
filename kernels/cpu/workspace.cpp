#include "kernels/cpu/workspace.h"

#include <cstdlib>
#include <new>

namespace sceald::kernels::cpu {

namespace {

struct ThreadWorkspace {
  void* buffer[static_cast<int>(WorkspaceSlot::Count)] = {};
  std::size_t capacity[static_cast<int>(WorkspaceSlot::Count)] = {};
  ~ThreadWorkspace() {
    for (void* p : buffer) std::free(p);
  }
};

thread_local ThreadWorkspace workspace;

}  // namespace

void* thread_workspace_bytes(WorkspaceSlot slot, std::size_t bytes) {
  const int s = static_cast<int>(slot);
  if (bytes <= workspace.capacity[s] && workspace.buffer[s]) return workspace.buffer[s];
  std::free(workspace.buffer[s]);
  workspace.buffer[s] = nullptr;
  workspace.capacity[s] = 0;
  const std::size_t rounded = ((bytes ? bytes : 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  workspace.buffer[s] = p;
  workspace.capacity[s] = rounded;
  return p;
}

std::size_t thread_workspace_held_bytes() {
  std::size_t total = 0;
  for (std::size_t c : workspace.capacity) total += c;
  return total;
}

}  // namespace sceald::kernels::cpu
