// PyTorch checkpoints (.pt / .pth, torch.save of a state_dict), read in C++
// without Python.
//
// Two formats:
//  - zip (torch >= 1.6): an uncompressed zip archive whose entries all sit in
//    one top folder (the file stem at save time, so not always "archive"):
//    <prefix>/data.pkl (the pickled object), <prefix>/data/<key> (the raw
//    little-endian bytes of each storage), and optionally <prefix>/byteorder
//    (must say "little").
//  - legacy (torch < 1.6, or _use_new_zipfile_serialization=False): five
//    pickles back to back (the magic number 0x1950a86a20f9469cfc6c, the
//    protocol version 1001, a sys_info dict that must say little_endian,
//    the object, the list of storage keys) then, for each key in that list,
//    an int64 element count and the raw little-endian storage bytes.
// In both, a tensor is torch._utils._rebuild_tensor_v2(storage, offset,
// size, stride, requires_grad, hooks[, metadata]) over a persistent id
// ('storage', torch.<T>Storage, key, location, numel[, view]); parameters
// (_rebuild_parameter) load as their data. The unpickler is pickle.h with an
// allowlist: collections.OrderedDict, those two torch._utils rebuilders, the
// torch.<T>Storage types, numpy scalars (numpy.core.multiarray.scalar,
// numpy.dtype) and _codecs.encode (how protocol 2 spells bytes). Any other
// global is an error naming it; nothing is ever executed.
//
// The object must be a dict. When it holds no tensors but has a dict under
// 'state_dict', 'model', 'net' or 'state' (looked for in that order, up to
// a few levels deep), that dict is the state_dict. Its tensor entries load in
// order; other entries (an 'epoch': 3, a nested dict) are skipped; when every
// name starts with 'module.' (nn.DataParallel) the prefix is stripped. Each
// of these steps, each dtype conversion and non-CPU storage locations are
// recorded in `notes`.
//
// Each tensor becomes a fresh contiguous CPU tensor (strided views are
// copied out; two names for the same tensor share one Tensor): float32,
// float64 and int64 keep their type, float16 and bfloat16 become float32;
// int32, int16, int8, uint8 and bool become int64. Other storage types are
// an error naming the tensor's storage type.
//
// Validation: every length, offset and count is checked against the bytes
// that hold it; a tensor's extent (offset + sum((size-1)*stride)) must lie
// inside its storage and it may not have more elements than its storage
// (expanded, stride-0 tensors are refused); storage sizes must match their
// persistent ids; the loaded tensors may not take more than 8x the file's
// size (refusing files that view one storage many times over). Nothing is
// allocated beyond a small multiple of the pickle's size until all of this
// has been checked. Errors are sceald::Error naming the file and the
// problem (the entry, the tensor, the global, the offending value).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sceald::io {

struct TorchCheckpoint {
  std::vector<std::pair<std::string, Tensor>> tensors;  // the state_dict, in its order
  std::string format;                                   // "zip" or "legacy"
  std::vector<std::string> notes;                       // what was unwrapped, stripped, skipped, converted

  const Tensor* find(const std::string& name) const;  // nullptr if absent
};

TorchCheckpoint load_torch_checkpoint(const std::string& path);
// The same from bytes in memory; `source_name` stands for the file in errors.
TorchCheckpoint parse_torch_checkpoint(std::string_view bytes, const std::string& source_name);

}  // namespace sceald::io
