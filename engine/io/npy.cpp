#include "engine/io/npy.h"

#include <bit>
#include <cstring>
#include <functional>
#include <limits>
#include <sstream>
#include <vector>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace sceald::io {

static_assert(std::endian::native == std::endian::little, "npy data is read as little-endian bytes, as is");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicBytes = 6;

template <typename... Args>
[[noreturn]] void fail(const std::string& source, const Args&... args) {
  throw Error(str_cat("npy file '", source, "': ", args...));
}

// A short, printable rendering of header text for error messages.
std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 60;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f) {
      out += str_cat("\\x", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) out += "...";
  return out + "'";
}

// ---------------------------------------------------------------- descriptors

struct NpyDType {
  const char* descr;
  std::size_t itemsize;
  DType loads_as;
};

constexpr NpyDType kDTypes[] = {
    {"<f4", 4, DType::Float32}, {"<f8", 8, DType::Float64}, {"<i8", 8, DType::Int64},
    {"|u1", 1, DType::Float32}, {"<i4", 4, DType::Int64},
};

const NpyDType* find_dtype(const std::string& descr) {
  for (const NpyDType& d : kDTypes)
    if (descr == d.descr) return &d;
  return nullptr;
}

const char* descr_of(DType t) {
  switch (t) {
    case DType::Float32: return "<f4";
    case DType::Float64: return "<f8";
    case DType::Int64: return "<i8";
  }
  return "?";
}

// ---------------------------------------------------------------- the dict literal

// A strict reader of the one dict literal numpy writes. It knows Python's
// spelling of exactly what the format needs: quoted strings without escapes,
// True/False, non-negative integers and tuples of them.
class HeaderDictReader {
 public:
  HeaderDictReader(std::string_view text, const std::string& source) : s_(text), source_(source) {}

  struct Result {
    std::string descr;
    bool fortran_order = false;
    Shape shape;
  };

  Result read() {
    Result r;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    skip_space();
    expect('{', "the header does not start with '{'");
    skip_space();
    while (peek() != '}') {
      const std::size_t key_at = pos_;
      std::string key = read_string("a key");
      skip_space();
      expect(':', str_cat("expected ':' after the key ", shown(key)));
      skip_space();
      if (key == "descr") {
        if (seen_descr) bad_header(key_at, "the key 'descr' appears twice");
        seen_descr = true;
        if (peek() != '\'' && peek() != '"') field_error("descr", "expected a string");
        r.descr = read_string("the descr value");
      } else if (key == "fortran_order") {
        if (seen_fortran) bad_header(key_at, "the key 'fortran_order' appears twice");
        seen_fortran = true;
        r.fortran_order = read_bool();
      } else if (key == "shape") {
        if (seen_shape) bad_header(key_at, "the key 'shape' appears twice");
        seen_shape = true;
        r.shape = read_shape();
      } else {
        bad_header(key_at, str_cat("unexpected key ", shown(key), " (only 'descr', 'fortran_order' and 'shape')"));
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
      } else if (peek() != '}') {
        bad_header(pos_, "expected ',' or '}' after a value");
      }
    }
    ++pos_;  // '}'
    // numpy pads the header with spaces and ends it with '\n'.
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
    if (pos_ != s_.size()) bad_header(pos_, "trailing characters after the closing '}'");
    if (!seen_descr) fail(source_, "header field 'descr' is missing");
    if (!seen_fortran) fail(source_, "header field 'fortran_order' is missing");
    if (!seen_shape) fail(source_, "header field 'shape' is missing");
    return r;
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  std::string near(std::size_t at) const { return shown(s_.substr(at, 20)); }

  [[noreturn]] void bad_header(std::size_t at, const std::string& what) const {
    fail(source_, "header: ", what, " at character ", at, " of the header (near ", near(at), ")");
  }
  [[noreturn]] void field_error(const char* field, const std::string& what) const {
    fail(source_, "header field '", field, "': ", what, " (near ", near(pos_), ")");
  }
  void expect(char c, const std::string& what) {
    if (peek() != c) bad_header(pos_, what);
    ++pos_;
  }

  std::string read_string(const char* what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') bad_header(pos_, str_cat("expected ", what, " as a quoted string"));
    const std::size_t start = ++pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '\\' || c < 0x20 || c >= 0x7f) bad_header(pos_, str_cat("unexpected character in ", what));
      ++pos_;
    }
    if (pos_ >= s_.size()) bad_header(start - 1, str_cat(what, " has no closing quote"));
    return std::string(s_.substr(start, pos_++ - start));
  }

  bool read_bool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    field_error("fortran_order", "expected True or False");
  }

  std::int64_t read_extent() {
    if (peek() == '-') field_error("shape", "a negative extent");
    if (peek() < '0' || peek() > '9') field_error("shape", "expected a tuple of non-negative integers");
    if (peek() == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9')
      field_error("shape", "an integer with a leading zero");
    std::int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, peek() - '0', &value))
        field_error("shape", "an extent does not fit in 64 bits");
      ++pos_;
    }
    return value;
  }

  // (), (n,), (a, b), (a, b,): Python's tuple spellings; (n) is not a tuple.
  Shape read_shape() {
    if (peek() != '(') field_error("shape", "expected a tuple of non-negative integers");
    ++pos_;
    skip_space();
    Shape shape;
    bool trailing_comma = false;
    while (peek() != ')') {
      if (shape.size() >= kNpyMaxDims) field_error("shape", str_cat("more than ", kNpyMaxDims, " dimensions"));
      shape.push_back(read_extent());
      skip_space();
      trailing_comma = false;
      if (peek() == ',') {
        ++pos_;
        skip_space();
        trailing_comma = true;
      } else if (peek() != ')') {
        field_error("shape", "expected ',' or ')' in the tuple");
      }
    }
    if (shape.size() == 1 && !trailing_comma) field_error("shape", "(n) is not a tuple; a 1-d shape is (n,)");
    ++pos_;
    return shape;
  }

  std::string_view s_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------- the header

