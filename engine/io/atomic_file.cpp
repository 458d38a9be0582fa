#include "engine/io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <streambuf>
#include <vector>

#include "engine/error.h"

namespace sceald::io {

namespace {

constexpr const char* kTemporaryInfix = ".sceald-tmp.";
constexpr long kStaleSeconds = 60;

std::string errno_text(int err) { return std::strerror(err); }

// The folder holding `path` ("." for a bare file name), for the temporary's
// error messages and the fsync that makes the rename durable.
std::string parent_folder(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Writes every byte; returns 0 or the errno of the failed write().
int write_all(int fd, const char* data, std::size_t bytes) {
  while (bytes > 0) {
    ssize_t n = ::write(fd, data, bytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    bytes -= static_cast<std::size_t>(n);
  }
  return 0;
}

// A buffered output streambuf over a file descriptor. It never throws into
// the writer's stream operations: a failed write() records errno and returns
// EOF, which sets the stream's badbit; write_file_atomically reports it.
class FdStreamBuf final : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd) : fd_(fd), buffer_(1 << 16) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n <= epptr() - pptr()) {
      std::memcpy(pptr(), s, static_cast<std::size_t>(n));
      pbump(static_cast<int>(n));
      return n;
    }
    // Large writes bypass the buffer.
    if (!flush_buffer() || !write_raw(s, static_cast<std::size_t>(n))) return 0;
    return n;
  }
  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  bool write_raw(const char* s, std::size_t n) {
    if (error_ == 0) error_ = write_all(fd_, s, n);
    return error_ == 0;
  }
  bool flush_buffer() {
    std::size_t n = static_cast<std::size_t>(pptr() - pbase());
    bool ok = write_raw(pbase(), n);
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return ok;
  }

  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

std::string temporary_name(const std::string& path) {
  static std::atomic<std::uint64_t> counter{0};
  return str_cat(path, kTemporaryInfix, ::getpid(), ".", counter.fetch_add(1));
}

void fsync_folder(const std::string& folder, const std::string& path) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw Error(str_cat("write_file_atomically: '", path, "' was written, but its folder '", folder,
                        "' could not be opened to make the rename durable: ", errno_text(errno)));
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some file systems do not support fsync on folders; that is no failure.
  if (rc != 0 && err != EINVAL && err != EROFS) {
    throw Error(str_cat("write_file_atomically: '", path, "' was written, but fsync of its folder '", folder,
                        "' failed: ", errno_text(err)));
  }
}

}  // namespace

int remove_stale_temporaries(const std::string& folder) {
  namespace fs = std::filesystem;
  const auto digits = [](const std::string& s) {
    return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    // "<name>.sceald-tmp.<pid>.<counter>"
    const std::string name = it->path().filename().string();
    const std::size_t infix = name.rfind(kTemporaryInfix);
    if (infix == std::string::npos || infix == 0) continue;
    const std::string tail = name.substr(infix + std::strlen(kTemporaryInfix));
    const std::size_t dot = tail.find('.');
    if (dot == std::string::npos || !digits(tail.substr(0, dot)) || !digits(tail.substr(dot + 1))) continue;
    // Its writer is gone: no process here has its pid, ...
    const pid_t pid = static_cast<pid_t>(std::stol(tail.substr(0, dot)));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    // ... none anywhere holds its lock (a writer in another pid namespace on this file system would), ...
    const int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    struct stat st {};
    const bool unlocked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    // ... and it is not new (a writer closes it a moment before renaming it).
    const bool old = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime + kStaleSeconds < ::time(nullptr);
    if (unlocked && old && ::unlink(it->path().c_str()) == 0) ++removed;
    ::close(fd);
  }
  return removed;
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  SCEALD_CHECK(!path.empty(), "write_file_atomically: the path is empty");
  const std::string folder = parent_folder(path);
  const std::string tmp = temporary_name(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    int err = errno;
    struct stat st {};
    std::string why = errno_text(err);
    if (::stat(folder.c_str(), &st) != 0) {
      why = str_cat("the folder '", folder, "' cannot be used: ", errno_text(errno));
    } else if (!S_ISDIR(st.st_mode)) {
      why = str_cat("'", folder, "' is not a folder");
    }
    throw Error(str_cat("write_file_atomically: cannot create the temporary file '", tmp, "' to write '", path,
                        "': ", why));
  }
  ::flock(fd, LOCK_EX);  // tells remove_stale_temporaries that a writer is at work (advisory; best effort)

  bool renamed = false;
  try {
    // Keep the permission bits of the file we replace.
    struct stat old {};
    if (::stat(path.c_str(), &old) == 0 && S_ISREG(old.st_mode)) ::fchmod(fd, old.st_mode & 07777);

    FdStreamBuf buf(fd);
    std::ostream os(&buf);
    writer(os);
    os.flush();
    if (buf.error() != 0) {
      throw Error(str_cat("write_file_atomically: writing '", tmp, "' (to become '", path,
                          "') failed: ", errno_text(buf.error())));
    }
    SCEALD_CHECK(os.good(), "write_file_atomically: the stream writing '", path,
                 "' went bad (the writer set its fail or bad bit)");
    if (::fsync(fd) != 0) {
      throw Error(str_cat("write_file_atomically: fsync of '", tmp, "' (to become '", path,
                          "') failed: ", errno_text(errno)));
    }
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0) {
      throw Error(str_cat("write_file_atomically: closing '", tmp, "' (to become '", path,
                          "') failed: ", errno_text(errno)));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      throw Error(str_cat("write_file_atomically: cannot rename '", tmp, "' over '", path, "': ", errno_text(errno)));
    }
    renamed = true;
    fsync_folder(folder, path);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    if (!renamed) ::unlink(tmp.c_str());
    throw;
  }
}

ReadOnlyFile::ReadOnlyFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error(str_cat("cannot open '", path, "' for reading: ", errno_text(errno)));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    int err = errno;
    ::close(fd_);
    throw Error(str_cat("cannot read the size of '", path, "': ", errno_text(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    const char* why = S_ISDIR(st.st_mode) ? "it is a folder" : "it is not a regular file";
    throw Error(str_cat("cannot read '", path, "': ", why));
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

ReadOnlyFile::~ReadOnlyFile() {
  if (fd_ >= 0) ::close(fd_);
}

void ReadOnlyFile::read_at(std::uint64_t offset, void* dst, std::size_t bytes) const {
  char* out = static_cast<char*>(dst);
  std::uint64_t at = offset;
  while (bytes > 0) {
    ssize_t n = ::pread(fd_, out, bytes, static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(str_cat("reading '", path_, "' at byte ", at, " failed: ", errno_text(errno)));
    }
    if (n == 0) {
      throw Error(str_cat("reading '", path_, "': the file ended at byte ", at, " while ", bytes,
                          " more bytes were expected (was it changed while being read?)"));
    }
    out += n;
    at += static_cast<std::uint64_t>(n);
    bytes -= static_cast<std::size_t>(n);
  }
}

std::string read_file(const std::string& path) {
  ReadOnlyFile file(path);
  std::string content(static_cast<std::size_t>(file.size()), '\0');
  file.read_at(0, content.data(), content.size());
  return content;
}

}  // namespace sceald::io
