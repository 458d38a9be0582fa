#include "engine/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/io/half.h"
#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace sceald::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this reader copies it as is");

namespace {

// ---------------------------------------------------------------- dtypes

struct StDType {
  const char* name;  // as spelled in the header
  std::size_t size;  // bytes per element in the file
  DType loads_as;
};

constexpr StDType kDTypes[] = {
    {"F32", 4, DType::Float32}, {"F64", 8, DType::Float64}, {"I64", 8, DType::Int64},
    {"F16", 2, DType::Float32}, {"BF16", 2, DType::Float32}, {"I32", 4, DType::Int64},
    {"I16", 2, DType::Int64},   {"I8", 1, DType::Int64},     {"U8", 1, DType::Int64},
    {"BOOL", 1, DType::Int64},
};

const StDType* find_dtype(const std::string& name) {
  for (const StDType& d : kDTypes)
    if (name == d.name) return &d;
  return nullptr;
}

const char* file_dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
  }
  return "?";
}


// ---------------------------------------------------------------- errors

template <typename... Args>
[[noreturn]] void fail(const std::string& source, const Args&... args) {
  throw Error(str_cat("safetensors file '", source, "': ", args...));
}

// A short, printable rendering of a header string for error messages.
std::string shown(const std::string& s) {
  constexpr std::size_t kMax = 60;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += str_cat("\\x", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) out += "...";
  return out + "'";
}

std::string list_str(const std::vector<std::uint64_t>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += str_cat(i ? ", " : "", v[i]);
  return out + "]";
}

// ---------------------------------------------------------------- header

struct Entry {
  std::string name;
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::vector<std::uint64_t> offsets;
  std::set<std::string> keys;  // keys seen in this entry, to refuse duplicates
};

struct Header {
  std::vector<Entry> entries;  // in header order
  std::map<std::string, std::string> metadata;
};

// Reads the header with nlohmann's SAX interface instead of building a DOM:
// the structure is checked as it streams by, so duplicate keys are caught
// (a DOM keeps the last one silently), and memory stays proportional to what
// is kept (names, shapes, offsets), whatever the header holds.
class HeaderReader final : public nlohmann::json::json_sax_t {
 public:
  explicit HeaderReader(const std::string& source) : source_(source) {}
  Header take() { return std::move(header_); }

