// The few CUDA runtime services the engine core needs (device count, memory,
// copies). In a build without CUDA they report no device and throw a clear
// error when asked for device memory.
//
// Device memory comes from the caching allocator (engine/cuda/caching_allocator.h);
// copies run on the device's stream (engine/cuda/context.h). Host<->device
// copies return when the data has arrived; device-to-device copies are queued
// on the stream, ordered with every kernel of the engine.
#pragma once

#include <cstddef>
#include <string>

#include "engine/device.h"

namespace sceald::cuda {

// Whether this build has the CUDA backend compiled in.
bool compiled();
// Number of usable devices; 0 without CUDA, without a driver or without a GPU.
int device_count();
// Why device_count() is 0 (the CUDA error, or "built without CUDA"); empty when a device exists.
std::string unavailable_reason();

// Parses a --device value ("cpu", "cuda", "cuda:N") and checks that it can
// be used here: a CUDA device without a usable GPU, or past the last one, is
// a sceald::Error that says why and suggests --device cpu. Never a crash.
Device select_device(const std::string& name);

void* device_alloc(std::size_t bytes, int device);
void device_free(void* p);
void copy_host_to_device(void* dst, const void* src, std::size_t bytes, int device);
void copy_device_to_host(void* dst, const void* src, std::size_t bytes, int device);
void copy_device_to_device(void* dst, const void* src, std::size_t bytes, int device);

}  // namespace sceald::cuda
