// Small pieces the dataset readers share: CSV lines with quoted fields,
// numbers parsed with errors that name the file, line and field, and folder
// listings for "expected X under ROOT; found: a, b, c" errors.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace sceald::data::detail {

// Reads a text file line by line: strips a trailing '\r' (files written on
// Windows) and a UTF-8 byte-order mark on the first line. Throws naming the
// path when the file cannot be opened.
class LineReader {
 public:
  explicit LineReader(std::string path);
  // False at the end of the file.
  bool next(std::string& line);
  int line_number() const { return line_number_; }
  const std::string& path() const { return path_; }
  // "path:line", for error messages.
  std::string where() const;

 private:
  std::string path_;
  std::ifstream in_;
  int line_number_ = 0;
};

// The fields of one CSV line. A field that starts with '"' runs to the next
// lone '"' and may hold commas; '""' inside it is one quote. Throws on an
// unterminated quote or text after a closing quote, naming `where`.
std::vector<std::string> split_csv_line(std::string_view line, const std::string& where);

// Whole-field integer / finite number (surrounding spaces allowed); throws
// "<where>: field <field>: expected an integer, got 'x'".
std::int64_t parse_int_field(std::string_view text, const std::string& where, std::string_view field);
double parse_number_field(std::string_view text, const std::string& where, std::string_view field);

std::string trim(std::string_view text);
std::string to_lower(std::string_view text);

bool is_regular_file(const std::string& path);
bool is_directory(const std::string& path);

// What a folder holds, for error messages: up to `max_names` sorted entry
// names ("a, b/, c, ... (12 more)", folders marked with '/'), "nothing (empty
// folder)", or why it cannot be listed ("the folder does not exist").
std::string folder_listing(const std::string& folder, int max_names = 12);

// Throws "<dataset>: expected <what> under <root>; found: <listing>", or
// "<dataset>: data root <root> does not exist" when the root is missing.
[[noreturn]] void throw_expected(std::string_view dataset, std::string_view what, const std::string& root,
                                 std::string_view hint = {});

// root + "/" + relative, without doubling separators.
std::string join_path(const std::string& root, std::string_view relative);

}  // namespace sceald::data::detail
