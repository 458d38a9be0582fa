// Datasets as their users have them on disk, read into one simple shape: a
// list of Samples (an image file and a label in the canonical class order of
// expressions.h) plus a report of what was left out and why. Readers only
// index files and labels; images are decoded later by the loader
// (decode.h), so opening even a large dataset is quick. (FER2013's CSV holds
// its pixels in the label file; that reader keeps them in the samples.)
//
// Layouts (split names are train, valid, test for every dataset):
//   ferplus    root/FER2013Train|FER2013Valid|FER2013Test/label.csv + PNGs  (ferplus.h)
//              or root/fer2013.csv + root/fer2013new.csv                   (fer2013_csv.h)
//   rafdb      root/EmoLabel/list_patition_label.txt + Image/aligned/        (rafdb.h)
//   affectnet  root/training.csv, root/validation.csv + images               (affectnet.h)
//   folder     root/<class>/* or root/<split>/<class>/*                       (folder_dataset.h)
//   synthetic  generated images in FERPlus's layout (synthetic.h); open_dataset
//              calls open_synthetic_dataset(options) with default parameters.
//
// A wrong root fails early with a sceald::Error saying what was expected
// where and what was found there.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/data/expressions.h"
#include "engine/data/image.h"
#include "engine/data/transforms.h"

namespace sceald::data {

// A face box in image pixels (AffectNet's face_x, face_y, face_width,
// face_height). It may reach outside the image; crop() zero-fills there.
using CropBox = CropWindow;

struct Sample {
  std::string id;    // the dataset's own name for the image ("fer0000000.png", "train_00001.jpg", ...)
  std::string path;  // the image file
  int label = -1;    // 0..6, canonical order (expressions.h)
  // A label distribution over the 7 canonical classes summing to 1, where the
  // dataset has one (FERPlus: the annotators' votes renormalised over the 7
  // kept classes).
  std::optional<std::array<float, kNumExpressions>> distribution;
  std::optional<CropBox> crop;  // AffectNet's face box
  // The pixels themselves, for datasets whose label file holds them
  // (FER2013's CSV, fer2013_csv.h); null means decode `path`.
  std::shared_ptr<const Image> image;
  int original_label = -1;      // the label before synthetic noise (label_noise.h); -1 when none was added
};

enum class DatasetKind { FerPlus, RafDb, AffectNet, Folder, Synthetic };
enum class Split { Train, Valid, Test };
// FERPlus only: which single label each image gets.
enum class FerPlusLabels {
  Plurality,  // the annotators' plurality vote (ferplus.h)
  Fer2013,    // the original FER2013 label from fer2013_label.csv
  Majority,   // FERPlus's own majority rule: single votes removed, then more than half (ferplus.h)
  Votes,      // the plurality's images and labels; training targets the vote distribution
};

struct DatasetOptions {
  DatasetKind kind = DatasetKind::Folder;
  std::string root;
  Split split = Split::Train;
  FerPlusLabels labels = FerPlusLabels::Plurality;
  // Stat every image file: samples whose file is missing are dropped (reason
  // "no image file") and listed in report.missing_files. Off, the files are
  // not touched (the check in dataset_check.h finds them instead).
  bool check_files = false;
};

struct DatasetReport {
  std::int64_t entries_read = 0;                // label rows or files looked at
  std::map<std::string, std::int64_t> dropped;  // reason ("contempt", "unknown", "NF", "no image file", ...) -> count
  std::vector<std::string> missing_files;       // with check_files: image files the labels name that do not exist
  std::vector<std::string> problems;            // anything else a user should fix, one line each
  std::vector<std::string> notes;               // for information: aliases taken, layout found
  std::int64_t dropped_total() const;
};

struct Dataset {
  std::string name;  // "ferplus", "rafdb", ...
  Split split = Split::Train;
  std::string root;
  std::vector<Sample> samples;
  DatasetReport report;

  std::size_t size() const { return samples.size(); }
  // Samples per canonical class.
  std::array<std::int64_t, kNumExpressions> class_counts() const;
};

// Reads the dataset `options` describes. Throws sceald::Error for a wrong
// root, a missing split, malformed label files (naming the file, line and
// field) and unknown labels (naming the value). DatasetKind::Synthetic goes
// to open_synthetic_dataset(options) (synthetic.h: an empty root means the
// cache folder, generated when missing).
Dataset open_dataset(const DatasetOptions& options);

// The splits present under options.root (options.split is ignored), in the
// order train, valid, test; aliases are left out (AffectNet's test, which is
// its validation file; RAF-DB's valid, which is its test list); all three
// for the synthetic set. Throws like open_dataset when the root holds none.
std::vector<Split> available_splits(const DatasetOptions& options);

// Names as the command line spells them, and back. The parsers accept a few
// synonyms (case-insensitive): "raf-db", "val"/"validation", "training",
// "testing"; unknown names throw, listing the choices. FERPlus's label modes
// are plurality, fer2013, majority and votes.
std::string_view dataset_kind_name(DatasetKind kind);
std::string_view split_name(Split split);
std::string_view ferplus_labels_name(FerPlusLabels labels);
DatasetKind parse_dataset_kind(std::string_view name);
Split parse_split(std::string_view name);
FerPlusLabels parse_ferplus_labels(std::string_view name);

}  // namespace sceald::data
