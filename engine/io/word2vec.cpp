#include "engine/io/word2vec.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace sceald::io {

namespace {

constexpr std::size_t kMaxHeaderBytes = 256;
constexpr std::int64_t kMaxDim = 100000;
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

// Sequential bytes from a file (through a fixed buffer) or from memory, with
// look-ahead (ensure) so the format can be detected before anything is consumed.
class ByteStream {
 public:
  explicit ByteStream(const ReadOnlyFile* file) : file_(file), total_(file->size()) {}
  explicit ByteStream(std::string_view memory)
      : cur_(memory.data()), end_(memory.data() + memory.size()), total_(memory.size()) {}

  // Makes at least `n` bytes available at data() when the input still has
  // them; returns the number available (fewer than n only at the end).
  std::size_t ensure(std::size_t n) {
    if (available() >= n || file_ == nullptr) return available();
    const std::size_t have = available();
    if (buffer_.size() < std::max(n, kChunkBytes)) {
      std::vector<char> bigger(std::max(n, kChunkBytes));
      if (have > 0) std::memcpy(bigger.data(), cur_, have);
      buffer_.swap(bigger);
    } else if (have > 0) {
      std::memmove(buffer_.data(), cur_, have);
    }
    cur_ = buffer_.data();
    end_ = cur_ + have;
    const std::uint64_t left_in_file = total_ - file_pos_;
    const std::size_t room = buffer_.size() - have;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(room, left_in_file));
    if (want > 0) {
      file_->read_at(file_pos_, buffer_.data() + have, want);
      file_pos_ += want;
      end_ += want;
    }
    return available();
  }
  std::size_t available() const { return static_cast<std::size_t>(end_ - cur_); }
  const char* data() const { return cur_; }
  void consume(std::size_t n) {
    cur_ += n;
    offset_ += n;
  }
  std::uint64_t offset() const { return offset_; }  // bytes consumed so far
  std::uint64_t total() const { return total_; }
  bool at_end() { return ensure(1) == 0; }
  int peek() { return ensure(1) == 0 ? -1 : static_cast<unsigned char>(*cur_); }
  // Skips up to n bytes; returns how many were skipped (fewer only at the end).
  std::size_t skip(std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const std::size_t got = std::min(ensure(1) == 0 ? 0 : available(), n - done);
      if (got == 0) break;
      consume(got);
      done += got;
    }
    return done;
  }

 private:
  const ReadOnlyFile* file_ = nullptr;
  std::vector<char> buffer_;
  const char* cur_ = nullptr;
  const char* end_ = nullptr;
  std::uint64_t file_pos_ = 0;  // next file byte to buffer
  std::uint64_t offset_ = 0;
  std::uint64_t total_ = 0;
};