  bool null() override { return scalar("null"); }
  bool boolean(bool v) override { return scalar(v ? "true" : "false"); }
  bool number_integer(number_integer_t v) override { return scalar(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override {
    if (state_ == State::List) {
      list_->push_back(v);
      return true;
    }
    return scalar(std::to_string(v));
  }
  bool number_float(number_float_t, const string_t& text) override { return scalar(text); }
  bool binary(binary_t&) override { return scalar("binary data"); }
  bool string(string_t& v) override {
    if (state_ == State::Entry && field_ == "dtype") {
      header_.entries.back().dtype = v;
      return true;
    }
    if (state_ == State::Metadata) {
      header_.metadata[metadata_key_] = v;
      return true;
    }
    return scalar("the string " + shown(v));
  }

  bool start_object(std::size_t) override { return open(true); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    switch (state_) {
      case State::Top:
        if (k == "__metadata__") {
          if (seen_metadata_) fail(source_, "duplicate key: '__metadata__' appears twice in the header");
          seen_metadata_ = true;
          in_metadata_ = true;
        } else {
          if (!names_.insert(k).second)
            fail(source_, "duplicate tensor name: ", shown(k), " appears twice in the header");
          in_metadata_ = false;
          name_ = k;
        }
        return true;
      case State::Entry:
        if (!header_.entries.back().keys.insert(k).second)
          fail(source_, "duplicate key: ", shown(k), " appears twice in the entry of tensor ", shown(name_));
        field_ = k;
        return true;
      case State::Metadata:
        if (header_.metadata.count(k))
          fail(source_, "duplicate key: ", shown(k), " appears twice in __metadata__");
        metadata_key_ = k;
        return true;
      default:
        return true;  // keys inside a skipped value
    }
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    fail(source_, "the header is not valid JSON (near byte ", position, " of the header): ", ex.what());
  }

 private:
  enum class State { Start, Top, Entry, Metadata, List, Skip, Done };

  // A scalar value where the current state expects one (or tolerates any).
  bool scalar(const std::string& what) {
    switch (state_) {
      case State::Start: fail(source_, "the header is not a JSON object: it is ", what);
      case State::Top: not_an_object(what);
      case State::Entry: entry_value(what); return true;
      case State::Metadata:
        fail(source_, "__metadata__ is not an object of strings: the value of ", shown(metadata_key_), " is ", what);
      case State::List: bad_list(what);
      default: return true;  // Skip
    }
  }

  bool open(bool object) {
    const char* what = object ? "an object" : "a list";
    switch (state_) {
      case State::Start:
        if (!object) fail(source_, "the header is not a JSON object: it is a list");
        state_ = State::Top;
        return true;
      case State::Top:
        if (!object) not_an_object(what);
        if (in_metadata_) {
          state_ = State::Metadata;
        } else {
          header_.entries.push_back(Entry{name_, {}, {}, {}, {}});
          state_ = State::Entry;
        }
        return true;
      case State::Entry:
        if (!object && (field_ == "shape" || field_ == "data_offsets")) {
          list_ = field_ == "shape" ? &header_.entries.back().shape : &header_.entries.back().offsets;
          state_ = State::List;
          return true;
        }
        entry_value(what);
        skip_depth_ = 1;  // an unknown field holding a container: skip it whole
        state_ = State::Skip;
        return true;
      case State::Metadata:
        fail(source_, "__metadata__ is not an object of strings: the value of ", shown(metadata_key_), " is ", what);
      case State::List: bad_list(what);
      case State::Skip: ++skip_depth_; return true;
      case State::Done: return true;
    }
    return true;
  }

  bool close() {
    switch (state_) {
      case State::Top: state_ = State::Done; return true;
      case State::Entry: finish_entry(); state_ = State::Top; return true;
      case State::Metadata: state_ = State::Top; return true;
      case State::List:
        if (list_ == &header_.entries.back().offsets && list_->size() != 2) {
          fail(source_, "data_offsets of tensor ", shown(name_), " is not two non-negative integers: it is ",
               list_str(*list_));
        }
        state_ = State::Entry;
        return true;
      case State::Skip:
        if (--skip_depth_ == 0) state_ = State::Entry;
        return true;
      default: return true;
    }
  }

  // A value for field_ in an entry that is not a list.
  void entry_value(const std::string& what) {
    if (field_ == "dtype") fail(source_, "the dtype of tensor ", shown(name_), " is not a string: it is ", what);
    if (field_ == "shape")
      fail(source_, "the shape of tensor ", shown(name_), " is not a list of non-negative integers: it is ", what);
    if (field_ == "data_offsets")
      fail(source_, "data_offsets of tensor ", shown(name_), " is not two non-negative integers: it is ", what);
    // Other fields are ignored, as the reference reader does.
  }

  [[noreturn]] void bad_list(const std::string& what) {
    if (list_ == &header_.entries.back().shape)
      fail(source_, "the shape of tensor ", shown(name_), " is not a list of non-negative integers: it holds ", what);
    fail(source_, "data_offsets of tensor ", shown(name_), " is not two non-negative integers: it holds ", what);
  }

  [[noreturn]] void not_an_object(const std::string& what) {
    if (in_metadata_) fail(source_, "__metadata__ is not an object of strings: it is ", what);
    fail(source_, "the entry of tensor ", shown(name_), " is not an object: it is ", what);
  }

  void finish_entry() {
    const Entry& e = header_.entries.back();
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!e.keys.count(field)) fail(source_, "the entry of tensor ", shown(e.name), " is missing '", field, "'");
  }

  const std::string& source_;
  Header header_;
  State state_ = State::Start;
  std::set<std::string> names_;
  bool seen_metadata_ = false;
  bool in_metadata_ = false;
  std::string name_;          // the tensor whose entry is being read
  std::string field_;         // the current key inside that entry
  std::string metadata_key_;  // the current key inside __metadata__
  std::vector<std::uint64_t>* list_ = nullptr;
  int skip_depth_ = 0;
};

Header parse_header(const std::string& json, const std::string& source) {
  // nlohmann's lexer takes a NUL byte for the end of input and would ignore
  // whatever follows it; JSON has no place for one outside strings, where
  // control characters are refused anyway.
  if (std::size_t nul = json.find('\0'); nul != std::string::npos)
    fail(source, "the header is not valid JSON: it holds a NUL byte at byte ", nul, " of the header");
  HeaderReader reader(source);
  nlohmann::json::sax_parse(json, &reader);
  return reader.take();
}

// ---------------------------------------------------------------- validation

struct Layout {
  const std::string* name;
  const StDType* dtype;
  Shape shape;
  std::uint64_t begin, end;
};

// Checks every entry against the buffer of `buffer_bytes` bytes; returns them
// sorted by data offset.
std::vector<Layout> validate(const Header& header, std::uint64_t buffer_bytes, const std::string& source) {
  std::vector<Layout> out;
  out.reserve(header.entries.size());
  for (const Entry& e : header.entries) {
    const StDType* dt = find_dtype(e.dtype);
    if (!dt) {
      fail(source, "unsupported dtype ", shown(e.dtype), " for tensor ", shown(e.name),
           " (supported: F32, F64, I64, F16, BF16, I32, I16, I8, U8, BOOL)");
    }
    const std::uint64_t begin = e.offsets[0], end = e.offsets[1];
    if (begin > end)
      fail(source, "data_offsets of tensor ", shown(e.name), " begin after they end: ", list_str(e.offsets));
    // Element count of the non-zero extents must fit int64 (what a Tensor can
    // count); the byte size must fit 64 bits. Both checked, not assumed.
    std::uint64_t nonzero_product = 1, bytes = 0;
    bool overflow = false, has_zero = false;
    for (std::uint64_t extent : e.shape) {
      if (extent == 0) has_zero = true;
      else overflow |= __builtin_mul_overflow(nonzero_product, extent, &nonzero_product);
    }
    overflow |= nonzero_product > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (!overflow) {
      const std::uint64_t numel = has_zero ? 0 : nonzero_product;
      overflow |= __builtin_mul_overflow(numel, static_cast<std::uint64_t>(dt->size), &bytes);
    }
    if (overflow) {
      fail(source, "the byte size of tensor ", shown(e.name), " overflows: shape ", list_str(e.shape), " of ",
           dt->name);
    }
    if (bytes != end - begin) {
      fail(source, "the byte size does not match the shape for tensor ", shown(e.name), ": data_offsets ",
           list_str(e.offsets), " span ", end - begin, " bytes, but shape ", list_str(e.shape), " of ", dt->name,
           " needs ", bytes);
    }
    if (end > buffer_bytes) {
      fail(source, "tensor ", shown(e.name), " reaches past the end of the data buffer: data_offsets ",
           list_str(e.offsets), ", but the buffer has ", buffer_bytes, " bytes");
    }
    Shape shape(e.shape.begin(), e.shape.end());
    out.push_back(Layout{&e.name, dt, std::move(shape), begin, end});
  }
  std::stable_sort(out.begin(), out.end(), [](const Layout& a, const Layout& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t expected = 0;
  const std::string* previous = nullptr;
  for (const Layout& l : out) {
    if (l.begin != expected) {
      if (!previous) {
        fail(source, "the data offsets are not contiguous: the first tensor, ", shown(*l.name), ", begins at byte ",
             l.begin, ", not 0");
      }
      fail(source, "the data offsets are not contiguous: tensor ", shown(*l.name), " begins at byte ", l.begin,
           " but the previous tensor, ", shown(*previous), ", ends at byte ", expected,
           l.begin > expected ? " (a gap)" : " (an overlap)");
    }
    expected = l.end;
    previous = l.name;
  }
  if (expected != buffer_bytes) {
    fail(source, "trailing bytes: the tensors end at byte ", expected, " of the data buffer, but ",
         buffer_bytes - expected, " more bytes follow");
  }
  return out;
}

// ---------------------------------------------------------------- loading

// Reads `bytes` bytes at `offset` of the data buffer into `dst`.
using BufferReader = std::function<void(std::uint64_t offset, void* dst, std::size_t bytes)>;

template <typename Out, typename Convert>
void read_converted(const BufferReader& read, const Layout& l, Out* dst, Convert convert) {
  constexpr std::size_t kChunkBytes = 1 << 16;
  const std::size_t size = l.dtype->size;
  std::vector<unsigned char> chunk(kChunkBytes);
  std::uint64_t done = 0, total = l.end - l.begin;
  while (done < total) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, total - done));
    read(l.begin + done, chunk.data(), n);
    for (std::size_t i = 0; i < n; i += size) *dst++ = convert(chunk.data() + i);
    done += n;
  }
}

