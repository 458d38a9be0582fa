// The stand-in CUDA runtime's state (cuda_runtime_api.h, emulated_device.h):
// device memory recorded by address, pinned host blocks, streams and the
// current device. TEST-ONLY.
#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cuda_runtime_api.h"
#include "emulated_device.h"

// A stream handle is the address of one of these; nothing is ever queued.
struct CUstream_st {
  int device;
};

namespace cuda_emulation {

namespace {

struct Block {
  std::size_t bytes;
  int device;  // -1: pinned host memory
};

// 256-byte alignment, as cudaMalloc guarantees and vector loads assume.
constexpr std::size_t kAlignment = 256;

std::size_t env_size(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const unsigned long long parsed = std::strtoull(v, &end, 10);
  if (*end != '\0') {
    std::fprintf(stderr, "cuda emulation: %s=%s is not a whole number; using %zu\n", name, v, fallback);
    return fallback;
  }
  return static_cast<std::size_t>(parsed);
}

struct State {
  std::mutex mutex;
  std::map<std::uintptr_t, Block> blocks;  // device and pinned blocks by start address
  std::vector<std::size_t> in_use;         // per device
  std::set<const CUstream_st*> streams;
  std::size_t total = env_size("SCEALD_EMULATED_GPU_MEMORY", std::size_t{8} << 30);
  int devices = static_cast<int>(env_size("SCEALD_EMULATED_GPUS", 1));
  bool checks = false;

  State() { in_use.assign(static_cast<std::size_t>(std::max(devices, 0)), 0); }

  // The block containing [p, p + bytes), or blocks.end().
  std::map<std::uintptr_t, Block>::const_iterator containing(const void* p, std::size_t bytes) const {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    auto it = blocks.upper_bound(a);
    if (it == blocks.begin()) return blocks.end();
    --it;
    if (a + bytes > it->first + it->second.bytes || a + bytes < a) return blocks.end();
    return it;
  }

  // Whether any device block overlaps [p, p + bytes).
  bool overlaps_device(const void* p, std::size_t bytes) const {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    auto it = blocks.upper_bound(a + bytes - 1);  // first block starting after the range
    while (it != blocks.begin()) {
      --it;
      if (it->first + it->second.bytes <= a) break;  // blocks do not overlap each other
      if (it->second.device >= 0) return true;
    }
    return false;
  }
};

State& state() {
  static State* s = new State;  // never destroyed: engine statics may free memory at exit
  return *s;
}

thread_local int current = 0;

cudaError fail(cudaError e, const char* api, const std::string& why) {
  report(api, why);
  last_error = e;
  return e;
}

std::string describe(const void* p, std::size_t bytes) {
  char text[96];
  std::snprintf(text, sizeof text, "[%p, +%zu bytes)", p, bytes);
  return text;
}

bool device_range_locked(const State& s, const void* p, std::size_t bytes) {
  auto it = s.containing(p, bytes);
  return it != s.blocks.end() && it->second.device >= 0;
}

}  // namespace

int emulated_device_count() { return state().devices; }

std::size_t device_memory_total() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.total;
}

std::size_t set_device_memory_total(std::size_t bytes) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return std::exchange(s.total, bytes);
}

std::size_t device_memory_in_use(int device) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return device >= 0 && device < s.devices ? s.in_use[static_cast<std::size_t>(device)] : 0;
}

int current_device() { return current; }

bool pointer_checks_active() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.checks;
}

bool is_device_range(const void* p, std::size_t bytes) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return device_range_locked(s, p, bytes);
}

bool is_host_range(const void* p, std::size_t bytes) {
  if (bytes == 0) return true;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return !s.overlaps_device(p, bytes);
}

void report(const char* api, const std::string& message) {
  std::fprintf(stderr, "cuda emulation: %s: %s\n", api, message.c_str());
}

