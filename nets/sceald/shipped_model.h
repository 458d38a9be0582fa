// The model that ships with the project (data/models/, with its model card),
// used by `sceald predict` and `sceald eval` when no --checkpoint is given,
// and `sceald export`, which makes such a file from a training checkpoint.
//
// A shipped model is a task checkpoint (run_state.h, format sceald-train-v1)
// holding only the network's tensors (model.*) and the metadata that
// load_run needs (config, input_convention, epoch, arch, ...), plus what the
// checkpoint recorded of its validation (best_epoch, best_accuracy): no
// optimiser state, feature bank or per-sample tensors. It is read and checked
// like any other checkpoint (finite weights, the net's names and shapes).
#pragma once

#include <string>

namespace sceald::train {

inline constexpr const char* kShippedModelFile = "ferplus.safetensors";

// SCEALD_MODELS_DIR from the environment, else the source tree's data/models
// (fixed at build time), joined with kShippedModelFile.
std::string shipped_model_path();

// `given` when not empty; otherwise the shipped model, which must exist (the
// error says where it was looked for and how to point elsewhere).
std::string checkpoint_or_shipped(const std::string& given);

// Writes the network and metadata of `checkpoint` (a run folder or a
// checkpoint file, as load_run takes) to `out`, atomically; returns the
// number of tensors written.
std::size_t export_model(const std::string& checkpoint, const std::string& out);

}  // namespace sceald::train
