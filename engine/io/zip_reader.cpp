#include "engine/io/zip_reader.h"

#include <array>

#include "engine/error.h"

namespace sceald::io {
namespace {

constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;    // "PK\3\4"
constexpr std::uint32_t kCentralHeaderSig = 0x02014b50;  // "PK\1\2"
constexpr std::uint32_t kEndSig = 0x06054b50;            // "PK\5\6"
constexpr std::uint32_t kEnd64Sig = 0x06064b50;          // "PK\6\6"
constexpr std::uint32_t kEnd64LocatorSig = 0x07064b50;   // "PK\6\7"
constexpr std::uint64_t kEndSize = 22;
constexpr std::uint64_t kEnd64Size = 56;
constexpr std::uint64_t kLocatorSize = 20;
constexpr std::uint64_t kCentralSize = 46;
constexpr std::uint64_t kLocalSize = 30;
constexpr std::uint64_t kMaxComment = 0xffff;
constexpr std::uint16_t kZip64ExtraId = 0x0001;

template <typename... Args>
[[noreturn]] void fail(const std::string& source, const Args&... args) {
  throw Error(str_cat("zip archive '", source, "': ", args...));
}

// Little-endian reads; the caller has checked that [at, at + N) is inside `b`.
std::uint16_t u16(std::string_view b, std::uint64_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(b[at]) |
                                    (static_cast<unsigned char>(b[at + 1]) << 8));
}
std::uint32_t u32(std::string_view b, std::uint64_t at) {
  return static_cast<std::uint32_t>(u16(b, at)) | (static_cast<std::uint32_t>(u16(b, at + 2)) << 16);
}
std::uint64_t u64(std::string_view b, std::uint64_t at) {
  return static_cast<std::uint64_t>(u32(b, at)) | (static_cast<std::uint64_t>(u32(b, at + 4)) << 32);
}

// True when [offset, offset + length) lies inside [0, limit), without overflow.
bool fits(std::uint64_t offset, std::uint64_t length, std::uint64_t limit) {
  return offset <= limit && length <= limit - offset;
}

struct Directory {
  std::uint64_t entry_count = 0;
  std::uint64_t offset = 0;  // of the first central-directory entry
  std::uint64_t size = 0;    // bytes of the central directory
};

// The end-of-central-directory record, and the ZIP64 one when present.
Directory read_end_records(std::string_view b, const std::string& source) {
  const std::uint64_t n = b.size();
  if (n < kEndSize) fail(source, "too short to be a zip archive (", n, " bytes)");
  // The record ends the file: find the last signature whose comment length
  // reaches exactly to the end.
  std::uint64_t end_at = n;  // "not found"
  const std::uint64_t lowest = n - kEndSize > kMaxComment ? n - kEndSize - kMaxComment : 0;
  for (std::uint64_t at = n - kEndSize + 1; at-- > lowest;) {
    if (u32(b, at) == kEndSig && at + kEndSize + u16(b, at + 20) == n) {
      end_at = at;
      break;
    }
  }
  if (end_at == n) fail(source, "no end-of-central-directory record at the end of the file (truncated, or not a zip)");

  const std::uint16_t disk = u16(b, end_at + 4), cd_disk = u16(b, end_at + 6);
  Directory dir{u16(b, end_at + 10), u32(b, end_at + 16), u32(b, end_at + 12)};
  const std::uint16_t disk_entries = u16(b, end_at + 8);

  const bool has_locator = end_at >= kLocatorSize && u32(b, end_at - kLocatorSize) == kEnd64LocatorSig;
  if (has_locator) {
    const std::uint64_t loc = end_at - kLocatorSize;
    const std::uint64_t end64_at = u64(b, loc + 8);
    if (u32(b, loc + 4) != 0 || u32(b, loc + 16) > 1)
      fail(source, "multi-disk archives are not supported (ZIP64 locator names ", u32(b, loc + 16), " disks)");
    if (!fits(end64_at, kEnd64Size, loc))
      fail(source, "the ZIP64 end record offset ", end64_at, " lies outside the ", loc, " bytes before its locator");
    if (u32(b, end64_at) != kEnd64Sig) fail(source, "no ZIP64 end record at offset ", end64_at);
    if (u32(b, end64_at + 16) != 0 || u32(b, end64_at + 20) != 0)
      fail(source, "multi-disk archives are not supported (ZIP64 end record names disk ", u32(b, end64_at + 16), ")");
    if (u64(b, end64_at + 24) != u64(b, end64_at + 32))
      fail(source, "multi-disk archives are not supported (", u64(b, end64_at + 24), " of ",
           u64(b, end64_at + 32), " entries on this disk)");
    dir = Directory{u64(b, end64_at + 32), u64(b, end64_at + 48), u64(b, end64_at + 40)};
    end_at = end64_at;  // the central directory must end before the ZIP64 record
  } else {
    if (disk != 0 || cd_disk != 0 || disk_entries != dir.entry_count)
      fail(source, "multi-disk archives are not supported (disk ", disk, ", directory on disk ", cd_disk, ")");
    if (dir.entry_count == 0xffff || dir.offset == 0xffffffffu || dir.size == 0xffffffffu)
      fail(source, "the end record asks for ZIP64 values but there is no ZIP64 locator before it");
  }
  if (!fits(dir.offset, dir.size, end_at))
    fail(source, "the central directory (offset ", dir.offset, ", ", dir.size, " bytes) lies outside the ", end_at,
         " bytes before the end record");
  if (dir.entry_count > dir.size / kCentralSize)
    fail(source, "the end record claims ", dir.entry_count, " entries, more than ", dir.size, " bytes of central directory can hold");
  return dir;
}

// Replaces 0xFFFFFFFF fields by the values of the ZIP64 extra field (id 1),
// which holds, in this order, only the fields that overflowed.
void apply_zip64_extra(std::string_view extra, std::uint64_t& size, std::uint64_t& compressed,
                       std::uint64_t& local_offset, const std::string& source, const std::string& name) {
  const bool need_size = size == 0xffffffffu, need_compressed = compressed == 0xffffffffu,
             need_offset = local_offset == 0xffffffffu;
  if (!need_size && !need_compressed && !need_offset) return;
  std::uint64_t at = 0;
  while (at + 4 <= extra.size()) {
    const std::uint16_t id = u16(extra, at), len = u16(extra, at + 2);
    if (!fits(at + 4, len, extra.size())) break;
    if (id == kZip64ExtraId) {
      std::uint64_t field = at + 4;
      const std::uint64_t end = at + 4 + len;
      auto next = [&](std::uint64_t& value) {
        if (field + 8 > end) fail(source, "entry '", name, "': its ZIP64 extra field is too short (", len, " bytes)");
        value = u64(extra, field);
        field += 8;
      };
      if (need_size) next(size);
      if (need_compressed) next(compressed);
      if (need_offset) next(local_offset);
      return;
    }
    at += 4 + len;
  }
  fail(source, "entry '", name, "': sizes or offset are 0xFFFFFFFF but it has no ZIP64 extra field");
}

}  // namespace

