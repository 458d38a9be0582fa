// The model that ships in data/models: it loads through the same checks as
// every checkpoint, is the network its card describes, and (where the real
// FERPlus validation split is at hand) gives the accuracy its card states.
#include <gtest/gtest.h>
#include <omp.h>

#include <filesystem>

#include "nets/resnet18.h"
#include "nets/sceald/evaluate.h"
#include "nets/sceald/run_state.h"
#include "nets/sceald/shipped_model.h"

namespace sceald::train {
namespace {

const std::string kShipped = std::string(SCEALD_SOURCE_DIR) + "/data/models/" + kShippedModelFile;

TEST(ShippedModel, LoadsAsTheNetworkOfItsCard) {
  const LoadedRun run = load_run(kShipped);
  EXPECT_EQ(run.config.arch, "resnet18");
  EXPECT_EQ(run.config.stem, "small");
  EXPECT_EQ(run.config.width, 0.5);
  EXPECT_EQ(run.config.labels, "plurality");
  EXPECT_EQ(run.epoch, 12);
  EXPECT_EQ(run.convention.channels, 1);
  EXPECT_EQ(run.net.module->parameter_count(), 2796263);  // data/models/ferplus.md
  EXPECT_FALSE(run.net.module->is_training());
}

TEST(ShippedModel, GivesTheAccuracyOfItsCardOnFer2013Valid) {
  const std::string root = std::string(SCEALD_SHARED_DATA_DIR) + "/ferplus";
  if (!std::filesystem::is_directory(root)) GTEST_SKIP() << "real FERPlus not found at " << root << "; skipped";
  omp_set_num_threads(2);
  EvalRequest request;
  request.checkpoint = kShipped;
  request.data_root = root;
  const EvalResult r = evaluate_checkpoint(request);
  EXPECT_EQ(r.metrics.total, 3529);
  // The card's 0.8082 (2,852 of 3,529); other CPUs round differently, so a few borderline images may move.
  EXPECT_NEAR(r.metrics.accuracy, 0.8082, 0.002);
  EXPECT_NEAR(r.metrics.mean_class_accuracy, 0.6205, 0.005);
}

}  // namespace
}  // namespace sceald::train
