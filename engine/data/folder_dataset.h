// A folder per class, for any other data:
//
//   root/<class>/*.jpg|*.jpeg|*.png                        (flat: no split folders)
//   root/<split>/<class>/*.jpg|*.jpeg|*.png                (split folders)
//
// Split folders: train or training; valid, val or validation; test or
// testing (case-insensitive). Class folders are matched with
// expression_from_name, so synonyms work (angry/anger, happy/happiness, ...);
// other folders (contempt, ...) are dropped, their images counted under
// "folder '<name>'". Files with other extensions are counted under "not an
// image file"; hidden files are ignored. Samples are sorted by their path
// relative to the split folder (their id), so the order is the same on every
// machine.
//
// A flat layout holds one unsplit set: every split reads it, with a note in
// the report saying so.
#pragma once

#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace sceald::data {

Dataset open_folder_dataset(const DatasetOptions& options);
// The split folders present; {train} for a flat layout; throws when the root
// holds neither split nor class folders.
std::vector<Split> folder_dataset_splits(const std::string& root);

}  // namespace sceald::data