bool looks_like_zip(std::string_view bytes) { return bytes.size() >= 4 && u32(bytes, 0) == kLocalHeaderSig; }

// Slicing-by-8 (eight bytes per step through eight tables): about 4x the
// plain byte-wise loop, which matters for checkpoints of hundreds of MB.
std::uint32_t crc32(std::string_view bytes) {
  using Tables = std::array<std::array<std::uint32_t, 256>, 8>;
  static const Tables t = [] {
    Tables x{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      x[0][i] = c;
    }
    for (std::uint32_t i = 0; i < 256; ++i)
      for (int k = 1; k < 8; ++k) x[k][i] = (x[k - 1][i] >> 8) ^ x[0][x[k - 1][i] & 0xff];
    return x;
  }();
  std::uint32_t c = 0xffffffffu;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    const std::uint32_t lo = c ^ (p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24));
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
        t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
  }
  for (; n > 0; ++p, --n) c = t[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

ZipReader::ZipReader(std::string_view archive, std::string source) : archive_(archive), source_(std::move(source)) {
  const std::string_view b = archive_;
  const Directory dir = read_end_records(b, source_);
  entries_.reserve(dir.entry_count);
  std::uint64_t at = dir.offset;
  const std::uint64_t dir_end = dir.offset + dir.size;
  for (std::uint64_t i = 0; i < dir.entry_count; ++i) {
    if (!fits(at, kCentralSize, dir_end) || u32(b, at) != kCentralHeaderSig)
      fail(source_, "central-directory entry ", i, " at offset ", at, " is missing or damaged");
    const std::uint16_t flags = u16(b, at + 8), method = u16(b, at + 10);
    const std::uint32_t crc = u32(b, at + 16);
    std::uint64_t compressed = u32(b, at + 20), size = u32(b, at + 24);
    const std::uint16_t name_len = u16(b, at + 28), extra_len = u16(b, at + 30), comment_len = u16(b, at + 32);
    const std::uint16_t disk_start = u16(b, at + 34);
    std::uint64_t local = u32(b, at + 42);
    const std::uint64_t variable = std::uint64_t{name_len} + extra_len + comment_len;
    if (!fits(at + kCentralSize, variable, dir_end))
      fail(source_, "central-directory entry ", i, " runs past the end of the central directory");
    ZipEntry e;
    e.name.assign(b.substr(at + kCentralSize, name_len));
    apply_zip64_extra(b.substr(at + kCentralSize + name_len, extra_len), size, compressed, local, source_, e.name);
    if (disk_start != 0 && disk_start != 0xffff)
      fail(source_, "entry '", e.name, "' starts on disk ", disk_start, ": multi-disk archives are not supported");
    if (flags & 1) fail(source_, "entry '", e.name, "' is encrypted");
    if (!index_.emplace(e.name, entries_.size()).second) fail(source_, "entry '", e.name, "' appears twice");
    if (method == 0 && compressed != size)
      fail(source_, "stored entry '", e.name, "' has compressed size ", compressed, " but size ", size);

    // The local header: only its length matters (its sizes may be zero when
    // a data descriptor follows), but its signature and name must agree.
    if (!fits(local, kLocalSize, dir.offset) || u32(b, local) != kLocalHeaderSig)
      fail(source_, "entry '", e.name, "': no local header at offset ", local);
    const std::uint16_t local_name_len = u16(b, local + 26), local_extra_len = u16(b, local + 28);
    const std::uint64_t data = local + kLocalSize + local_name_len + local_extra_len;
    if (!fits(local + kLocalSize, std::uint64_t{local_name_len} + local_extra_len, dir.offset) ||
        b.substr(local + kLocalSize, local_name_len) != e.name)
      fail(source_, "entry '", e.name, "': its local header at offset ", local, " is damaged or names another file");
    if (!fits(data, compressed, dir.offset))
      fail(source_, "entry '", e.name, "': its ", compressed, " bytes at offset ", data,
           " run past the start of the central directory (", dir.offset, ")");
    e.data_offset = data;
    e.size = compressed;
    e.crc32 = crc;
    e.method = method;
    entries_.push_back(std::move(e));
    at += kCentralSize + variable;
  }
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::string_view ZipReader::read(const ZipEntry& entry) const {
  if (entry.method != 0)
    fail(source_, "entry '", entry.name, "' is compressed (method ", entry.method,
         entry.method == 8 ? ", DEFLATE" : "",
         "); only stored entries are supported, as torch.save writes them (re-save the file with torch.save, or "
         "re-zip it with `zip -0`)");
  std::string_view data = archive_.substr(entry.data_offset, entry.size);
  const std::uint32_t actual = crc32(data);
  if (actual != entry.crc32)
    fail(source_, "entry '", entry.name, "' is corrupt: CRC-32 0x", std::hex, actual, " but the directory records 0x",
         entry.crc32);
  return data;
}

}  // namespace sceald::io
