#include "engine/data/rafdb.h"

#include <sstream>

#include "engine/data/reader_support.h"
#include "engine/error.h"

namespace sceald::data {

namespace {

using detail::join_path;

constexpr std::string_view kDataset = "RAF-DB";

std::string list_path(const std::string& root) {
  for (const char* name : {"EmoLabel/list_patition_label.txt", "EmoLabel/list_partition_label.txt"}) {
    const std::string path = join_path(root, name);
    if (detail::is_regular_file(path)) return path;
  }
  const bool inside_emolabel = detail::is_regular_file(join_path(root, "list_patition_label.txt"));
  detail::throw_expected(kDataset, "EmoLabel/list_patition_label.txt", root,
                         inside_emolabel ? "this looks like the EmoLabel folder: give its parent as the data root" : "");
}

struct ListEntry {
  std::string name;
  Split split;
  int label;
};

std::vector<ListEntry> read_list(const std::string& path) {
  std::vector<ListEntry> entries;
  detail::LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    if (detail::trim(line).empty()) continue;
    const std::string where = reader.where();
    std::istringstream fields(line);
    std::string name, label_text, extra;
    fields >> name >> label_text;
    SCEALD_CHECK(!label_text.empty() && !(fields >> extra), where,
                 ": expected two fields separated by a space (image name, label 1..7), got '", line, "'");
    const std::int64_t value = detail::parse_int_field(label_text, where, "2 (label)");
    SCEALD_CHECK(value >= 1 && value <= kNumExpressions, where, ": field 2 (label): unknown label ", value,
                 " (RAF-DB's basic labels are 1..7)");
    Split split;
    if (name.rfind("train_", 0) == 0) {
      split = Split::Train;
    } else if (name.rfind("test_", 0) == 0) {
      split = Split::Test;
    } else {
      throw Error(str_cat(where, ": field 1 (image name): '", name, "' starts with neither train_ nor test_"));
    }
    entries.push_back({name, split, static_cast<int>(value - 1)});
  }
  return entries;
}

// train_00001.jpg -> train_00001_aligned.jpg
std::string aligned_name(const std::string& name) {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string::npos) return name + "_aligned";
  return name.substr(0, dot) + "_aligned" + name.substr(dot);
}

}  // namespace

std::vector<Split> rafdb_splits(const std::string& root) {
  const std::vector<ListEntry> entries = read_list(list_path(root));
  bool train = false, test = false;
  for (const ListEntry& e : entries) (e.split == Split::Train ? train : test) = true;
  std::vector<Split> splits;
  if (train) splits.push_back(Split::Train);
  if (test) splits.push_back(Split::Test);
  return splits;
}

Dataset open_rafdb(const DatasetOptions& options) {
  const std::string list = list_path(options.root);
  const std::string image_folder = join_path(options.root, "Image/aligned");
  if (!detail::is_directory(image_folder)) detail::throw_expected(kDataset, "Image/aligned/", options.root);

  Dataset ds;
  ds.name = "rafdb";
  ds.split = options.split;
  ds.root = options.root;
  // RAF-DB ships train and test only; `valid` stands for the test list.
  const Split wanted = options.split == Split::Valid ? Split::Test : options.split;
  if (options.split == Split::Valid)
    ds.report.notes.push_back("RAF-DB has no validation split: 'valid' reads the test images");

  for (const ListEntry& e : read_list(list)) {
    if (e.split != wanted) continue;
    ++ds.report.entries_read;
    Sample sample;
    sample.id = e.name;
    sample.path = join_path(image_folder, aligned_name(e.name));
    sample.label = e.label;
    if (options.check_files && !detail::is_regular_file(sample.path)) {
      ++ds.report.dropped["no image file"];
      ds.report.missing_files.push_back(sample.path);
      continue;
    }
    ds.samples.push_back(std::move(sample));
  }
  SCEALD_CHECK(ds.report.entries_read > 0, kDataset, ": ", list, " lists no ", split_name(wanted), "_ images");
  return ds;
}

}  // namespace sceald::data
