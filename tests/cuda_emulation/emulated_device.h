// The emulated GPU of the emulated-device build (-DSCEALD_CUDA_EMULATION=ON):
// the state behind the stand-in CUDA runtime, cuBLAS and cuDNN of this folder,
// and what the tests of that build may ask of it.
//
// "Device memory" is host memory from cudaMalloc, recorded with its size and
// device, so that every copy, cuBLAS and cuDNN call can check that each range
// it reads or writes lies inside one live device allocation (and host ranges
// outside every one): an operand off by a stride, a workspace shorter than
// asked for, a copy in the wrong direction or a double free is an error here,
// reported on stderr and returned as the call's error status. These checks
// start with the process's first cudaMalloc; the kernel tests of this folder,
// which hand kernels plain host vectors, never make one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cuda_emulation {

// Devices the emulated runtime reports (1 unless SCEALD_EMULATED_GPUS says
// otherwise; 0 makes cudaGetDeviceCount fail with cudaErrorNoDevice).
int emulated_device_count();

// Memory of each emulated device (8 GiB unless SCEALD_EMULATED_GPU_MEMORY,
// in bytes, says otherwise): cudaMalloc fails beyond it.
std::size_t device_memory_total();
// Sets it, e.g. to provoke out-of-memory; returns the previous value.
std::size_t set_device_memory_total(std::size_t bytes);
std::size_t device_memory_in_use(int device);

// The calling thread's current device (cudaSetDevice).
int current_device();

// Whether pointer checks are on (after the first cudaMalloc).
bool pointer_checks_active();

// True when [p, p + bytes) lies inside one live device allocation.
bool is_device_range(const void* p, std::size_t bytes);
// True when no byte of [p, p + bytes) lies inside a live device allocation.
bool is_host_range(const void* p, std::size_t bytes);

// For the stand-in libraries: checks that [p, p + bytes) is device memory;
// when it is not (and checks are active), prints "cuda emulation: <api>:
// <what> ..." to stderr and returns false. Zero bytes always pass.
bool require_device_range(const char* api, const char* what, const void* p, std::size_t bytes);

// Prints "cuda emulation: <api>: <message>" to stderr (why a call failed).
void report(const char* api, const std::string& message);

}  // namespace cuda_emulation

namespace cuda_emulation {

// What a tensor core reads of a float32 operand in TF32 math: 10 mantissa
// bits, rounded to nearest even; infinities and NaNs unchanged.
float round_to_tf32(float v);

}  // namespace cuda_emulation
