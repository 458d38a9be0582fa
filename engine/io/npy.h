// NumPy's .npy format (numpy.lib.format), versions 1.0, 2.0 and 3.0.
//
//   "\x93NUMPY", major, minor,
//   header length (uint16 LE in 1.0, uint32 LE in 2.0 and 3.0),
//   the header: a Python dict literal, padded with spaces, ending in '\n'
//     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//   then the raw array bytes.
//
// Loading: '<f4', '<f8' and '<i8' become float32, float64 and int64 tensors;
// '|u1' (uint8, images) becomes float32 and '<i4' int64. Every other
// descriptor (big-endian, structured, object) is an error naming it.
// fortran_order True is an error (write C order: np.ascontiguousarray).
// Every tensor is a fresh contiguous CPU tensor.
//
// Validation is strict: the magic and version; the header length against the
// file's size (and at most kNpyMaxHeaderBytes); the header parsed as exactly
// one dict literal with the keys 'descr' (a string), 'fortran_order' (True
// or False) and 'shape' (a tuple of non-negative integers), each once, and
// nothing else; the data size, product(shape) * itemsize (overflow-checked),
// equal to the bytes after the header. Errors are sceald::Error naming the
// file (or source name) and the field. Nothing larger than the header is
// allocated before all of this has passed, so a lying file cannot make the
// reader allocate more than the file holds.
//
// Saving: float32, float64 and int64 CPU tensors of any layout, written in C
// order as version 1.0 (2.0 when the header needs it), padded so the data
// starts at a multiple of 64 bytes, as numpy does; save_npy writes
// atomically (atomic_file.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/tensor.h"

namespace sceald::io {

// What the header of a .npy file says, as read by read_npy_header.
struct NpyHeader {
  int major = 1, minor = 0;
  std::string descr;         // as written: "<f4"
  Shape shape;
  DType loads_as = DType::Float32;
  std::uint64_t data_offset = 0;  // bytes before the array data
  std::uint64_t data_bytes = 0;   // product(shape) * itemsize
};

Tensor load_npy(const std::string& path);
// The same from bytes in memory; `source_name` stands for the file in errors.
Tensor parse_npy(std::string_view bytes, const std::string& source_name);
// Only the header (validated against the file's size); reads no array data.
NpyHeader read_npy_header(const std::string& path);

void save_npy(const std::string& path, const Tensor& tensor);
std::string serialize_npy(const Tensor& tensor);

inline constexpr std::uint64_t kNpyMaxHeaderBytes = 1u << 20;
inline constexpr std::size_t kNpyMaxDims = 64;

}  // namespace sceald::io
