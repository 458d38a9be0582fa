// AffectNet (manually annotated part), as distributed:
//
//   root/training.csv, root/validation.csv   (also accepted under root/Manually_Annotated_file_lists/)
//   root/Manually_Annotated_Images/<subDirectory_filePath>   (or root/<subDirectory_filePath>)
//
// Columns: subDirectory_filePath, face_x, face_y, face_width, face_height,
// facial_landmarks (a quoted field of ';'-separated numbers), expression,
// valence, arousal. A header row is detected and, when present, columns are
// found by name; without one they are taken in the order above.
//
// Expression codes 0 neutral, 1 happy, 2 sad, 3 surprise, 4 fear, 5 disgust,
// 6 anger map onto the canonical order; 7 contempt, 8 none, 9 uncertain and
// 10 no-face are dropped and counted under those names. The face box is kept
// as the sample's crop.
//
// Splits: train = training.csv, valid = validation.csv, and test =
// validation.csv too, since AffectNet publishes no test labels (a note in the
// report says so).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace sceald::data {

// Canonical class of AffectNet's expression codes 0..6.
inline constexpr std::array<int, kNumExpressions> kAffectNetToCanonical = {6, 3, 4, 0, 1, 2, 5};

Dataset open_affectnet(const DatasetOptions& options);
// Train and valid, as far as their files exist; throws when neither does.
std::vector<Split> affectnet_splits(const std::string& root);

}  // namespace sceald::data