template <typename T>
T load_le(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T>
std::int64_t widen_le(const unsigned char* p) {
  return load_le<T>(p);
}

Tensor load_tensor(const Layout& l, const BufferReader& read) {
  using Bytes = const unsigned char*;
  Tensor t = Tensor::empty(l.shape, l.dtype->loads_as);
  const std::string name = l.dtype->name;
  if (name == "F32" || name == "F64" || name == "I64") {  // stored as loaded: one read
    if (l.end > l.begin) read(l.begin, t.raw_data(), static_cast<std::size_t>(l.end - l.begin));
    return t;
  }
  if (name == "F16" || name == "BF16") {
    float* out = t.data<float>();
    if (name == "F16") read_converted(read, l, out, [](Bytes p) { return half_to_float(load_le<std::uint16_t>(p)); });
    else read_converted(read, l, out, [](Bytes p) { return bfloat16_to_float(load_le<std::uint16_t>(p)); });
    return t;
  }
  std::int64_t* out = t.data<std::int64_t>();
  if (name == "I32") read_converted(read, l, out, widen_le<std::int32_t>);
  else if (name == "I16") read_converted(read, l, out, widen_le<std::int16_t>);
  else if (name == "I8") read_converted(read, l, out, widen_le<std::int8_t>);
  else if (name == "U8") read_converted(read, l, out, widen_le<std::uint8_t>);
  else read_converted(read, l, out, [](Bytes p) -> std::int64_t { return *p != 0; });  // BOOL: non-zero is true
  return t;
}

std::uint64_t read_u64_le(const void* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Checks the file size and header length before anything is allocated.
void check_prefix(std::uint64_t file_bytes, std::uint64_t header_bytes, const std::string& source) {
  if (header_bytes > kSafetensorsMaxHeaderBytes) {
    fail(source, "the header length ", header_bytes, " exceeds the limit of ", kSafetensorsMaxHeaderBytes,
         " bytes (is this a safetensors file?)");
  }
  if (header_bytes > file_bytes - 8) {
    fail(source, "the header length ", header_bytes, " runs past the end of the file (only ", file_bytes - 8,
         " bytes follow the 8-byte length)");
  }
}

[[noreturn]] void too_short(std::uint64_t file_bytes, const std::string& source) {
  fail(source, "the file is shorter than 8 bytes (it has ", file_bytes,
       "), so it cannot hold the header length");
}

SafetensorsFile load(const std::string& header_json, std::uint64_t buffer_bytes, const BufferReader& read,
                     const std::string& source) {
  Header header = parse_header(header_json, source);
  std::vector<Layout> layouts = validate(header, buffer_bytes, source);
  SafetensorsFile file;
  file.source = source;
  file.metadata = std::move(header.metadata);
  file.tensors.reserve(layouts.size());
  for (const Layout& l : layouts) file.tensors.emplace_back(*l.name, load_tensor(l, read));
  return file;
}

// ---------------------------------------------------------------- saving

// The padded header for `tensors`, after checking that each can be saved.
std::string make_header(const std::vector<std::pair<std::string, Tensor>>& tensors,
                        const std::map<std::string, std::string>& metadata, const std::string& context) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    SCEALD_CHECK(name != "__metadata__", context, ": '__metadata__' is reserved and cannot name a tensor");
    SCEALD_CHECK(names.insert(name).second, context, ": the tensor name ", shown(name), " is given twice");
    SCEALD_CHECK(t.defined(), context, ": tensor ", shown(name), " is undefined");
    SCEALD_CHECK(t.device().is_cpu(), context, ": tensor ", shown(name), " is ", t.str(),
                 "; copy it to the CPU first (.to(Device::cpu()))");
    std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * dtype_size(t.dtype());
    std::vector<std::uint64_t> shape(t.shape().begin(), t.shape().end());
    header[name] = {{"dtype", file_dtype_name(t.dtype())},
                    {"shape", shape},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string json;
  try {
    json = header.dump();
  } catch (const nlohmann::json::exception& ex) {
    throw Error(str_cat(context, ": tensor names and metadata must be valid UTF-8: ", ex.what()));
  }
  json.append((8 - json.size() % 8) % 8, ' ');
  return json;
}

template <typename T>
void write_values(std::ostream& os, const Tensor& t) {
  std::vector<T> values = t.to_vector<T>();
  os.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(T)));
}