bool require_device_range(const char* api, const char* what, const void* p, std::size_t bytes) {
  if (bytes == 0 || !pointer_checks_active() || is_device_range(p, bytes)) return true;
  report(api, std::string(what) + " " + describe(p, bytes) + " is not inside one device allocation");
  return false;
}

cudaError cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t) {
  if (bytes == 0) return cudaSuccess;
  if (!require_device_range("cudaMemsetAsync", "destination", p, bytes)) return last_error = cudaErrorInvalidValue;
  std::memset(p, value, bytes);
  return cudaSuccess;
}

cudaError cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  if (bytes == 0) return cudaSuccess;
  if (pointer_checks_active()) {
    const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (kind != cudaMemcpyDefault) {
      const bool dst_ok = dst_device ? is_device_range(dst, bytes) : is_host_range(dst, bytes);
      const bool src_ok = src_device ? is_device_range(src, bytes) : is_host_range(src, bytes);
      if (!dst_ok || !src_ok)
        return fail(cudaErrorInvalidValue, "cudaMemcpyAsync",
                    std::string(!dst_ok ? "destination " + describe(dst, bytes) : "source " + describe(src, bytes)) +
                        " is not " + ((!dst_ok ? dst_device : src_device) ? "inside one device allocation" : "host memory") +
                        " (kind " + std::to_string(static_cast<int>(kind)) + ")");
    }
  }
  std::memmove(dst, src, bytes);  // overlapping device ranges are the caller's bug, not undefined behaviour here
  return cudaSuccess;
}

cudaError cudaGetDeviceCount(int* count) {
  if (!count) return fail(cudaErrorInvalidValue, "cudaGetDeviceCount", "null count");
  *count = std::max(emulated_device_count(), 0);
  return *count == 0 ? (last_error = cudaErrorNoDevice) : cudaSuccess;
}

cudaError cudaSetDevice(int device) {
  const int n = emulated_device_count();
  if (n <= 0) return last_error = cudaErrorNoDevice;
  if (device < 0 || device >= n)
    return fail(cudaErrorInvalidDevice, "cudaSetDevice", "device " + std::to_string(device) + " of " + std::to_string(n));
  current = device;
  return cudaSuccess;
}

cudaError cudaGetDevice(int* device) {
  if (!device) return fail(cudaErrorInvalidValue, "cudaGetDevice", "null device");
  *device = current;
  return cudaSuccess;
}

cudaError cudaDeviceSynchronize() {
  return emulated_device_count() > 0 ? cudaSuccess : (last_error = cudaErrorNoDevice);
}

cudaError cudaMalloc(void** p, std::size_t bytes) {
  if (!p) return fail(cudaErrorInvalidValue, "cudaMalloc", "null result pointer");
  *p = nullptr;
  if (emulated_device_count() <= 0) return last_error = cudaErrorNoDevice;
  if (bytes == 0) return cudaSuccess;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  std::size_t& in_use = s.in_use[static_cast<std::size_t>(current)];
  const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded < bytes || rounded > s.total - std::min(in_use, s.total)) return last_error = cudaErrorMemoryAllocation;
  // Exactly `bytes` from the host heap: under AddressSanitizer an access past
  // the end faults even inside cudaMalloc's 256-byte granule (a memcheck for
  // the emulated kernels; pair with SCEALD_CUDA_NO_CACHE=1 for exact tensors).
  void* block = nullptr;
  if (posix_memalign(&block, kAlignment, bytes) != 0) return last_error = cudaErrorMemoryAllocation;
  std::memset(block, 0xFF, bytes);  // NaN in float and double: reading memory never written shows
  s.blocks.emplace(reinterpret_cast<std::uintptr_t>(block), Block{bytes, current});
  in_use += rounded;
  s.checks = true;
  *p = block;
  return cudaSuccess;
}

