// The few CUDA runtime services the engine core needs (device count, memory,
// copies). In a build without CUDA they report no device and throw a clear
// error when asked for device memory.
#pragma once

#include <cstddef>
#include <string>

namespace sceald::cuda {

// Whether this build has the CUDA backend compiled in.
bool compiled();
// Number of usable devices; 0 without CUDA, without a driver or without a GPU.
int device_count();
// Why device_count() is 0 (the CUDA error, or "built without CUDA"); empty when a device exists.
std::string unavailable_reason();

void* device_alloc(std::size_t bytes, int device);
void device_free(void* p);
void copy_host_to_device(void* dst, const void* src, std::size_t bytes, int device);
void copy_device_to_host(void* dst, const void* src, std::size_t bytes, int device);
void copy_device_to_device(void* dst, const void* src, std::size_t bytes, int device);

}  // namespace sceald::cuda
