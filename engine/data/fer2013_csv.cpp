#include "engine/data/fer2013_csv.h"

#include <charconv>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "engine/data/ferplus.h"
#include "engine/data/reader_support.h"
#include "engine/error.h"

namespace sceald::data {

namespace {

using detail::join_path;

constexpr std::string_view kDataset = "FERPlus";
constexpr int kPixelCount = kFer2013Side * kFer2013Side;

std::string pixels_csv_path(const std::string& root) { return join_path(root, "fer2013.csv"); }
std::string votes_csv_path(const std::string& root) { return join_path(root, "fer2013new.csv"); }

Split usage_split(std::string_view text, const std::string& where, std::string_view field) {
  const std::string usage = detail::trim(text);
  if (usage == "Training") return Split::Train;
  if (usage == "PublicTest") return Split::Valid;
  if (usage == "PrivateTest") return Split::Test;
  throw Error(
      str_cat(where, ": field ", field, ": unknown Usage '", text, "' (expected Training, PublicTest or PrivateTest)"));
}

void expect_header(detail::LineReader& reader, const std::vector<std::string>& expected) {
  std::string joined;
  for (const std::string& name : expected) joined += (joined.empty() ? "" : ",") + name;
  std::string line;
  SCEALD_CHECK(reader.next(line), reader.path(), ": empty file; expected the header ", joined);
  const std::vector<std::string> header = detail::split_csv_line(line, reader.where());
  bool ok = header.size() == expected.size();
  for (std::size_t i = 0; ok && i < header.size(); ++i)
    ok = detail::to_lower(detail::trim(header[i])) == detail::to_lower(expected[i]);
  SCEALD_CHECK(ok, reader.where(), ": expected the header ", joined, ", got '", line, "'");
}

std::vector<std::string> votes_header() {
  std::vector<std::string> header = {"Usage", "Image name"};
  for (std::string_view column : kFerPlusColumns) header.emplace_back(column);
  return header;
}

// The next line that is not blank; false at the end of the file.
bool next_row(detail::LineReader& reader, std::string& line) {
  while (reader.next(line))
    if (!detail::trim(line).empty()) return true;
  return false;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// 2304 integers in 0..255 separated by spaces, row by row.
Image parse_pixels(std::string_view text, const std::string& where) {
  Image image(kFer2013Side, kFer2013Side, 1);
  const char* p = text.data();
  const char* const end = p + text.size();
  int count = 0;
  for (;;) {
    while (p < end && is_blank(*p)) ++p;
    if (p == end) break;
    unsigned value = 0;
    const auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc() || (next < end && !is_blank(*next)) || value > 255) {
      const char* token_end = p;
      while (token_end < end && !is_blank(*token_end)) ++token_end;
      throw Error(str_cat(where, ": field 2 (pixels): value ", count + 1, " is '", std::string_view(p, token_end - p),
                          "'; expected an integer in 0..255"));
    }
    if (count < kPixelCount) image.pixels[static_cast<std::size_t>(count)] = static_cast<std::uint8_t>(value);
    ++count;
    p = next;
  }
  SCEALD_CHECK(count == kPixelCount, where, ": field 2 (pixels): ", count, " values, expected ", kPixelCount, " (",
               kFer2013Side, "x", kFer2013Side, " grey)");
  return image;
}

// One row of the requested split, as both files give it.
struct JoinedRow {
  std::string name;
  FerPlusVotes votes{};
  int fer2013_label = -1;  // canonical order
  std::shared_ptr<const Image> image;
};

}  // namespace

bool has_fer2013_csv(const std::string& root) { return detail::is_regular_file(pixels_csv_path(root)); }

Dataset open_fer2013_csv(const DatasetOptions& options) {
  const std::string pixels_csv = pixels_csv_path(options.root);
  const std::string votes_csv = votes_csv_path(options.root);
  if (!detail::is_regular_file(votes_csv))
    detail::throw_expected(kDataset, "fer2013new.csv (FERPlus's votes) beside fer2013.csv", options.root);

  Dataset ds;
  ds.name = "ferplus";
  ds.split = options.split;
  ds.root = options.root;
  DatasetReport& report = ds.report;
  report.notes.push_back(str_cat("read ", pixels_csv, " joined row by row with ", votes_csv));

  detail::LineReader pixels_reader(pixels_csv);
  detail::LineReader votes_reader(votes_csv);
  expect_header(pixels_reader, {"emotion", "pixels", "Usage"});
  expect_header(votes_reader, votes_header());

  std::vector<JoinedRow> rows;
  std::string pixels_line, votes_line;
  for (;;) {
    const bool has_pixels = next_row(pixels_reader, pixels_line);
    const bool has_votes = next_row(votes_reader, votes_line);
    if (!has_pixels && !has_votes) break;
    if (has_pixels != has_votes) {
      const detail::LineReader& ended = has_pixels ? votes_reader : pixels_reader;
      const detail::LineReader& longer = has_pixels ? pixels_reader : votes_reader;
      throw Error(str_cat("FERPlus: ", ended.path(), " ends after line ", ended.line_number(), " but ", longer.path(),
                          " has a row at line ", longer.line_number(),
                          ": the two files must hold the same rows in the same order"));
    }
    const std::string votes_where = votes_reader.where();
    const std::string pixels_where = pixels_reader.where();
    const std::vector<std::string> vote_fields = detail::split_csv_line(votes_line, votes_where);
    SCEALD_CHECK(vote_fields.size() == 2 + kFerPlusVoteColumns, votes_where,
                 ": expected 12 fields (Usage, Image name, 10 votes), got ", vote_fields.size());
    const std::vector<std::string> pixel_fields = detail::split_csv_line(pixels_line, pixels_where);
    SCEALD_CHECK(pixel_fields.size() == 3, pixels_where, ": expected 3 fields (emotion, pixels, Usage), got ",
                 pixel_fields.size());
    const Split split = usage_split(vote_fields[0], votes_where, "1 (Usage)");
    SCEALD_CHECK(usage_split(pixel_fields[2], pixels_where, "3 (Usage)") == split, pixels_where,
                 ": field 3 (Usage) is '", detail::trim(pixel_fields[2]), "' but ", votes_where, " says '",
                 detail::trim(vote_fields[0]), "': the rows of the two files must correspond one to one");
    if (split != options.split) continue;

    JoinedRow row;
    row.name = detail::trim(vote_fields[1]);
    row.votes = parse_ferplus_votes(vote_fields, 2, votes_where);
    row.fer2013_label = parse_fer2013_label(pixel_fields[0], pixels_where, "1 (emotion)");
    row.image = std::make_shared<const Image>(parse_pixels(pixel_fields[1], pixels_where));
    rows.push_back(std::move(row));
  }

  // From here on, the rules of ferplus.h's reader, in its order.
  std::unordered_map<std::string, int> copies;
  for (const JoinedRow& row : rows) ++copies[row.name];
  std::int64_t ties = 0;
  std::vector<std::string> duplicates;
  std::unordered_set<std::string> listed;
  for (JoinedRow& row : rows) {
    ++report.entries_read;
    if (row.name.empty()) {
      ++report.dropped["no image name"];
      continue;
    }
    if (copies[row.name] > 1) {
      if (listed.insert(row.name).second) duplicates.push_back(row.name);
      ++report.dropped["duplicate name"];
      continue;
    }
    const FerPlusVerdict verdict = ferplus_verdict(row.votes, options.labels);
    ties += verdict.tied;
    if (verdict.label < 0) {
      ++report.dropped[verdict.drop_reason];
      continue;
    }
    Sample sample;
    sample.id = row.name;
    sample.path = pixels_csv;
    sample.label = options.labels == FerPlusLabels::Fer2013 ? row.fer2013_label : verdict.label;
    sample.distribution = verdict.distribution;
    sample.image = std::move(row.image);
    ds.samples.push_back(std::move(sample));
  }
  if (ties > 0)
    report.notes.push_back(str_cat(ties,
                                   " rows have a tied plurality; the first maximal column "
                                   "in fer2013new.csv's order was taken"));
  if (!duplicates.empty()) report.notes.push_back(ferplus_duplicates_note(duplicates, votes_csv));
  return ds;
}

std::vector<Split> fer2013_csv_splits(const std::string& root) {
  const std::string votes_csv = votes_csv_path(root);
  if (!detail::is_regular_file(votes_csv))
    detail::throw_expected(kDataset, "fer2013new.csv (FERPlus's votes) beside fer2013.csv", root);
  detail::LineReader reader(votes_csv);
  expect_header(reader, votes_header());
  bool present[3] = {false, false, false};
  std::string line;
  while (next_row(reader, line)) {
    const std::string where = reader.where();
    const std::vector<std::string> fields = detail::split_csv_line(line, where);
    present[static_cast<int>(usage_split(fields[0], where, "1 (Usage)"))] = true;
  }
  std::vector<Split> splits;
  for (Split s : {Split::Train, Split::Valid, Split::Test})
    if (present[static_cast<int>(s)]) splits.push_back(s);
  SCEALD_CHECK(!splits.empty(), votes_csv, ": no rows after the header");
  return splits;
}

}  // namespace sceald::data
