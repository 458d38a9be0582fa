// Per-thread scratch memory that outlives the call: the GEMM's packed panels
// and the convolutions' column matrices and staging buffers are the same
// sizes on every training step, so after the first step no allocation (and
// no page fault on fresh pages) happens inside them.
#pragma once

#include <cstddef>

namespace sceald::kernels::cpu {

// Scratch slots a caller may hold at once; each thread has its own set.
enum class WorkspaceSlot { GemmPackA, GemmPackB, ConvColumns, ConvStaging, ConvWeightPartial,
                           ConvWeightFlipped, ConvWeightTapMajor, Count };

// At least `count` elements of T, 64-byte aligned, contents unspecified, for
// this thread's slot. Valid until this thread asks for the same slot again;
// grows (never shrinks) to the largest request seen.
void* thread_workspace_bytes(WorkspaceSlot slot, std::size_t bytes);

template <typename T>
T* thread_workspace(WorkspaceSlot slot, std::size_t count) {
  return static_cast<T*>(thread_workspace_bytes(slot, count * sizeof(T)));
}

// Bytes this thread's slots hold now (for tests and memory reports).
std::size_t thread_workspace_held_bytes();

}  // namespace sceald::kernels::cpu
