// FERPlus as its users download it (SPEC "Datasets as their users have
// them"): two CSV files side by side in the data root,
//
//   fer2013.csv     header emotion,pixels,Usage; one row per image: FER2013's
//                   label (0..6 in FER2013's order), 48x48 grey pixels as 2304
//                   space-separated integers, and the split
//   fer2013new.csv  header Usage,Image name,neutral,happiness,surprise,
//                   sadness,anger,disgust,fear,contempt,unknown,NF: the ten
//                   annotators' votes for the same rows, in the same order
//
// joined row by row: row k of one file is row k of the other, and their Usage
// fields must agree. Usage Training, PublicTest and PrivateTest are the
// splits train, valid and test (FERPlus's generator writes them to
// FER2013Train, FER2013Valid and FER2013Test, ferplus.h).
//
// Labels and drops follow ferplus.h, so that both layouts of the same data
// give the same samples, ids, labels and distributions: the plurality of the
// votes (FerPlusLabels::Plurality; rows without votes or whose plurality is
// contempt, unknown or NF are dropped), or FER2013's own label from the
// emotion column (FerPlusLabels::Fer2013, on the rows the votes keep). Rows
// without an image name are dropped ("no image name": FERPlus judged them
// not a face and its generator writes no image for them), and so are names
// on several rows of the split ("duplicate name").
//
// Each sample keeps its pixels (Sample::image), its id is the image name and
// its path is fer2013.csv. Only the requested split's pixels are parsed and
// kept; every row of both files is still checked for its field count and
// Usage.
#pragma once

#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace sceald::data {

inline constexpr int kFer2013Side = 48;

// True when root holds fer2013.csv (open_fer2013_csv then requires
// fer2013new.csv beside it, and says so).
bool has_fer2013_csv(const std::string& root);

// Throws sceald::Error naming the file, line, field and value for a wrong
// header, a row with the wrong number of fields, an unknown Usage, Usage
// fields that disagree between the files, files of different lengths, a
// pixel that is not an integer in 0..255 or a row without 2304 of them.
Dataset open_fer2013_csv(const DatasetOptions& options);

// The splits whose Usage occurs in fer2013new.csv, in the order train,
// valid, test; throws when it has no rows.
std::vector<Split> fer2013_csv_splits(const std::string& root);

}  // namespace sceald::data