void write_file(std::ostream& os, const std::string& header,
                const std::vector<std::pair<std::string, Tensor>>& tensors) {
  char length[8];
  const std::uint64_t n = header.size();
  std::memcpy(length, &n, 8);
  os.write(length, 8);
  os.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& [name, t] : tensors) {
    if (t.numel() == 0) continue;
    if (t.is_contiguous()) {
      os.write(static_cast<const char*>(t.raw_data()),
               static_cast<std::streamsize>(static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype())));
      continue;
    }
    switch (t.dtype()) {
      case DType::Float32: write_values<float>(os, t); break;
      case DType::Float64: write_values<double>(os, t); break;
      case DType::Int64: write_values<std::int64_t>(os, t); break;
    }
  }
}

}  // namespace

const Tensor* SafetensorsFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

const std::string& SafetensorsFile::metadata_at(const std::string& key) const {
  const auto it = metadata.find(key);
  if (it != metadata.end()) return it->second;
  std::string keys;
  for (const auto& [k, v] : metadata) keys += str_cat(keys.empty() ? "" : ", ", shown(k));
  throw Error(str_cat("safetensors file '", source, "': no ", shown(key), " in its __metadata__",
                      keys.empty() ? std::string(" (it has none)") : " (it has " + keys + ")"));
}

