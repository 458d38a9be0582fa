#include "engine/data/ferplus.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "engine/data/fer2013_csv.h"
#include "engine/data/reader_support.h"
#include "engine/error.h"

namespace sceald::data {

namespace {

using detail::join_path;

constexpr std::string_view kDataset = "FERPlus";

struct LabelRow {
  std::string name;
  FerPlusVotes votes{};
  int line = 0;
};

std::vector<LabelRow> read_label_csv(const std::string& path) {
  std::vector<LabelRow> rows;
  detail::LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    if (detail::trim(line).empty()) continue;
    const std::string where = reader.where();
    const std::vector<std::string> fields = detail::split_csv_line(line, where);
    SCEALD_CHECK(fields.size() == 2 + kFerPlusVoteColumns, where, ": expected 12 fields (name, face box, 10 votes), got ",
                 fields.size(), (fields.size() > 12 ? " (is the face box quoted?)" : ""));
    LabelRow row;
    row.name = detail::trim(fields[0]);
    row.line = reader.line_number();
    SCEALD_CHECK(!row.name.empty(), where, ": field 1 (name) is empty");
    row.votes = parse_ferplus_votes(fields, 2, where);
    rows.push_back(std::move(row));
  }
  return rows;
}

// What fer2013_label.csv says about one image: a canonical label, or the
// reason it has none usable.
struct Fer2013Entry {
  int label = -1;
  std::string drop_reason;  // "tied_conflict", "unmatched", "duplicate name"
};

std::unordered_map<std::string, Fer2013Entry> read_fer2013_labels(const std::string& path) {
  std::unordered_map<std::string, Fer2013Entry> entries;
  detail::LineReader reader(path);
  std::string line;
  SCEALD_CHECK(reader.next(line), path, ": empty file; expected the header name,fer2013_label,rmse,status");
  {
    const std::vector<std::string> header = detail::split_csv_line(line, reader.where());
    const std::vector<std::string> expected = {"name", "fer2013_label", "rmse", "status"};
    bool ok = header.size() == expected.size();
    for (std::size_t i = 0; ok && i < header.size(); ++i) ok = detail::to_lower(detail::trim(header[i])) == expected[i];
    SCEALD_CHECK(ok, reader.where(), ": expected the header name,fer2013_label,rmse,status, got '", line, "'");
  }
  while (reader.next(line)) {
    if (detail::trim(line).empty()) continue;
    const std::string where = reader.where();
    const std::vector<std::string> fields = detail::split_csv_line(line, where);
    SCEALD_CHECK(fields.size() == 4, where, ": expected 4 fields (name, fer2013_label, rmse, status), got ",
                 fields.size());
    const std::string name = detail::trim(fields[0]);
    SCEALD_CHECK(!name.empty(), where, ": field 1 (name) is empty");
    const std::string status = detail::trim(fields[3]);
    Fer2013Entry entry;
    if (status == "unique" || status == "tied_same_label") {
      entry.label = parse_fer2013_label(fields[1], where, "2 (fer2013_label)");
    } else if (status == "tied_conflict" || status == "unmatched") {
      entry.drop_reason = status;
    } else {
      throw Error(str_cat(where, ": field 4 (status): unknown status '", fields[3],
                          "' (expected unique, tied_same_label, tied_conflict or unmatched)"));
    }
    const auto [it, inserted] = entries.emplace(name, entry);
    if (!inserted) it->second = Fer2013Entry{-1, "duplicate name"};
  }
  return entries;
}

}  // namespace

FerPlusVotes parse_ferplus_votes(const std::vector<std::string>& fields, std::size_t first, const std::string& where) {
  SCEALD_CHECK(fields.size() >= first + kFerPlusVoteColumns, where, ": expected ", kFerPlusVoteColumns,
               " vote fields from field ", first + 1, ", got ", fields.size(), " fields in all");
  FerPlusVotes votes{};
  for (int c = 0; c < kFerPlusVoteColumns; ++c) {
    const std::size_t index = first + static_cast<std::size_t>(c);
    const std::string field = str_cat(index + 1, " (votes for ", kFerPlusColumns[c], ")");
    const std::int64_t v = detail::parse_int_field(fields[index], where, field);
    SCEALD_CHECK(v >= 0 && v <= 1000000, where, ": field ", field,
                 ": a vote count must be a small non-negative integer, got ", v);
    votes[c] = static_cast<int>(v);
  }
  return votes;
}

