#include "engine/data/affectnet.h"

#include <cmath>

#include "engine/data/reader_support.h"
#include "engine/error.h"

namespace sceald::data {

namespace {

using detail::join_path;

constexpr std::string_view kDataset = "AffectNet";

// The columns the reader uses, in the release's order (no-header files).
enum Column { kPath, kFaceX, kFaceY, kFaceWidth, kFaceHeight, kExpression, kNumColumns };
constexpr std::array<std::string_view, kNumColumns> kColumnNames = {
    "subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "expression"};
constexpr std::array<int, kNumColumns> kDefaultIndex = {0, 1, 2, 3, 4, 6};
constexpr int kReleaseFieldCount = 9;

std::string csv_name(Split split) { return split == Split::Train ? "training.csv" : "validation.csv"; }

// The CSV for `split`, or "" when absent.
std::string find_csv(const std::string& root, Split split) {
  for (const char* folder : {"", "Manually_Annotated_file_lists/"}) {
    const std::string path = join_path(root, str_cat(folder, csv_name(split)));
    if (detail::is_regular_file(path)) return path;
  }
  return "";
}

const char* drop_reason(std::int64_t code) {
  switch (code) {
    case 7: return "contempt";
    case 8: return "none";
    case 9: return "uncertain";
    case 10: return "no-face";
    default: return nullptr;
  }
}

// Maps each used column to its field index, from a header or the default order.
std::array<int, kNumColumns> columns_from_header(const std::vector<std::string>& header, const std::string& where) {
  std::array<int, kNumColumns> index{};
  for (int c = 0; c < kNumColumns; ++c) {
    index[c] = -1;
    for (std::size_t f = 0; f < header.size(); ++f)
      if (detail::to_lower(detail::trim(header[f])) == detail::to_lower(kColumnNames[c])) index[c] = static_cast<int>(f);
    SCEALD_CHECK(index[c] >= 0, where, ": the header has no column ", kColumnNames[c],
                 " (needed: subDirectory_filePath, face_x, face_y, face_width, face_height, expression)");
  }
  return index;
}

std::optional<CropBox> parse_face_box(const std::vector<std::string>& fields, const std::array<int, kNumColumns>& col,
                                      const std::string& where) {
  const int first = kFaceX;
  bool all_empty = true;
  for (int c = first; c <= kFaceHeight; ++c) all_empty = all_empty && detail::trim(fields[col[c]]).empty();
  if (all_empty) return std::nullopt;
  std::array<int, 4> v{};
  for (int c = first; c <= kFaceHeight; ++c)
    v[c - first] = static_cast<int>(std::lround(detail::parse_number_field(fields[col[c]], where, kColumnNames[c])));
  SCEALD_CHECK(v[2] > 0 && v[3] > 0, where, ": the face box is empty (face_width ", v[2], ", face_height ", v[3], ")");
  return CropBox{v[0], v[1], v[2], v[3]};
}

// A header names at least one of the columns; a data row never does.
bool is_header(const std::vector<std::string>& fields) {
  for (const std::string& f : fields)
    for (std::string_view name : kColumnNames)
      if (detail::to_lower(detail::trim(f)) == detail::to_lower(name)) return true;
  return false;
}

}  // namespace

std::vector<Split> affectnet_splits(const std::string& root) {
  std::vector<Split> splits;
  for (Split s : {Split::Train, Split::Valid})
    if (!find_csv(root, s).empty()) splits.push_back(s);
  if (splits.empty()) detail::throw_expected(kDataset, "training.csv or validation.csv", root);
  return splits;
}

Dataset open_affectnet(const DatasetOptions& options) {
  const std::string csv = find_csv(options.root, options.split);
  if (csv.empty())
    detail::throw_expected(kDataset, str_cat(csv_name(options.split), " (split '", split_name(options.split), "')"),
                           options.root);

  Dataset ds;
  ds.name = "affectnet";
  ds.split = options.split;
  ds.root = options.root;
  DatasetReport& report = ds.report;
  if (options.split == Split::Test)
    report.notes.push_back("AffectNet publishes no test labels: 'test' reads validation.csv, the same images as 'valid'");

  const std::string annotated = join_path(options.root, "Manually_Annotated_Images");
  const std::string image_base = detail::is_directory(annotated) ? annotated : options.root;
  if (image_base != annotated)
    report.notes.push_back(str_cat("no Manually_Annotated_Images/ folder: image paths are taken relative to ", options.root));

  detail::LineReader reader(csv);
  std::string line;
  std::array<int, kNumColumns> col = kDefaultIndex;
  bool has_header = false;
  bool first = true;
  while (reader.next(line)) {
    if (detail::trim(line).empty()) continue;
    const std::string where = reader.where();
    const std::vector<std::string> fields = detail::split_csv_line(line, where);
    if (first) {
      first = false;
      if (is_header(fields)) {
        col = columns_from_header(fields, where);
        has_header = true;
        continue;
      }
    }
    if (has_header) {
      int needed = 0;
      for (int c : col) needed = std::max(needed, c + 1);
      SCEALD_CHECK(static_cast<int>(fields.size()) >= needed, where, ": expected at least ", needed,
                   " fields as the header names, got ", fields.size());
    } else {
      SCEALD_CHECK(fields.size() == kReleaseFieldCount, where, ": expected ", kReleaseFieldCount,
                   " fields (subDirectory_filePath, face_x, face_y, face_width, face_height, facial_landmarks, "
                   "expression, valence, arousal), got ",
                   fields.size(), reader.line_number() == 1 ? " (and the line is not the header either)" : "");
    }
    ++report.entries_read;
    const std::int64_t code = detail::parse_int_field(fields[col[kExpression]], where, "expression");
    SCEALD_CHECK(code >= 0 && code <= 10, where, ": field expression: unknown expression code ", code,
                 " (AffectNet's codes are 0..10)");
    if (const char* reason = drop_reason(code)) {
      ++report.dropped[reason];
      continue;
    }
    const std::string relative = detail::trim(fields[col[kPath]]);
    SCEALD_CHECK(!relative.empty(), where, ": field subDirectory_filePath is empty");
    Sample sample;
    sample.id = relative;
    sample.path = join_path(image_base, relative);
    sample.label = kAffectNetToCanonical[static_cast<std::size_t>(code)];
    sample.crop = parse_face_box(fields, col, where);
    if (options.check_files && !detail::is_regular_file(sample.path)) {
      ++report.dropped["no image file"];
      report.missing_files.push_back(sample.path);
      continue;
    }
    ds.samples.push_back(std::move(sample));
  }
  return ds;
}

}  // namespace sceald::data
