#include "engine/data/folder_dataset.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "engine/data/reader_support.h"
#include "engine/error.h"

namespace sceald::data {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDataset = "folder dataset";
constexpr std::string_view kExpected =
    "class folders (surprise, fear, disgust, happiness, sadness, anger, neutral or synonyms) or split folders "
    "(train, valid, test)";

std::optional<Split> split_from_folder_name(const std::string& name) {
  const std::string n = detail::to_lower(name);
  if (n == "train" || n == "training") return Split::Train;
  if (n == "valid" || n == "val" || n == "validation") return Split::Valid;
  if (n == "test" || n == "testing") return Split::Test;
  return std::nullopt;
}

std::vector<std::string> subfolders(const std::string& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec)) names.push_back(it->path().filename().string());
  }
  SCEALD_CHECK(!ec, kDataset, ": cannot list ", folder, ": ", ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

// Split folders by split: name(s) found for each.
std::array<std::vector<std::string>, 3> split_folders(const std::string& root) {
  std::array<std::vector<std::string>, 3> found;
  for (const std::string& name : subfolders(root))
    if (const auto split = split_from_folder_name(name)) found[static_cast<int>(*split)].push_back(name);
  return found;
}

bool has_class_folder(const std::string& folder) {
  for (const std::string& name : subfolders(folder))
    if (expression_from_name(name)) return true;
  return false;
}

bool is_image_name(const std::string& name) {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  const std::string ext = detail::to_lower(name.substr(dot + 1));
  return ext == "jpg" || ext == "jpeg" || ext == "png";
}

void read_class_folders(const std::string& base, Dataset& ds) {
  for (const std::string& name : subfolders(base)) {
    const std::optional<int> label = expression_from_name(name);
    const std::string folder = detail::join_path(base, name);
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string file = it->path().filename().string();
      if (file.empty() || file[0] == '.') continue;
      std::error_code type_ec;
      if (it->is_directory(type_ec)) {
        ds.report.problems.push_back(str_cat("sub-folder ", it->path().string(), " ignored (class folders hold image files only)"));
        continue;
      }
      ++ds.report.entries_read;
      if (!is_image_name(file)) {
        ++ds.report.dropped["not an image file"];
        continue;
      }
      if (!label) {
        ++ds.report.dropped[str_cat("folder '", name, "'")];
        continue;
      }
      Sample sample;
      sample.id = name + "/" + file;
      sample.path = it->path().string();
      sample.label = *label;
      ds.samples.push_back(std::move(sample));
    }
    SCEALD_CHECK(!ec, kDataset, ": cannot list ", folder, ": ", ec.message());
  }
  std::sort(ds.samples.begin(), ds.samples.end(), [](const Sample& a, const Sample& b) { return a.id < b.id; });
}

}  // namespace

std::vector<Split> folder_dataset_splits(const std::string& root) {
  if (!detail::is_directory(root)) detail::throw_expected(kDataset, kExpected, root);
  const auto found = split_folders(root);
  std::vector<Split> splits;
  for (Split s : {Split::Train, Split::Valid, Split::Test})
    if (!found[static_cast<int>(s)].empty()) splits.push_back(s);
  if (!splits.empty()) return splits;
  if (has_class_folder(root)) return {Split::Train};
  detail::throw_expected(kDataset, kExpected, root);
}

Dataset open_folder_dataset(const DatasetOptions& options) {
  const std::string& root = options.root;
  if (!detail::is_directory(root)) detail::throw_expected(kDataset, kExpected, root);
  Dataset ds;
  ds.name = "folder";
  ds.split = options.split;
  ds.root = root;

  const auto found = split_folders(root);
  const bool split_layout = std::any_of(found.begin(), found.end(), [](const auto& v) { return !v.empty(); });
  std::string base;
  if (split_layout) {
    const std::vector<std::string>& names = found[static_cast<int>(options.split)];
    if (names.empty())
      detail::throw_expected(kDataset,
                             str_cat("a folder for split '", split_name(options.split), "' (",
                                     options.split == Split::Train   ? "train or training"
                                     : options.split == Split::Valid ? "valid, val or validation"
                                                                     : "test or testing",
                                     ")"),
                             root);
    SCEALD_CHECK(names.size() == 1, kDataset, ": several folders under ", root, " name split '",
                 split_name(options.split), "': ", names[0], " and ", names[1], "; keep one");
    base = detail::join_path(root, names[0]);
    if (has_class_folder(root))
      ds.report.problems.push_back(str_cat(root, " holds both split folders and class folders; the class folders at the top are ignored"));
  } else {
    if (!has_class_folder(root)) detail::throw_expected(kDataset, kExpected, root);
    base = root;
    ds.report.notes.push_back(str_cat("flat layout (no split folders): the same images serve every split, including '",
                                      split_name(options.split), "'"));
  }
  read_class_folders(base, ds);
  if (split_layout && ds.report.entries_read == 0)
    detail::throw_expected(kDataset, "class folders holding images", base);
  return ds;
}

}  // namespace sceald::data
