// The synthetic expression dataset: procedural grey faces (face_renderer.h)
// whose expression is a known mixture of one or two of the seven classes,
// written in FERPlus's layout so that it is read by the FERPlus reader
// (ferplus.h) exactly like the real thing. docs/SYNTHETIC.md documents the
// generative model and the co-occurrence table.
//
// Layout of a generated set (DIR):
//   DIR/synthetic.json                 the generation parameters (the marker; written last)
//   DIR/FER2013Train|Valid|Test/
//     fer0000000.png ...               size x size grey PNGs, numbered across the splits
//     label.csv                        name,"(0, 0, S, S)",v1..v10: ten simulated votes in
//                                      FERPlus's column order, drawn from the true distribution
//     true_distribution.csv            name,surprise,...,neutral: the true mixture (canonical order)
//     fer2013_label.csv                name,fer2013_label,rmse,status: the dominant class of the
//                                      true mixture, so --labels fer2013 gives clean labels and
//                                      the default plurality of votes gives noisy ones
//
// Determinism: image i (numbered across the splits) draws everything - its
// mixture, its votes, its appearance, its pixel noise - from Philox stream
// (seed, offset i << 24) (engine/rng.h), so a seed gives byte-identical files
// whatever the number of OpenMP threads.
//
// Atomicity: a set is generated into DIR.tmp.<pid>.<n>, flushed to disk, and
// renamed to DIR; a crash leaves no half set under DIR (at worst a stray
// DIR.tmp.*). A folder is only ever replaced when it holds a marker (it is a
// generated set) or is empty.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/data/expressions.h"
#include "engine/data/ferplus.h"
#include "engine/data/image.h"
#include "engine/rng.h"

namespace sceald::data {

// Bumped whenever the drawing or the draws change, so cached sets regenerate.
inline constexpr int kSyntheticVersion = 1;

struct SyntheticOptions {
  std::int64_t train = 2000;  // images per split
  std::int64_t valid = 500;
  std::int64_t test = 500;
  int size = 48;              // image side in pixels, 16..512
  std::uint64_t seed = 0;
  int threads = 0;            // OpenMP threads for generation; 0: OpenMP's default. Not part of the output.

  // Equal when they generate the same files (threads is ignored).
  bool same_data(const SyntheticOptions& other) const;
  // "synthetic-v1-s48-n2000-500-500-seed0": the cache folder's name.
  std::string cache_name() const;
  std::int64_t count(Split split) const;
  // Throws naming the offending field.
  void validate() const;
};

// ---- the generative model

// SPEC (docs/SYNTHETIC.md): the share of images showing one expression only.
inline constexpr double kSyntheticPureShare = 0.3;
// Relative frequency of each unordered pair among two-expression images,
// canonical order, symmetric, zero diagonal; the weights sum to 100.
const std::array<std::array<int, kNumExpressions>, kNumExpressions>& synthetic_cooccurrence();

struct ExpressionMixture {
  int dominant = 0;    // the class with the larger weight
  int secondary = -1;  // the other class; -1 for a pure image
  std::array<double, kNumExpressions> distribution{};  // the true distribution; sums to 1
};

// Pure with probability kSyntheticPureShare (class uniform); otherwise a pair
// drawn by synthetic_cooccurrence(), one of the two dominant with probability
// 1/2, its weight k/100 with k uniform in 55..85.
ExpressionMixture draw_expression_mixture(Generator& generator);

// Ten annotators, each voting for one class drawn from `distribution`
// (canonical order); returned in FERPlus's column order (ferplus.h), with
// contempt, unknown and NF at 0.
FerPlusVotes draw_votes(const std::array<double, kNumExpressions>& distribution, Generator& generator);

struct SyntheticSample {
  Image image;
  ExpressionMixture mixture;
  FerPlusVotes votes{};
};

// Image `index` (numbered across the splits) of the set with this seed.
SyntheticSample synthesize_sample(std::uint64_t seed, std::int64_t index, int size);

// ---- files

// Writes the set described by `options` to `dir` atomically (see above).
// Refuses a `dir` that exists, is not empty and holds no synthetic.json.
void generate_synthetic_dataset(const std::string& dir, const SyntheticOptions& options);

// The parameters in dir/synthetic.json; nullopt when there is no marker (or
// it is not ours). A marker that cannot be parsed throws naming the file.
struct SyntheticMarker {
  SyntheticOptions options;
  int version = 0;
};
std::optional<SyntheticMarker> read_synthetic_marker(const std::string& dir);

// Generates `dir` unless it already holds a set of these parameters and of
// this kSyntheticVersion. Returns true when it generated.
bool ensure_synthetic_dataset(const std::string& dir, const SyntheticOptions& options);

// $XDG_CACHE_HOME/sceald, else $HOME/.cache/sceald; throws when neither is set.
std::string sceald_cache_root();
// sceald_cache_root()/options.cache_name().
std::string synthetic_cache_dir(const SyntheticOptions& options);

// One row of true_distribution.csv.
struct TrueDistribution {
  std::string name;
  std::array<double, kNumExpressions> distribution{};
};
std::vector<TrueDistribution> read_true_distributions(const std::string& split_folder);

// ---- the dataset

// The synthetic set as a Dataset, read through the FERPlus reader (the same
// labels options apply; name "synthetic"). Where it lives:
// - options.root empty: the cache folder for `synthetic`, generated when
//   missing or stale;
// - options.root given: that folder, generated there with `synthetic` when
//   it is new, empty or a generated set of other parameters.
Dataset open_synthetic_dataset(const DatasetOptions& options, const SyntheticOptions& synthetic);
// As above with default parameters, except that a root already holding a
// generated set (any parameters, e.g. from `sceald synth --out ROOT --n 5000`)
// is read as it is.
Dataset open_synthetic_dataset(const DatasetOptions& options);

}  // namespace sceald::data
