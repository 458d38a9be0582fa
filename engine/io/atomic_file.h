// Whole-file writes that never leave a half-written file, and reads with
// errors that say which file and why.
//
// write_file_atomically(path, writer) runs `writer` on a stream backed by a
// fresh temporary file in the same folder as `path` (named
// "<path>.sceald-tmp.<pid>.<counter>", locked with flock while it is
// written), then flushes it, fsyncs it, renames it over
// `path` and fsyncs the folder. Readers see either the old file or the whole
// new one; a crash part-way leaves the old file in place (and at worst a
// stray temporary, which remove_stale_temporaries clears: sceald train does
// in its run folder). On any failure the temporary is removed: an exception
// thrown by `writer` is rethrown unchanged; an I/O failure becomes a
// sceald::Error naming the path and the system's reason (errno text).
// A file that is replaced keeps its permission bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace sceald::io {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& writer);

// Removes the temporaries ("<name>.sceald-tmp.<pid>.<counter>") that
// writers no longer running left in `folder` (killed mid-write: a
// checkpoint's is tens of MB): no process here has the pid, no one holds the
// file's lock, and it was last written over a minute ago. Nothing else is
// touched. Returns how many it removed; a missing folder has none.
int remove_stale_temporaries(const std::string& folder);

// The whole content of a regular file. Errors name the path and the reason:
// missing, not a regular file (a folder, say), unreadable.
std::string read_file(const std::string& path);

// A regular file opened for reading at arbitrary offsets, for readers that
// look at a header before deciding what else to read. Closes on destruction.
class ReadOnlyFile {
 public:
  explicit ReadOnlyFile(const std::string& path);  // throws naming the path and the reason
  ~ReadOnlyFile();
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }  // bytes, as of opening
  // Reads exactly `bytes` bytes at `offset` into `dst`; a short file or an
  // I/O error throws naming the path, the offset and the reason.
  void read_at(std::uint64_t offset, void* dst, std::size_t bytes) const;

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace sceald::io