// The bytes before the header text: magic, version, header length.
struct Prefix {
  int major = 1, minor = 0;
  std::uint64_t prefix_bytes = 0;  // 10 (1.0) or 12 (2.0, 3.0)
  std::uint64_t header_bytes = 0;
};

constexpr std::size_t kLongestPrefix = 12;

Prefix parse_prefix(std::string_view first, std::uint64_t file_size, const std::string& source) {
  if (first.size() < kMagicBytes || std::memcmp(first.data(), kMagic, kMagicBytes) != 0) {
    if (file_size < kMagicBytes) fail(source, "magic: the file has only ", file_size, " bytes, too short for a .npy file");
    fail(source, "magic: the file does not start with \\x93NUMPY (not a .npy file)");
  }
  if (first.size() < 8) fail(source, "version: the file ends inside the version bytes (", file_size, " bytes)");
  Prefix p;
  p.major = static_cast<unsigned char>(first[6]);
  p.minor = static_cast<unsigned char>(first[7]);
  if (p.major < 1 || p.major > 3 || p.minor != 0)
    fail(source, "version: ", p.major, ".", p.minor, " is not a .npy version this reader knows (1.0, 2.0, 3.0)");
  const std::size_t length_bytes = p.major == 1 ? 2 : 4;
  p.prefix_bytes = 8 + length_bytes;
  if (first.size() < p.prefix_bytes)
    fail(source, "header length: the file ends inside the header length field (", file_size, " bytes)");
  for (std::size_t i = 0; i < length_bytes; ++i)
    p.header_bytes |= static_cast<std::uint64_t>(static_cast<unsigned char>(first[8 + i])) << (8 * i);
  if (p.header_bytes > kNpyMaxHeaderBytes)
    fail(source, "header length: ", p.header_bytes, " bytes is more than the limit of ", kNpyMaxHeaderBytes);
  if (p.header_bytes > file_size - p.prefix_bytes) {
    fail(source, "header length: the header claims ", p.header_bytes, " bytes but only ",
         file_size - p.prefix_bytes, " follow the length field");
  }
  return p;
}

NpyHeader parse_header(const Prefix& p, std::string_view text, std::uint64_t file_size, const std::string& source) {
  HeaderDictReader::Result dict = HeaderDictReader(text, source).read();
  const NpyDType* dt = find_dtype(dict.descr);
  if (!dt) {
    fail(source, "header field 'descr': unsupported dtype ", shown(dict.descr),
         " (supported: '<f4', '<f8', '<i8', '|u1', '<i4')");
  }
  if (dict.fortran_order)
    fail(source, "header field 'fortran_order': True is not supported; save a C-ordered array (np.ascontiguousarray)");
  NpyHeader h;
  h.major = p.major;
  h.minor = p.minor;
  h.descr = dict.descr;
  h.shape = dict.shape;
  h.loads_as = dt->loads_as;
  h.data_offset = p.prefix_bytes + p.header_bytes;
  std::uint64_t count = 1;
  bool overflow = false;
  for (std::int64_t extent : h.shape) overflow |= __builtin_mul_overflow(count, static_cast<std::uint64_t>(extent), &count);
  overflow |= count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!overflow) overflow |= __builtin_mul_overflow(count, static_cast<std::uint64_t>(dt->itemsize), &h.data_bytes);
  if (overflow) fail(source, "header field 'shape': ", shape_str(h.shape), " of ", h.descr, " overflows 64 bits");
  const std::uint64_t remaining = file_size - h.data_offset;
  if (h.data_bytes != remaining) {
    fail(source, "data: shape ", shape_str(h.shape), " of ", h.descr, " needs ", h.data_bytes, " bytes but ",
         remaining, " follow the header", remaining < h.data_bytes ? " (truncated?)" : " (trailing bytes)");
  }
  return h;
}

// Reads `bytes` bytes at `offset` of the file into `dst`.
using ByteReader = std::function<void(std::uint64_t offset, void* dst, std::size_t bytes)>;

