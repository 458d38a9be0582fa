// A minimal reader of ZIP archives held in memory, enough for the archives
// torch.save writes (torch >= 1.6): uncompressed (STORED) entries, a ZIP64
// end-of-central-directory record (torch always writes one), data
// descriptors after the data (sizes come from the central directory).
//
// What is read: the end-of-central-directory record (searched backwards over
// at most 64 KiB of comment, and it must end the file), the ZIP64 locator and
// record when present, every central-directory entry (with its ZIP64 extra
// field where a size or offset is 0xFFFFFFFF) and each entry's local header.
// Every offset and size is checked against the archive's size before it is
// used, and the entry's data must lie before the central directory.
//
// Refused with an error naming the archive and the entry: multi-disk
// archives, encrypted entries, duplicate names, compressed entries (DEFLATE
// and others: this reader links no decompressor; torch never compresses).
// read() checks the CRC-32 of the entry against the central directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sceald::io {

struct ZipEntry {
  std::string name;
  std::uint64_t data_offset = 0;  // first byte of the entry's data in the archive
  std::uint64_t size = 0;         // bytes of data as stored (uncompressed for STORED)
  std::uint32_t crc32 = 0;        // as recorded in the central directory
  std::uint16_t method = 0;       // 0 = stored, 8 = deflate, ...
};

class ZipReader {
 public:
  // Parses the directory of `archive`, which must outlive the reader.
  // `source` names the archive in error messages.
  ZipReader(std::string_view archive, std::string source);
  ZipReader(std::string&& archive, std::string source) = delete;  // the views would dangle

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;  // nullptr if absent
  // The data of a STORED entry, a view into the archive, after checking its
  // CRC-32. Other methods are an error naming the entry and the method.
  std::string_view read(const ZipEntry& entry) const;
  const std::string& source() const { return source_; }

 private:
  std::string_view archive_;
  std::string source_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, std::size_t> index_;  // name -> position in entries_
};

// True when `bytes` starts like a ZIP archive (a local file header).
bool looks_like_zip(std::string_view bytes);

// CRC-32 (the ZIP / zlib polynomial 0xEDB88320) of `bytes`.
std::uint32_t crc32(std::string_view bytes);

}  // namespace sceald::io