const Tensor& SafetensorsFile::at(const std::string& name) const {
  if (const Tensor* t = find(name)) return *t;
  std::string names;
  for (std::size_t i = 0; i < tensors.size() && i < 8; ++i) names += str_cat(i ? ", " : "", shown(tensors[i].first));
  if (tensors.size() > 8) names += str_cat(", ... (", tensors.size(), " in all)");
  throw Error(str_cat("safetensors file '", source, "': no tensor named ", shown(name),
                      tensors.empty() ? std::string(" (it holds no tensors)") : " (it holds " + names + ")"));
}

SafetensorsFile load_safetensors(const std::string& path) {
  ReadOnlyFile file(path);
  const std::uint64_t file_bytes = file.size();
  if (file_bytes < 8) too_short(file_bytes, path);
  unsigned char prefix[8];
  file.read_at(0, prefix, 8);
  const std::uint64_t header_bytes = read_u64_le(prefix);
  check_prefix(file_bytes, header_bytes, path);
  std::string header(static_cast<std::size_t>(header_bytes), '\0');
  file.read_at(8, header.data(), header.size());
  const std::uint64_t data_start = 8 + header_bytes;
  return load(
      header, file_bytes - data_start,
      [&](std::uint64_t offset, void* dst, std::size_t bytes) { file.read_at(data_start + offset, dst, bytes); }, path);
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& source_name) {
  if (bytes.size() < 8) too_short(bytes.size(), source_name);
  const std::uint64_t header_bytes = read_u64_le(bytes.data());
  check_prefix(bytes.size(), header_bytes, source_name);
  const std::uint64_t data_start = 8 + header_bytes;
  return load(
      bytes.substr(8, static_cast<std::size_t>(header_bytes)), bytes.size() - data_start,
      [&](std::uint64_t offset, void* dst, std::size_t n) { std::memcpy(dst, bytes.data() + data_start + offset, n); },
      source_name);
}

std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  const std::string header = make_header(tensors, metadata, "serialize_safetensors");
  std::ostringstream os;
  write_file(os, header, tensors);
  return std::move(os).str();
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string header = make_header(tensors, metadata, str_cat("save_safetensors '", path, "'"));
  write_file_atomically(path, [&](std::ostream& os) { write_file(os, header, tensors); });
}

}  // namespace sceald::io
