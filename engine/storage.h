// A reference-counted block of bytes on one device. Host blocks are 64-byte
// aligned so that vector kernels can use aligned loads on fresh tensors.
#pragma once

#include <cstddef>
#include <memory>

#include "engine/device.h"

namespace sceald {

class Storage {
 public:
  // Allocates `bytes` on `device` (uninitialised).
  static std::shared_ptr<Storage> allocate(std::size_t bytes, Device device);
  // Wraps memory owned elsewhere; `deleter` runs when the last user lets go.
  static std::shared_ptr<Storage> wrap(void* data, std::size_t bytes, Device device, void (*deleter)(void*));

  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  Storage(void* data, std::size_t bytes, Device device, void (*deleter)(void*))
      : data_(data), bytes_(bytes), device_(device), deleter_(deleter) {}
  void* data_;
  std::size_t bytes_;
  Device device_;
  void (*deleter_)(void*);
};

}  // namespace sceald
