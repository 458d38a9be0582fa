// `sceald dataset check`, the library side: opens every split of a dataset
// (or one), stats every image file, optionally decodes every image, and
// gathers what a user wants to know before training: samples per class and
// split, what was dropped and why, missing and undecodable files, image
// sizes, and statistics of the label distributions (FERPlus: mean vote
// entropy, how often the plurality agrees with the original FER2013 label).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace sceald::data {

struct CheckOptions {
  bool decode = true;  // decode every image (in parallel), not only stat it
  // Called from the calling thread now and then while decoding, and once at
  // the end with done == total.
  std::function<void(Split split, std::int64_t done, std::int64_t total)> progress;
};

struct UndecodableFile {
  std::string path;
  std::string reason;
};

struct DistributionStats {
  std::int64_t samples = 0;             // samples carrying a distribution
  double mean_entropy_bits = 0;         // mean entropy of the 7-class distributions, in bits (at most log2 7 = 2.81)
  double mean_label_share = 0;          // mean probability the distribution gives the sample's label
  std::int64_t fer2013_compared = 0;    // FERPlus: images with both a plurality and a usable FER2013 label
  std::int64_t fer2013_agreeing = 0;    //          ... whose two labels are the same class
  double fer2013_agreement() const {
    return fer2013_compared ? static_cast<double>(fer2013_agreeing) / static_cast<double>(fer2013_compared) : 0.0;
  }
};

struct SplitCheck {
  Split split = Split::Train;
  Dataset dataset;  // opened with check_files: missing files are in dataset.report.missing_files
  bool decoded = false;
  std::vector<UndecodableFile> undecodable;
  std::map<std::string, std::int64_t> image_formats;  // "48x48 grey" -> images (when decoded)
  std::int64_t crops_reaching_outside = 0;            // face boxes not inside their image (when decoded)
  DistributionStats distribution;
  std::vector<std::string> problems;  // the dataset's own problems and the check's
  bool ok() const { return dataset.report.missing_files.empty() && undecodable.empty() && problems.empty(); }
};

struct DatasetCheck {
  DatasetOptions options;
  std::vector<SplitCheck> splits;
  bool ok() const;
  std::int64_t problem_count() const;  // missing + undecodable files + other problems, over all splits
};

// Checks options.split when `only_split` is set, else every split
// available_splits finds. Throws (like open_dataset) for a wrong root or
// malformed label files: those stop the check at once.
DatasetCheck check_dataset(const DatasetOptions& options, std::optional<Split> only_split, const CheckOptions& check);
// Undecodable images of one dataset's samples (decoded in parallel), image
// formats and crops outside the image, into `result`.
void decode_all(const Dataset& dataset, SplitCheck& result, const CheckOptions& check);

// The report a user reads: a class table over the splits, then each split's
// drops, statistics, files and notes; at most `max_listed` files per list.
void print_check(std::ostream& out, const DatasetCheck& check, int max_listed = 20);

}  // namespace sceald::data