std::string printable(std::string_view s, std::size_t limit = 60) {
  std::string out;
  for (char ch : s.substr(0, limit)) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (u >= 0x20 && u != 0x7f) {
      out += ch;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  if (s.size() > limit) out += "...";
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// One decimal number occupying all of `token`, as float32 (a leading '+' is allowed).
bool parse_float(std::string_view token, float& value) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  if (token.empty()) return false;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  return ec == std::errc() && end == token.data() + token.size();
}

// Splits `line` at spaces and tabs (runs count as one), dropping a trailing '\r'.
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

class Reader {
 public:
  Reader(ByteStream& in, std::string source, const std::vector<std::string>& wanted, const WordVectorLoadOptions& opt)
      : in_(in), wanted_(wanted), opt_(opt) {
    out_.source = std::move(source);
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      SCEALD_CHECK(!wanted[i].empty(), where(), ": an empty word was asked for");
      SCEALD_CHECK(wanted_index_.emplace(wanted[i], i).second, where(), ": the word '", printable(wanted[i]),
                   "' is asked for twice");
    }
  }

  WordVectors run() {
    read_header();
    WordVectorFormat format = opt_.format;
    if (format == WordVectorFormat::Auto) format = detect_format();
    out_.format = format;
    if (!wanted_.empty()) {
      out_.words = wanted_;
      out_.values.assign(wanted_.size() * static_cast<std::size_t>(out_.dim), 0.0f);
      found_.assign(wanted_.size(), false);
    }
    bool stopped_early = false;
    for (std::int64_t i = 0; i < count_; ++i) {
      if (format == WordVectorFormat::Binary)
        read_binary_record(i);
      else
        read_text_record(i);
      if (!wanted_.empty() && found_count_ == wanted_.size() && opt_.stop_when_found) {
        stopped_early = true;
        break;
      }
    }
    if (!stopped_early) check_trailing();
    check_all_found();
    return std::move(out_);
  }

 private:
  std::string where() const { return str_cat("word2vec file '", out_.source, "'"); }
  std::string at_word(std::int64_t i, std::uint64_t offset) const {
    return str_cat(" (word ", i, " of ", count_, ", byte offset ", offset, ")");
  }
  [[noreturn]] void truncated(std::int64_t i, std::uint64_t record_offset, const std::string& what) const {
    throw Error(str_cat(where(), ": truncated: the file ends at byte ", in_.total(), " ", what, at_word(i, record_offset),
                        "; the header announces ", count_, " words of dimension ", out_.dim));
  }

  void read_header() {
    const std::size_t have = in_.ensure(kMaxHeaderBytes);
    const std::string_view head(in_.data(), have);
    const std::size_t nl = head.find('\n');
    SCEALD_CHECK(nl != std::string_view::npos, where(), ": no header line '<words> <dim>' in its first ",
                 kMaxHeaderBytes, " bytes (got '", printable(head), "'): not a word2vec file");
    const std::string_view line = head.substr(0, nl);
    const std::vector<std::string_view> fields = split_fields(line);
    std::int64_t values[2] = {-1, -1};
    bool ok = fields.size() == 2;
    for (std::size_t k = 0; ok && k < 2; ++k) {
      const auto [end, ec] = std::from_chars(fields[k].data(), fields[k].data() + fields[k].size(), values[k]);
      ok = ec == std::errc() && end == fields[k].data() + fields[k].size();
    }
    SCEALD_CHECK(ok, where(), ": the header must be '<words> <dim>', got '", printable(line),
                 "' (a GloVe text file has no header: add a first line with its word count and dimension)");
    count_ = values[0];
    out_.dim = values[1];
    out_.file_word_count = count_;
    SCEALD_CHECK(count_ >= 0, where(), ": the header's word count ", count_, " is negative");
    SCEALD_CHECK(out_.dim >= 1 && out_.dim <= kMaxDim, where(), ": the header's dimension ", out_.dim,
                 " is outside [1, ", kMaxDim, "]");
    in_.consume(nl + 1);
  }

  std::size_t max_text_line() const { return kMaxWordBytes + 64 * static_cast<std::size_t>(out_.dim) + 64; }

  // Text when the first record's line is printable ASCII holding a word and
  // `dim` more fields; binary otherwise (raw float32 bytes are almost never
  // all printable). The fields' values are checked later, with a message.
  WordVectorFormat detect_format() {
    if (count_ == 0) return WordVectorFormat::Text;
    const std::size_t have = in_.ensure(max_text_line() + 1);
    const std::string_view look(in_.data(), have);
    const std::size_t nl = look.find('\n');
    const std::string_view line = look.substr(0, nl == std::string_view::npos ? have : nl);
    if (line.size() > max_text_line()) return WordVectorFormat::Binary;
    const std::vector<std::string_view> fields = split_fields(line);
    if (static_cast<std::int64_t>(fields.size()) != out_.dim + 1) return WordVectorFormat::Binary;
    const std::size_t values_start = static_cast<std::size_t>(fields[1].data() - line.data());
    for (char ch : line.substr(values_start)) {
      const unsigned char u = static_cast<unsigned char>(ch);
      if (!(u >= 0x20 && u < 0x7f) && ch != '\t' && ch != '\r') return WordVectorFormat::Binary;
    }
    return WordVectorFormat::Text;
  }

  void check_word(std::string_view word, std::int64_t i, std::uint64_t offset) const {
    SCEALD_CHECK(!word.empty(), where(), ": empty word", at_word(i, offset));
    SCEALD_CHECK(word.size() <= kMaxWordBytes, where(), ": a word longer than ", kMaxWordBytes, " bytes",
                 at_word(i, offset));
    for (char ch : word) {
      const unsigned char u = static_cast<unsigned char>(ch);
      SCEALD_CHECK(u >= 0x20 && u != 0x7f, where(), ": word '", printable(word), "' holds the control byte ",
                   static_cast<int>(u), at_word(i, offset),
                   ": the file is corrupt, or its header's dimension or format is wrong");
    }
  }

  // The row for `word` if it is to be kept (nullptr otherwise); records it as found.
  float* destination(std::string_view word) {
    if (wanted_.empty()) {
      if (!seen_.insert(std::string(word)).second) return nullptr;  // a repeat: the first one counts
      out_.words.emplace_back(word);
      out_.values.resize(out_.values.size() + static_cast<std::size_t>(out_.dim));
      return out_.values.data() + out_.values.size() - out_.dim;
    }
    const auto it = wanted_index_.find(std::string(word));
    if (it == wanted_index_.end() || found_[it->second]) return nullptr;
    found_[it->second] = true;
    ++found_count_;
    return out_.values.data() + it->second * static_cast<std::size_t>(out_.dim);
  }

  void check_finite(const float* row, std::string_view word, std::int64_t i, std::uint64_t offset) const {
    for (std::int64_t k = 0; k < out_.dim; ++k)
      SCEALD_CHECK(std::isfinite(row[k]), where(), ": value ", k, " of word '", printable(word), "' is ", row[k],
                   at_word(i, offset));
  }

  void read_binary_record(std::int64_t i) {
    while (in_.peek() == '\n') in_.consume(1);  // the optional newline after the previous vector
    const std::uint64_t record_offset = in_.offset();
    const std::size_t have = in_.ensure(kMaxWordBytes + 1);
    if (have == 0) truncated(i, record_offset, "before the word");
    const std::string_view look(in_.data(), std::min(have, kMaxWordBytes + 1));
    const std::size_t space = look.find(' ');
    if (space == std::string_view::npos) {
      SCEALD_CHECK(look.size() <= kMaxWordBytes, where(), ": no space within ", kMaxWordBytes,
                   " bytes where a word should end", at_word(i, record_offset),
                   ": the file is corrupt, or its header's dimension or format is wrong");
      truncated(i, record_offset, "inside the word");
    }
    SCEALD_CHECK(space <= kMaxWordBytes, where(), ": a word longer than ", kMaxWordBytes, " bytes",
                 at_word(i, record_offset), ": the file is corrupt, or its header's dimension or format is wrong");
    const std::string word(look.substr(0, space));
    check_word(word, i, record_offset);
    in_.consume(space + 1);
    const std::size_t bytes = 4 * static_cast<std::size_t>(out_.dim);
    float* row = destination(word);
    if (row == nullptr) {
      if (in_.skip(bytes) != bytes) truncated(i, record_offset, str_cat("inside the vector of '", printable(word), "'"));
      return;
    }
    if (in_.ensure(bytes) < bytes) truncated(i, record_offset, str_cat("inside the vector of '", printable(word), "'"));
    std::memcpy(row, in_.data(), bytes);
    if constexpr (std::endian::native == std::endian::big) {
      for (std::int64_t k = 0; k < out_.dim; ++k) {
        std::uint32_t u;
        std::memcpy(&u, row + k, 4);
        u = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
        std::memcpy(row + k, &u, 4);
      }
    }
    in_.consume(bytes);
    check_finite(row, word, i, record_offset);
  }

  void read_text_record(std::int64_t i) {
    const std::uint64_t record_offset = in_.offset();
    const std::size_t limit = max_text_line();
    const std::size_t have = in_.ensure(limit + 1);
    if (have == 0) truncated(i, record_offset, "before the word's line");
    const std::string_view look(in_.data(), std::min(have, limit + 1));
    const std::size_t nl = look.find('\n');
    SCEALD_CHECK(nl != std::string_view::npos || look.size() <= limit, where(), ": a line longer than ", limit,
                 " bytes", at_word(i, record_offset), ": not a text word2vec file of dimension ", out_.dim);
    if (nl == std::string_view::npos)
      truncated(i, record_offset, "inside the line, with no newline after it (add one if the file is complete)");
    const std::string_view line = look.substr(0, nl);
    const std::vector<std::string_view> fields = split_fields(line);
    SCEALD_CHECK(!fields.empty(), where(), ": an empty line where a word should be", at_word(i, record_offset));
    const std::string word(fields[0]);
    check_word(word, i, record_offset);
    SCEALD_CHECK(static_cast<std::int64_t>(fields.size()) - 1 == out_.dim, where(), ": word '", printable(word),
                 "' has ", fields.size() - 1, " values, the header says ", out_.dim, at_word(i, record_offset));
    float* row = destination(word);
    if (row != nullptr) {
      for (std::int64_t k = 0; k < out_.dim; ++k)
        SCEALD_CHECK(parse_float(fields[static_cast<std::size_t>(k) + 1], row[k]), where(), ": value ", k,
                     " of word '", printable(word), "' is not a number: '",
                     printable(fields[static_cast<std::size_t>(k) + 1]), "'", at_word(i, record_offset));
      check_finite(row, word, i, record_offset);
    }
    in_.consume(nl + 1);
  }

  void check_trailing() {
    while (true) {
      const int c = in_.peek();
      if (c == -1) return;
      SCEALD_CHECK(c == '\n' || c == '\r' || c == ' ' || c == '\t', where(), ": data after the ", count_,
                   " words the header announces, at byte offset ", in_.offset(), " of ", in_.total(),
                   ": the header's word count is wrong");
      in_.consume(1);
    }
  }

  void check_all_found() const {
    if (wanted_.empty() || found_count_ == wanted_.size()) return;
    std::string missing;
    for (std::size_t k = 0; k < wanted_.size(); ++k)
      if (!found_[k]) missing += str_cat(missing.empty() ? "" : ", ", "'", printable(wanted_[k]), "'");
    throw Error(str_cat(where(), " has no vector for ", missing, " (it holds ", count_,
                        " words of dimension ", out_.dim, "; words are matched exactly, case included)"));
  }

  ByteStream& in_;
  const std::vector<std::string>& wanted_;
  WordVectorLoadOptions opt_;
  WordVectors out_;
  std::int64_t count_ = 0;
  std::unordered_map<std::string, std::size_t> wanted_index_;
  std::vector<bool> found_;
  std::size_t found_count_ = 0;
  std::unordered_set<std::string> seen_;
};

}  // namespace

