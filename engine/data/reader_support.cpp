#include "engine/data/reader_support.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "engine/error.h"

namespace sceald::data::detail {

namespace fs = std::filesystem;

LineReader::LineReader(std::string path) : path_(std::move(path)), in_(path_, std::ios::binary) {
  SCEALD_CHECK(in_.is_open(), "cannot open ", path_,
               is_regular_file(path_) ? " (not readable)" : " (no such file)");
}

bool LineReader::next(std::string& line) {
  if (!std::getline(in_, line)) {
    SCEALD_CHECK(!in_.bad(), "error reading ", path_, " after line ", line_number_);
    return false;
  }
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line_number_ == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
  return true;
}

std::string LineReader::where() const { return str_cat(path_, ":", line_number_); }

std::vector<std::string> split_csv_line(std::string_view line, const std::string& where) {
  std::vector<std::string> fields;
  std::size_t i = 0;
  while (true) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      const std::size_t open = i++;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field += line[i++];
      }
      SCEALD_CHECK(closed, where, ": unterminated quote in field ", fields.size() + 1, " (column ", open + 1, ")");
      SCEALD_CHECK(i == line.size() || line[i] == ',', where, ": text after the closing quote of field ",
                   fields.size() + 1, " (column ", i + 1, ")");
    } else {
      const std::size_t comma = line.find(',', i);
      const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
      field.assign(line.substr(i, end - i));
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // the comma
    if (i == line.size()) {
      fields.emplace_back();  // a trailing comma ends with an empty field
      break;
    }
  }
  return fields;
}

std::string trim(std::string_view text) {
  std::size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  return std::string(text.substr(b, e - b));
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::int64_t parse_int_field(std::string_view text, const std::string& where, std::string_view field) {
  const std::string t = trim(text);
  std::int64_t value = 0;
  const char* first = t.data();
  if (!t.empty() && t[0] == '+') ++first;
  const auto [end, ec] = std::from_chars(first, t.data() + t.size(), value);
  SCEALD_CHECK(!t.empty() && ec == std::errc() && end == t.data() + t.size(), where, ": field ", field,
               ": expected an integer, got '", text, "'");
  return value;
}

double parse_number_field(std::string_view text, const std::string& where, std::string_view field) {
  const std::string t = trim(text);
  double value = 0;
  const char* first = t.data();
  if (!t.empty() && t[0] == '+') ++first;
  const auto [end, ec] = std::from_chars(first, t.data() + t.size(), value);
  SCEALD_CHECK(!t.empty() && ec == std::errc() && end == t.data() + t.size() && std::isfinite(value), where,
               ": field ", field, ": expected a number, got '", text, "'");
  return value;
}

bool is_regular_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

std::string folder_listing(const std::string& folder, int max_names) {
  std::error_code ec;
  if (!fs::exists(folder, ec)) return "the folder does not exist";
  if (!fs::is_directory(folder, ec)) return "it is not a folder";
  std::vector<std::string> names;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    names.push_back(it->path().filename().string() + (it->is_directory(type_ec) ? "/" : ""));
  }
  if (ec) return str_cat("the folder cannot be listed (", ec.message(), ")");
  if (names.empty()) return "nothing (empty folder)";
  std::sort(names.begin(), names.end());
  std::string out;
  const std::size_t shown = std::min(names.size(), static_cast<std::size_t>(max_names));
  for (std::size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += str_cat(", ... (", names.size() - shown, " more)");
  return out;
}

void throw_expected(std::string_view dataset, std::string_view what, const std::string& root, std::string_view hint) {
  std::error_code ec;
  if (!fs::exists(root, ec)) throw Error(str_cat(dataset, ": data root ", root, " does not exist"));
  throw Error(str_cat(dataset, ": expected ", what, " under ", root, "; found: ", folder_listing(root),
                      hint.empty() ? "" : " (", hint, hint.empty() ? "" : ")"));
}

std::string join_path(const std::string& root, std::string_view relative) {
  if (root.empty()) return std::string(relative);
  if (root.back() == '/') return root + std::string(relative);
  return root + "/" + std::string(relative);
}

}  // namespace sceald::data::detail
