// The safetensors format (huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of UTF-8 JSON, then one flat byte buffer.
//
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
//    ..., "__metadata__": {"key": "value"}}
//
// Offsets are relative to the start of the buffer; tensors are row-major and
// little-endian, and together tile the buffer exactly.
//
// Loading: F32, F64 and I64 become float32, float64 and int64 tensors; F16
// and BF16 are converted to float32; I32, I16, I8, U8 and BOOL to int64. Any
// other dtype is an error naming the tensor and the dtype. Every tensor is a
// fresh contiguous CPU tensor owning its memory.
//
// Validation follows the reference implementation and is stricter in places:
// the header length is capped at 16 MiB; the header must be a JSON object
// without duplicate keys; each entry needs dtype, shape (non-negative
// integers) and data_offsets (two non-negative integers, begin <= end);
// __metadata__ must map strings to strings; each byte size must equal
// product(shape) * dtype size (overflow-checked); the offsets, sorted, must
// start at 0 and tile the buffer without gaps or overlaps; the file must end
// where the last tensor ends. Every failure throws sceald::Error naming the
// file (or source name), the rule and the offending value. Nothing larger
// than the input is allocated before the whole header has been validated.
//
// Saving: float32, float64 and int64 CPU tensors of any layout, written
// row-major in the given order; the header is padded with spaces to a
// multiple of 8 bytes, as the reference writer does, so every tensor's data
// starts 8-byte aligned. save_safetensors writes atomically (atomic_file.h).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sceald::io {

struct SafetensorsFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in order of their data offsets
  std::map<std::string, std::string> metadata;          // the __metadata__ object
  std::string source;                                   // the path or source name, for errors

  const Tensor* find(const std::string& name) const;  // nullptr if absent
  const Tensor& at(const std::string& name) const;    // throws naming the source and the name
  // A __metadata__ value; throws naming the source and the key when absent.
  const std::string& metadata_at(const std::string& key) const;
};

SafetensorsFile load_safetensors(const std::string& path);
// The same as load_safetensors, from bytes in memory; `source_name` stands
// for the file in error messages.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& source_name);

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});

// The header-length limit of the reader, in bytes.
inline constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 16u << 20;

}  // namespace sceald::io