NpyHeader read_header(const ByteReader& read, std::uint64_t file_size, const std::string& source) {
  std::string first(static_cast<std::size_t>(std::min<std::uint64_t>(file_size, kLongestPrefix)), '\0');
  read(0, first.data(), first.size());
  const Prefix p = parse_prefix(first, file_size, source);
  std::string text(static_cast<std::size_t>(p.header_bytes), '\0');
  read(p.prefix_bytes, text.data(), text.size());
  return parse_header(p, text, file_size, source);
}

template <typename In, typename Out>
void read_converted(const ByteReader& read, const NpyHeader& h, Out* dst) {
  constexpr std::size_t kChunk = 1 << 14;  // elements
  std::vector<In> chunk(kChunk);
  const std::uint64_t total = h.data_bytes / sizeof(In);
  for (std::uint64_t done = 0; done < total;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, total - done));
    read(h.data_offset + done * sizeof(In), chunk.data(), n * sizeof(In));
    for (std::size_t i = 0; i < n; ++i) dst[done + i] = static_cast<Out>(chunk[i]);
    done += n;
  }
}

Tensor read_data(const ByteReader& read, const NpyHeader& h) {
  Tensor out = Tensor::empty(h.shape, h.loads_as);
  if (h.data_bytes == 0) return out;
  if (h.descr == "|u1") {
    read_converted<std::uint8_t, float>(read, h, out.data<float>());
  } else if (h.descr == "<i4") {
    read_converted<std::int32_t, std::int64_t>(read, h, out.data<std::int64_t>());
  } else {
    read(h.data_offset, out.raw_data(), static_cast<std::size_t>(h.data_bytes));
  }
  return out;
}

// numpy's repr of a shape tuple: (), (5,), (2, 3).
std::string shape_tuple(const Shape& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += str_cat(i ? ", " : "", shape[i]);
  if (shape.size() == 1) out += ",";
  return out + ")";
}

}  // namespace

Tensor parse_npy(std::string_view bytes, const std::string& source_name) {
  const ByteReader read = [&](std::uint64_t offset, void* dst, std::size_t n) {
    std::memcpy(dst, bytes.data() + offset, n);  // in range: the header was checked against bytes.size()
  };
  const NpyHeader h = read_header(read, bytes.size(), source_name);
  return read_data(read, h);
}

Tensor load_npy(const std::string& path) {
  ReadOnlyFile file(path);
  const ByteReader read = [&](std::uint64_t offset, void* dst, std::size_t n) { file.read_at(offset, dst, n); };
  const NpyHeader h = read_header(read, file.size(), path);
  return read_data(read, h);
}

NpyHeader read_npy_header(const std::string& path) {
  ReadOnlyFile file(path);
  const ByteReader read = [&](std::uint64_t offset, void* dst, std::size_t n) { file.read_at(offset, dst, n); };
  return read_header(read, file.size(), path);
}

std::string serialize_npy(const Tensor& tensor) {
  SCEALD_CHECK(tensor.defined(), "serialize_npy: the tensor is undefined");
  SCEALD_CHECK(tensor.device().is_cpu(), "serialize_npy: the tensor is on ", tensor.device().str(),
               "; copy it to the CPU first (to(Device::cpu()))");
  // numpy's own layout (numpy.lib.format._write_array_header), so our files
  // equal numpy's byte for byte: the dict, spare spaces for the first axis to
  // grow to 21 digits, then spaces and '\n' up to a multiple of 64 bytes
  // (a whole 64 more when already aligned).
  const Shape& shape = tensor.shape();
  std::string dict = str_cat("{'descr': '", descr_of(tensor.dtype()), "', 'fortran_order': False, 'shape': ",
                             shape_tuple(shape), ", }");
  if (!shape.empty()) dict.append(21 - std::min<std::size_t>(21, std::to_string(shape[0]).size()), ' ');
  std::size_t prefix = 10;
  auto padded = [&] { return dict.size() + 1 + (64 - (prefix + dict.size() + 1) % 64); };
  if (padded() > 0xffff) prefix = 12;  // version 2.0: a 32-bit header length
  const std::size_t header_bytes = padded();
  dict.append(header_bytes - dict.size() - 1, ' ');
  dict += '\n';
  const Tensor data = tensor.contiguous();
  const std::size_t data_bytes = static_cast<std::size_t>(data.numel()) * dtype_size(data.dtype());
  std::string out;
  out.reserve(prefix + header_bytes + data_bytes);
  out.append(kMagic, kMagicBytes);
  out += static_cast<char>(prefix == 10 ? 1 : 2);
  out += '\0';
  for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((header_bytes >> (8 * i)) & 0xff);
  out += dict;
  if (data_bytes) out.append(static_cast<const char*>(data.raw_data()), data_bytes);
  return out;
}

void save_npy(const std::string& path, const Tensor& tensor) {
  const std::string bytes = serialize_npy(tensor);
  write_file_atomically(path, [&](std::ostream& os) { os.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace sceald::io
