// FERPlus in the layout Microsoft's FERPlus generator writes:
//
//   root/FER2013Train/label.csv, root/FER2013Valid/label.csv, root/FER2013Test/label.csv
//   root/FER2013*/fer0000000.png ...          (48x48 grey PNGs)
//   root/FER2013*/fer2013_label.csv           (optional: the original FER2013 labels)
//
// label.csv has no header; each line is `name,"(0, 0, 48, 48)",v1,...,v10`
// (the face box is quoted because it holds commas), the ten integers being
// the annotators' votes for kFerPlusColumns below. A root with only some of
// the split folders is fine; asking for a missing one is an error naming the
// folder expected and what the root holds.
//
// Labels (DatasetOptions::labels):
//  - plurality: the column with the most votes over all ten. Ties take the
//    FIRST maximal column in label.csv's order, so a tie between a kept class
//    and contempt/unknown/NF keeps the image. Rows whose plurality is
//    contempt, unknown or NF are dropped (counted under those names), as are
//    rows without any vote ("no votes"). SPEC: its "argmax over the 7 kept
//    classes" could never give contempt, unknown or NF, yet it drops rows
//    whose majority is one of them; we read it as the argmax over all ten
//    columns, then drop those rows (a plurality, not a strict majority).
//  - majority: FERPlus's reference code's 'majority' mode (Barsoum et al.
//    2016): votes of 1 are removed as outliers; a row is kept only when its
//    largest column then holds more than half of the remaining votes, and
//    takes that column's class. Rows with no such column are dropped ("no
//    majority"), and rows whose majority is contempt, unknown or NF are
//    dropped under those names (FERPlus's code keeps contempt as an eighth
//    class; our seven classes have none).
//  - votes: the plurality's rows and labels; training targets each
//    sample's vote distribution instead of the one-hot label (Barsoum et
//    al.'s cross-entropy mode, without its outlier removal).
//  - fer2013: the same images (the same rows are dropped first), labelled
//    with the original FER2013 label from fer2013_label.csv beside label.csv
//    (header `name,fer2013_label,rmse,status`; the label is a class name or
//    an integer in FER2013's order 0 angry, 1 disgust, 2 fear, 3 happy,
//    4 sad, 5 surprise, 6 neutral). Rows with status tied_conflict or
//    unmatched, or without a row there, are dropped and counted.
// Either way each sample carries the vote distribution over the 7 kept
// classes, renormalised to sum 1.
//
// A name that appears on several lines of label.csv stands for several
// source images whose votes and pixels may disagree (one PNG was written over
// the other): all its rows are dropped ("duplicate name").
//
// The same data as FERPlus publishes it (fer2013.csv with fer2013new.csv) is
// read by fer2013_csv.h, with the same rules, when the root holds no split
// folder for the split asked for.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/data/dataset.h"

namespace sceald::data {

inline constexpr int kFerPlusVoteColumns = 10;
inline constexpr std::array<std::string_view, kFerPlusVoteColumns> kFerPlusColumns = {
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"};
// Canonical class (expressions.h) of FERPlus columns 0..6; columns 7..9 are dropped.
inline constexpr std::array<int, kNumExpressions> kFerPlusToCanonical = {6, 3, 0, 4, 5, 2, 1};
// Canonical class of FER2013's labels 0..6 (angry, disgust, fear, happy, sad, surprise, neutral).
inline constexpr std::array<int, kNumExpressions> kFer2013ToCanonical = {5, 2, 1, 3, 4, 0, 6};

using FerPlusVotes = std::array<int, kFerPlusVoteColumns>;

// The first column holding the most votes (0..9).
int ferplus_plurality_column(const FerPlusVotes& votes);

// What the label rule makes of one row's votes: the canonical label and the
// vote distribution, or the reason the row is dropped ("no votes", "no
// majority", "contempt", "unknown", "NF"). Plurality, Votes and Fer2013 take
// the plurality rule (Fer2013 replaces the label afterwards), Majority the
// majority rule. Both FERPlus layouts (this one and fer2013_csv.h) label rows
// through it.
struct FerPlusVerdict {
  int label = -1;  // -1 when dropped
  std::string drop_reason;
  bool tied = false;  // another column holds as many votes as the plurality (plurality rule)
  std::array<float, kNumExpressions> distribution{};
};
FerPlusVerdict ferplus_verdict(const FerPlusVotes& votes, FerPlusLabels mode = FerPlusLabels::Plurality);

// The ten vote fields fields[first .. first+9] of a row (counted from 1 in
// messages), each a small non-negative integer; throws naming `where`.
FerPlusVotes parse_ferplus_votes(const std::vector<std::string>& fields, std::size_t first, const std::string& where);

// FER2013's own label (0..6 in FER2013's order, or a class name) in the
// canonical order; throws naming `where` and `field` for anything else.
int parse_fer2013_label(const std::string& text, const std::string& where, std::string_view field);

// The report note for image names found on several rows (all dropped), or ""
// when there are none; `source` names the file.
std::string ferplus_duplicates_note(const std::vector<std::string>& names, const std::string& source);
// The votes of the 7 kept classes in canonical order, divided by their sum;
// nullopt when they sum to 0.
std::optional<std::array<float, kNumExpressions>> ferplus_distribution(const FerPlusVotes& votes);

// "FER2013Train", "FER2013Valid", "FER2013Test".
std::string_view ferplus_split_folder(Split split);

// Reads this layout, or the two CSV files of fer2013_csv.h when the root holds
// no label.csv for the split but does hold fer2013.csv.
Dataset open_ferplus(const DatasetOptions& options);
// The splits whose label.csv exists, and those of fer2013_csv.h when the
// root holds fer2013.csv (open_ferplus reads a split without its folder
// from there), in the order train, valid, test; throws when there is none.
std::vector<Split> ferplus_splits(const std::string& root);

}  // namespace sceald::data