int parse_fer2013_label(const std::string& text, const std::string& where, std::string_view field) {
  const std::string t = detail::trim(text);
  if (!t.empty() && t.find_first_not_of("0123456789") == std::string::npos) {
    const std::int64_t v = detail::parse_int_field(t, where, field);
    SCEALD_CHECK(v >= 0 && v < kNumExpressions, where, ": field ", field, ": unknown label '", text,
                 "' (FER2013's labels are 0..6)");
    return kFer2013ToCanonical[static_cast<std::size_t>(v)];
  }
  const std::optional<int> label = expression_from_name(t);
  SCEALD_CHECK(label.has_value(), where, ": field ", field, ": unknown label '", text,
               "' (expected 0..6 in FER2013's order or a class name such as anger, happiness, neutral)");
  return *label;
}

FerPlusVerdict ferplus_verdict(const FerPlusVotes& votes, FerPlusLabels mode) {
  FerPlusVerdict verdict;
  int column = ferplus_plurality_column(votes);
  if (votes[column] == 0) {
    verdict.drop_reason = "no votes";
    return verdict;
  }
  if (mode == FerPlusLabels::Majority) {
    // FERPlus's reference code: single votes are outliers; the rest must give one column more than half.
    FerPlusVotes kept = votes;
    int sum = 0;
    for (int& v : kept) sum += v = v > 1 ? v : 0;
    column = ferplus_plurality_column(kept);
    if (2 * kept[column] <= sum) {
      verdict.drop_reason = "no majority";
      return verdict;
    }
  } else {
    for (int c = column + 1; c < kFerPlusVoteColumns; ++c) verdict.tied = verdict.tied || votes[c] == votes[column];
  }
  if (column >= kNumExpressions) {
    verdict.drop_reason = std::string(kFerPlusColumns[column]);
    return verdict;
  }
  verdict.label = kFerPlusToCanonical[column];
  verdict.distribution = *ferplus_distribution(votes);  // non-empty: a kept column holds the maximum
  return verdict;
}

std::string ferplus_duplicates_note(const std::vector<std::string>& names, const std::string& source) {
  if (names.empty()) return "";
  std::string listed;
  for (std::size_t i = 0; i < names.size() && i < 10; ++i) listed += (i ? ", " : "") + names[i];
  return str_cat(names.size(), " image names appear on several lines of ", source, " and were dropped: ", listed,
                 names.size() > 10 ? ", ..." : "");
}

int ferplus_plurality_column(const FerPlusVotes& votes) {
  int best = 0;
  for (int c = 1; c < kFerPlusVoteColumns; ++c)
    if (votes[c] > votes[best]) best = c;  // strict: ties keep the first column
  return best;
}

std::optional<std::array<float, kNumExpressions>> ferplus_distribution(const FerPlusVotes& votes) {
  std::int64_t sum = 0;
  for (int c = 0; c < kNumExpressions; ++c) sum += votes[c];
  if (sum == 0) return std::nullopt;
  std::array<float, kNumExpressions> d{};
  for (int c = 0; c < kNumExpressions; ++c)
    d[kFerPlusToCanonical[c]] = static_cast<float>(static_cast<double>(votes[c]) / static_cast<double>(sum));
  return d;
}

std::string_view ferplus_split_folder(Split split) {
  switch (split) {
    case Split::Train: return "FER2013Train";
    case Split::Valid: return "FER2013Valid";
    case Split::Test: return "FER2013Test";
  }
  return "?";
}

