// Figs. 4-5 of the paper (SPEC "What a run reports"): chosen training images
// of a run, each with its given label, the original label where synthetic
// noise replaced it, its confidence alpha (Eq. 5) and its amended label
// distribution l_i (Eq. 6) as bars, drawn as one self-contained SVG (the
// images embedded as PNG), clean samples in one row and flipped ones in the
// next. The numbers come from the run's samples.csv, the images from the
// dataset its config.json names.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/expressions.h"
#include "engine/data/image.h"

namespace sceald::train {

// One row of samples.csv, as the figure needs it.
struct FigureSample {
  std::string id;
  int label = -1;           // given (possibly flipped)
  int original_label = -1;  // before noise; -1 when the run added none
  double alpha = 0;
  std::array<double, data::kNumExpressions> distribution{};  // l_i
  bool flipped() const { return original_label >= 0 && original_label != label; }
};

// Reads samples.csv (reports.h); throws naming the file, line and field for
// a wrong header or a malformed row.
std::vector<FigureSample> read_samples_csv(const std::string& path);

struct FigureOptions {
  std::vector<std::string> ids;  // these samples, in this order; empty: drawn as below
  int count = 4;                 // per row: clean samples, and flipped ones when the run has noise
  std::uint64_t seed = 0;        // the draw (an honest sample, not the best-looking cases)
};

// The samples options.ids names (an unknown id is an error naming it), or
// `count` clean and `count` flipped ones drawn by the seed, each group in
// file order.
std::vector<FigureSample> choose_figure_samples(const std::vector<FigureSample>& samples,
                                                const FigureOptions& options);

// The SVG of `chosen` with `images` (one per sample, grey or RGB). Pure: the
// same input gives the same bytes.
std::string render_sample_figure(const std::vector<FigureSample>& chosen, const std::vector<data::Image>& images,
                                 const std::string& title);

// All of it for the run in `run_dir`: reads samples.csv and config.json,
// opens the training split to find the images, writes the SVG atomically to
// `out_path`. Returns the samples drawn.
std::vector<FigureSample> write_sample_figure(const std::string& run_dir, const FigureOptions& options,
                                              const std::string& out_path);

// Standard base64 (RFC 4648, with padding), for the embedded images.
std::string base64(const std::vector<std::uint8_t>& bytes);

}  // namespace sceald::train