std::span<const float> WordVectors::vector(std::int64_t index) const {
  SCEALD_CHECK(index >= 0 && index < size(), "word vectors '", source, "': index ", index, " is out of range [0, ",
               size(), ")");
  return {values.data() + index * dim, static_cast<std::size_t>(dim)};
}

std::optional<std::int64_t> WordVectors::index_of(const std::string& word) const {
  const auto it = std::find(words.begin(), words.end(), word);
  if (it == words.end()) return std::nullopt;
  return static_cast<std::int64_t>(it - words.begin());
}

std::span<const float> WordVectors::at(const std::string& word) const {
  const auto index = index_of(word);
  SCEALD_CHECK(index.has_value(), "word vectors '", source, "' have no vector for '", word, "'");
  return vector(*index);
}

Tensor WordVectors::to_tensor(DType dtype) const {
  SCEALD_CHECK(values.size() == words.size() * static_cast<std::size_t>(dim), "word vectors '", source,
               "': ", values.size(), " values for ", words.size(), " words of dimension ", dim);
  return Tensor::from_vector(values, {size(), dim}).to(dtype);
}

const char* word_vector_format_name(WordVectorFormat format) {
  switch (format) {
    case WordVectorFormat::Auto: return "auto";
    case WordVectorFormat::Binary: return "binary";
    case WordVectorFormat::Text: return "text";
  }
  return "?";
}

