#include "engine/data/dataset.h"

#include "engine/data/affectnet.h"
#include "engine/data/ferplus.h"
#include "engine/data/folder_dataset.h"
#include "engine/data/rafdb.h"
#include "engine/data/reader_support.h"
#include "engine/data/synthetic.h"
#include "engine/error.h"

namespace sceald::data {

std::int64_t DatasetReport::dropped_total() const {
  std::int64_t total = 0;
  for (const auto& [reason, count] : dropped) total += count;
  return total;
}

std::array<std::int64_t, kNumExpressions> Dataset::class_counts() const {
  std::array<std::int64_t, kNumExpressions> counts{};
  for (const Sample& s : samples) {
    SCEALD_CHECK(s.label >= 0 && s.label < kNumExpressions, "Dataset::class_counts: sample ", s.id, " has label ",
                 s.label, ", outside 0..", kNumExpressions - 1);
    ++counts[static_cast<std::size_t>(s.label)];
  }
  return counts;
}

namespace {

void check_root(const DatasetOptions& options) {
  SCEALD_CHECK(!options.root.empty(), dataset_kind_name(options.kind), ": no data root given");
}

}  // namespace

Dataset open_dataset(const DatasetOptions& options) {
  // The synthetic set finds (or generates) its own folder when no root is given.
  if (options.kind == DatasetKind::Synthetic) return open_synthetic_dataset(options);
  check_root(options);
  switch (options.kind) {
    case DatasetKind::FerPlus: return open_ferplus(options);
    case DatasetKind::RafDb: return open_rafdb(options);
    case DatasetKind::AffectNet: return open_affectnet(options);
    case DatasetKind::Folder: return open_folder_dataset(options);
    case DatasetKind::Synthetic: break;
  }
  throw Error(str_cat("open_dataset: unknown dataset kind ", static_cast<int>(options.kind)));
}

std::vector<Split> available_splits(const DatasetOptions& options) {
  if (options.kind == DatasetKind::Synthetic) return {Split::Train, Split::Valid, Split::Test};
  check_root(options);
  switch (options.kind) {
    case DatasetKind::FerPlus: return ferplus_splits(options.root);
    case DatasetKind::RafDb: return rafdb_splits(options.root);
    case DatasetKind::AffectNet: return affectnet_splits(options.root);
    case DatasetKind::Folder: return folder_dataset_splits(options.root);
    case DatasetKind::Synthetic: break;
  }
  throw Error(str_cat("available_splits: unknown dataset kind ", static_cast<int>(options.kind)));
}

std::string_view dataset_kind_name(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::FerPlus: return "ferplus";
    case DatasetKind::RafDb: return "rafdb";
    case DatasetKind::AffectNet: return "affectnet";
    case DatasetKind::Folder: return "folder";
    case DatasetKind::Synthetic: return "synthetic";
  }
  return "?";
}

std::string_view split_name(Split split) {
  switch (split) {
    case Split::Train: return "train";
    case Split::Valid: return "valid";
    case Split::Test: return "test";
  }
  return "?";
}

std::string_view ferplus_labels_name(FerPlusLabels labels) {
  switch (labels) {
    case FerPlusLabels::Plurality: return "plurality";
    case FerPlusLabels::Fer2013: return "fer2013";
    case FerPlusLabels::Majority: return "majority";
    case FerPlusLabels::Votes: return "votes";
  }
  return "?";
}

DatasetKind parse_dataset_kind(std::string_view name) {
  const std::string n = detail::to_lower(name);
  if (n == "ferplus" || n == "fer+" || n == "fer-plus") return DatasetKind::FerPlus;
  if (n == "rafdb" || n == "raf-db" || n == "raf") return DatasetKind::RafDb;
  if (n == "affectnet") return DatasetKind::AffectNet;
  if (n == "folder") return DatasetKind::Folder;
  if (n == "synthetic") return DatasetKind::Synthetic;
  throw Error(str_cat("unknown dataset '", name, "' (choose ferplus, rafdb, affectnet, folder or synthetic)"));
}

Split parse_split(std::string_view name) {
  const std::string n = detail::to_lower(name);
  if (n == "train" || n == "training") return Split::Train;
  if (n == "valid" || n == "val" || n == "validation") return Split::Valid;
  if (n == "test" || n == "testing") return Split::Test;
  throw Error(str_cat("unknown split '", name, "' (choose train, valid or test)"));
}

FerPlusLabels parse_ferplus_labels(std::string_view name) {
  const std::string n = detail::to_lower(name);
  if (n == "plurality") return FerPlusLabels::Plurality;
  if (n == "fer2013") return FerPlusLabels::Fer2013;
  if (n == "majority") return FerPlusLabels::Majority;
  if (n == "votes") return FerPlusLabels::Votes;
  throw Error(str_cat("unknown FERPlus label mode '", name, "' (choose plurality, majority, votes or fer2013)"));
}

}  // namespace sceald::data