std::vector<Split> ferplus_splits(const std::string& root) {
  std::vector<Split> splits;
  for (Split s : {Split::Train, Split::Valid, Split::Test})
    if (detail::is_regular_file(join_path(join_path(root, ferplus_split_folder(s)), "label.csv"))) splits.push_back(s);
  if (has_fer2013_csv(root)) {  // open_ferplus reads a split without its folder from the CSV files
    for (Split s : fer2013_csv_splits(root))
      if (std::find(splits.begin(), splits.end(), s) == splits.end()) splits.push_back(s);
    std::sort(splits.begin(), splits.end());
  }
  if (splits.empty()) {
    const bool is_split_folder = detail::is_regular_file(join_path(root, "label.csv"));
    detail::throw_expected(kDataset,
                           "FER2013Train/label.csv, FER2013Valid/label.csv, FER2013Test/label.csv, or fer2013.csv "
                           "with fer2013new.csv",
                           root,
                           is_split_folder ? "this looks like one split folder: give its parent as the data root" : "");
  }
  return splits;
}

Dataset open_ferplus(const DatasetOptions& options) {
  const std::string folder = join_path(options.root, ferplus_split_folder(options.split));
  const std::string label_csv = join_path(folder, "label.csv");
  if (!detail::is_regular_file(label_csv)) {
    if (has_fer2013_csv(options.root)) return open_fer2013_csv(options);
    const bool is_split_folder = detail::is_regular_file(join_path(options.root, "label.csv"));
    detail::throw_expected(kDataset,
                           str_cat(ferplus_split_folder(options.split), "/label.csv (split '",
                                   split_name(options.split), "'), or fer2013.csv with fer2013new.csv"),
                           options.root,
                           is_split_folder ? "this looks like one split folder: give its parent as the data root" : "");
  }

  Dataset ds;
  ds.name = "ferplus";
  ds.split = options.split;
  ds.root = options.root;
  DatasetReport& report = ds.report;

  const std::vector<LabelRow> rows = read_label_csv(label_csv);
  std::unordered_map<std::string, int> copies;
  for (const LabelRow& row : rows) ++copies[row.name];

  std::unordered_map<std::string, Fer2013Entry> fer2013;
  const bool use_fer2013 = options.labels == FerPlusLabels::Fer2013;
  if (use_fer2013) {
    const std::string path = join_path(folder, "fer2013_label.csv");
    if (!detail::is_regular_file(path))
      detail::throw_expected(kDataset, "fer2013_label.csv beside label.csv for --labels fer2013", folder);
    fer2013 = read_fer2013_labels(path);
  }

  std::int64_t ties = 0;
  std::vector<std::string> duplicates;
  std::unordered_set<std::string> listed;
  for (const LabelRow& row : rows) {
    ++report.entries_read;
    const auto drop = [&](const std::string& reason) { ++report.dropped[reason]; };
    if (copies[row.name] > 1) {
      if (listed.insert(row.name).second) duplicates.push_back(row.name);
      drop("duplicate name");
      continue;
    }
    const FerPlusVerdict verdict = ferplus_verdict(row.votes, options.labels);
    ties += verdict.tied;
    if (verdict.label < 0) {
      drop(verdict.drop_reason);
      continue;
    }
    Sample sample;
    sample.id = row.name;
    sample.path = join_path(folder, row.name);
    sample.label = verdict.label;
    sample.distribution = verdict.distribution;
    if (use_fer2013) {
      const auto it = fer2013.find(row.name);
      if (it == fer2013.end()) {
        drop("no fer2013 label");
        continue;
      }
      if (it->second.label < 0) {
        drop(it->second.drop_reason);
        continue;
      }
      sample.label = it->second.label;
    }
    if (options.check_files && !detail::is_regular_file(sample.path)) {
      drop("no image file");
      report.missing_files.push_back(sample.path);
      continue;
    }
    ds.samples.push_back(std::move(sample));
  }
  if (ties > 0)
    report.notes.push_back(str_cat(ties, " rows have a tied plurality; the first maximal column in label.csv's order was taken"));
  if (!duplicates.empty()) report.notes.push_back(ferplus_duplicates_note(duplicates, label_csv));
  return ds;
}

}  // namespace sceald::data