WordVectors load_word_vectors(const std::string& path, const std::vector<std::string>& wanted,
                              const WordVectorLoadOptions& options) {
  const ReadOnlyFile file(path);
  ByteStream in(&file);
  return Reader(in, path, wanted, options).run();
}

WordVectors parse_word_vectors(std::string_view bytes, const std::string& source_name,
                               const std::vector<std::string>& wanted, const WordVectorLoadOptions& options) {
  ByteStream in(bytes);
  return Reader(in, source_name, wanted, options).run();
}

namespace {
void check_writable(const WordVectors& v) {
  SCEALD_CHECK(v.dim >= 1 && v.values.size() == v.words.size() * static_cast<std::size_t>(v.dim),
               "word vectors '", v.source, "': cannot write ", v.values.size(), " values for ", v.words.size(),
               " words of dimension ", v.dim);
  for (const std::string& w : v.words) {
    SCEALD_CHECK(!w.empty(), "word vectors '", v.source, "': cannot write an empty word");
    for (char ch : w)
      SCEALD_CHECK(static_cast<unsigned char>(ch) > 0x20 && ch != 0x7f, "word vectors '", v.source,
                   "': cannot write the word '", printable(w), "' (spaces and control bytes are not allowed)");
  }
}
}  // namespace

std::string format_word_vectors_text(const WordVectors& vectors) {
  check_writable(vectors);
  std::string out = str_cat(vectors.size(), " ", vectors.dim, "\n");
  char buf[64];
  for (std::int64_t i = 0; i < vectors.size(); ++i) {
    out += vectors.words[static_cast<std::size_t>(i)];
    for (float x : vectors.vector(i)) {
      const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);  // shortest round-trip form
      out += ' ';
      out.append(buf, end);
    }
    out += '\n';
  }
  return out;
}

std::string format_word_vectors_binary(const WordVectors& vectors, bool newline_after_vector) {
  check_writable(vectors);
  std::string out = str_cat(vectors.size(), " ", vectors.dim, "\n");
  for (std::int64_t i = 0; i < vectors.size(); ++i) {
    out += vectors.words[static_cast<std::size_t>(i)];
    out += ' ';
    for (float x : vectors.vector(i)) {
      std::uint32_t u = std::bit_cast<std::uint32_t>(x);
      for (int b = 0; b < 4; ++b) out += static_cast<char>((u >> (8 * b)) & 0xffu);  // little-endian
    }
    if (newline_after_vector) out += '\n';
  }
  return out;
}

void save_word_vectors(const std::string& path, const WordVectors& vectors, WordVectorFormat format,
                       bool newline_after_vector) {
  const std::string bytes = format == WordVectorFormat::Binary
                                ? format_word_vectors_binary(vectors, newline_after_vector)
                                : format_word_vectors_text(vectors);
  write_file_atomically(path, [&](std::ostream& os) { os.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace sceald::io
