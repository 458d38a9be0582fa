// The debugging switch that makes each CUDA op wait for its own kernels.
//
// Kernels run asynchronously, so a fault normally surfaces at some later
// call. With the switch on, every CUDA op synchronises its stream before
// returning and checks for errors, so the message names the op that caused
// the fault. Off by default; on when the environment has SCEALD_CUDA_SYNC=1
// (read at first use), or through set_sync_after_each_op(true). Slow: for
// debugging only. Plain C++, harmless in builds without CUDA.
#pragma once

namespace sceald::cuda {

bool sync_after_each_op();
void set_sync_after_each_op(bool on);

}  // namespace sceald::cuda