cudaError cudaFree(void* p) {
  if (!p) return cudaSuccess;
  State& s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  auto it = s.blocks.find(reinterpret_cast<std::uintptr_t>(p));
  if (it == s.blocks.end() || it->second.device < 0) {
    lock.unlock();
    return fail(cudaErrorInvalidValue, "cudaFree", describe(p, 0) + " is not the start of a live device allocation");
  }
  s.in_use[static_cast<std::size_t>(it->second.device)] -= (it->second.bytes + kAlignment - 1) / kAlignment * kAlignment;
  s.blocks.erase(it);
  std::free(p);
  return cudaSuccess;
}

cudaError cudaMemGetInfo(std::size_t* free_bytes, std::size_t* total_bytes) {
  if (!free_bytes || !total_bytes) return fail(cudaErrorInvalidValue, "cudaMemGetInfo", "null result pointer");
  if (emulated_device_count() <= 0) return last_error = cudaErrorNoDevice;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  const std::size_t in_use = s.in_use[static_cast<std::size_t>(current)];
  *total_bytes = s.total;
  *free_bytes = s.total - std::min(in_use, s.total);
  return cudaSuccess;
}

cudaError cudaHostAlloc(void** p, std::size_t bytes, unsigned) {
  if (!p) return fail(cudaErrorInvalidValue, "cudaHostAlloc", "null result pointer");
  *p = nullptr;
  if (bytes == 0) return cudaSuccess;
  const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* block = std::aligned_alloc(kAlignment, rounded);
  if (!block) return last_error = cudaErrorMemoryAllocation;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.blocks.emplace(reinterpret_cast<std::uintptr_t>(block), Block{bytes, -1});
  *p = block;
  return cudaSuccess;
}

cudaError cudaFreeHost(void* p) {
  if (!p) return cudaSuccess;
  State& s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  auto it = s.blocks.find(reinterpret_cast<std::uintptr_t>(p));
  if (it == s.blocks.end() || it->second.device >= 0) {
    lock.unlock();
    return fail(cudaErrorInvalidValue, "cudaFreeHost", describe(p, 0) + " is not the start of a pinned host block");
  }
  s.blocks.erase(it);
  std::free(p);
  return cudaSuccess;
}

// CUDA 11 and later: plain host memory is "unregistered", not an error.
cudaError cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* p) {
  if (!attributes) return fail(cudaErrorInvalidValue, "cudaPointerGetAttributes", "null attributes");
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  auto it = s.containing(p, 1);
  *attributes = cudaPointerAttributes{cudaMemoryTypeUnregistered, -1, nullptr, nullptr};
  if (it == s.blocks.end()) return cudaSuccess;
  if (it->second.device >= 0)
    *attributes = cudaPointerAttributes{cudaMemoryTypeDevice, it->second.device, const_cast<void*>(p), nullptr};
  else
    *attributes = cudaPointerAttributes{cudaMemoryTypeHost, current, const_cast<void*>(p), const_cast<void*>(p)};
  return cudaSuccess;
}

cudaError cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  if (!stream) return fail(cudaErrorInvalidValue, "cudaStreamCreateWithFlags", "null result pointer");
  if (emulated_device_count() <= 0) return last_error = cudaErrorNoDevice;
  auto* created = new CUstream_st{current};  // streams live as long as the process, as the engine's do
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.streams.insert(created);
  *stream = created;
  return cudaSuccess;
}

cudaError cudaStreamSynchronize(cudaStream_t stream) {
  if (!stream) return cudaSuccess;  // the legacy default stream
  State& s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  if (!s.streams.contains(stream)) {
    lock.unlock();
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize", "a stream this process never created");
  }
  return cudaSuccess;
}

float round_to_tf32(float v) {
  std::uint32_t b = std::bit_cast<std::uint32_t>(v);
  if ((b & 0x7F800000u) == 0x7F800000u) return v;  // inf, NaN
  b += 0xFFFu + ((b >> 13) & 1u);                  // half of the 13 dropped bits, ties to even; may carry
  return std::bit_cast<float>(b & ~0x1FFFu);
}

}  // namespace cuda_emulation
