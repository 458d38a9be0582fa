// RAF-DB basic, as distributed:
//
//   root/EmoLabel/list_patition_label.txt   lines `train_00001.jpg 5`, `test_0001.jpg 3`
//   root/Image/aligned/train_00001_aligned.jpg   (100x100 RGB)
//
// Labels 1..7 are the canonical classes 1..7 (expressions.h: RAF-DB's order
// is the canonical one), so label = value - 1. The split is the name's
// prefix (train_ or test_). The list's file name is misspelt in the release;
// a correctly spelt list_partition_label.txt is accepted as well.
//
// RAF-DB has no validation split: `valid` reads the test list (a note in the
// report says so), as papers that report on RAF-DB do.
#pragma once

#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace sceald::data {

Dataset open_rafdb(const DatasetOptions& options);
// Train and test when the list holds them; throws when the list is missing.
std::vector<Split> rafdb_splits(const std::string& root);

}  // namespace sceald::data
