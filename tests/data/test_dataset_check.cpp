// `sceald dataset check`, the library side: missing and undecodable files,
// image formats, face boxes, distribution statistics, FER2013 agreement,
// the printed report, and the real FERPlus statistics when present.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "engine/data/dataset_check.h"
#include "tests/data/dataset_fixtures.h"

namespace sceald::data {
namespace {

using testing::TempFolder;

std::string printed(const DatasetCheck& check) {
  std::ostringstream out;
  print_check(out, check);
  return out.str();
}

DatasetOptions options_for(DatasetKind kind, const std::string& root) {
  DatasetOptions o;
  o.kind = kind;
  o.root = root;
  return o;
}

TEST(DatasetCheck, AHealthyFolderDatasetPasses) {
  TempFolder dir;
  dir.png("train/happy/1.png", 4, 4, 1, 1);
  dir.png("train/sad/2.png", 4, 4, 1, 2);
  dir.png("valid/sad/3.png", 6, 5, 3, 3);
  std::vector<std::pair<std::int64_t, std::int64_t>> progress;
  CheckOptions options;
  options.progress = [&](Split, std::int64_t done, std::int64_t total) { progress.emplace_back(done, total); };
  const DatasetCheck check = check_dataset(options_for(DatasetKind::Folder, dir.path()), std::nullopt, options);
  ASSERT_EQ(check.splits.size(), 2u);
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(check.problem_count(), 0);
  EXPECT_EQ(check.splits[0].image_formats, (std::map<std::string, std::int64_t>{{"4x4 grey", 2}}));
  EXPECT_EQ(check.splits[1].image_formats, (std::map<std::string, std::int64_t>{{"6x5 RGB", 1}}));
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), (std::pair<std::int64_t, std::int64_t>{1, 1}));  // the valid split, done
  const std::string text = printed(check);
  EXPECT_NE(text.find("happiness            1         0"), std::string::npos) << text;
  EXPECT_NE(text.find("sadness              1         1"), std::string::npos) << text;
  EXPECT_NE(text.find("\nOK\n"), std::string::npos) << text;
}

TEST(DatasetCheck, UndecodableAndMissingFilesFailTheCheck) {
  TempFolder dir;
  dir.write("FER2013Train/label.csv",
            "a.png,\"(0, 0, 48, 48)\",10,0,0,0,0,0,0,0,0,0\n"
            "b.png,\"(0, 0, 48, 48)\",0,10,0,0,0,0,0,0,0,0\n"
            "c.png,\"(0, 0, 48, 48)\",0,0,10,0,0,0,0,0,0,0\n");
  dir.png("FER2013Train/a.png");
  dir.write("FER2013Train/b.png", "not a png at all");
  const DatasetCheck check = check_dataset(options_for(DatasetKind::FerPlus, dir.path()), Split::Train, {});
  ASSERT_EQ(check.splits.size(), 1u);
  const SplitCheck& s = check.splits[0];
  EXPECT_FALSE(check.ok());
  EXPECT_EQ(check.problem_count(), 2);
  EXPECT_EQ(s.dataset.report.missing_files, std::vector<std::string>{dir / "FER2013Train/c.png"});
  ASSERT_EQ(s.undecodable.size(), 1u);
  EXPECT_EQ(s.undecodable[0].path, dir / "FER2013Train/b.png");
  EXPECT_EQ(s.image_formats, (std::map<std::string, std::int64_t>{{"4x4 grey", 1}}));
  const std::string text = printed(check);
  EXPECT_NE(text.find("missing files: 1\n    " + (dir / "FER2013Train/c.png")), std::string::npos) << text;
  EXPECT_NE(text.find("undecodable files: 1"), std::string::npos) << text;
  EXPECT_NE(text.find("b.png"), std::string::npos) << text;
  EXPECT_NE(text.find("FAILED: 2 problem(s)"), std::string::npos) << text;

  CheckOptions no_decode;
  no_decode.decode = false;
  const DatasetCheck quick = check_dataset(options_for(DatasetKind::FerPlus, dir.path()), Split::Train, no_decode);
  EXPECT_FALSE(quick.splits[0].decoded);
  EXPECT_EQ(quick.problem_count(), 1);  // only the missing file
  EXPECT_NE(printed(quick).find("not decoded"), std::string::npos);
}

TEST(DatasetCheck, VoteStatisticsAndFer2013Agreement) {
  TempFolder dir;
  dir.write("FER2013Valid/label.csv",
            "a.png,\"(0, 0, 48, 48)\",10,0,0,0,0,0,0,0,0,0\n"   // neutral, entropy 0
            "b.png,\"(0, 0, 48, 48)\",5,5,0,0,0,0,0,0,0,0\n"    // neutral (tie), entropy 1 bit
            "c.png,\"(0, 0, 48, 48)\",0,4,0,0,0,0,0,4,0,2\n"    // happiness: 4 of 4 kept votes
            "d.png,\"(0, 0, 48, 48)\",0,0,0,0,0,0,0,6,4,0\n");  // contempt: dropped
  dir.write("FER2013Valid/fer2013_label.csv",
            "name,fer2013_label,rmse,status\n"
            "a.png,neutral,1,unique\n"
            "b.png,happiness,1,unique\n"
            "c.png,happiness,1,tied_conflict\n");
  for (const char* name : {"a.png", "b.png", "c.png", "d.png"}) dir.png(std::string("FER2013Valid/") + name);
  CheckOptions quick;
  quick.decode = false;
  const DatasetCheck check = check_dataset(options_for(DatasetKind::FerPlus, dir.path()), std::nullopt, quick);
  ASSERT_EQ(check.splits.size(), 1u);
  EXPECT_EQ(check.splits[0].split, Split::Valid);
  EXPECT_TRUE(check.ok());
  const DistributionStats& d = check.splits[0].distribution;
  EXPECT_EQ(d.samples, 3);
  EXPECT_NEAR(d.mean_entropy_bits, (0.0 + 1.0 + 0.0) / 3.0, 1e-9);
  EXPECT_NEAR(d.mean_label_share, (1.0 + 0.5 + 1.0) / 3.0, 1e-6);
  EXPECT_EQ(d.fer2013_compared, 2);  // c.png's FER2013 label is unusable
  EXPECT_EQ(d.fer2013_agreeing, 1);
  EXPECT_DOUBLE_EQ(d.fer2013_agreement(), 0.5);
  const std::string text = printed(check);
  EXPECT_NE(text.find("dropped (contempt 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("agrees with the FER2013 label for 50.0% of images (1 of 2)"), std::string::npos) << text;
}

TEST(DatasetCheck, FaceBoxesReachingOutsideAreCounted) {
  TempFolder dir;
  dir.write("validation.csv",
            "1/a.png,0,0,8,8,\"1;2\",1,0,0\n"     // inside the 8x8 image
            "1/b.png,4,4,8,8,\"1;2\",2,0,0\n");   // reaches outside
  dir.png("Manually_Annotated_Images/1/a.png", 8, 8, 3);
  dir.png("Manually_Annotated_Images/1/b.png", 8, 8, 3);
  const DatasetCheck check = check_dataset(options_for(DatasetKind::AffectNet, dir.path()), Split::Valid, {});
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(check.splits[0].crops_reaching_outside, 1);
  EXPECT_NE(printed(check).find("face boxes reaching outside their image: 1"), std::string::npos);
}

TEST(DatasetCheck, AWrongRootStopsTheCheck) {
  TempFolder dir;
  EXPECT_TRUE(testing::throws_with(
      [&] { check_dataset(options_for(DatasetKind::RafDb, dir.path()), std::nullopt, {}); },
      {"RAF-DB: expected EmoLabel/list_patition_label.txt", "nothing (empty folder)"}));
}

// ---- real FERPlus (../shared/data/ferplus)

TEST(DatasetCheckReal, FerPlusStatisticsWithoutDecoding) {
  const std::string root = SCEALD_SHARED_DATA_DIR "/ferplus";
  if (!std::filesystem::is_directory(root))
    GTEST_SKIP() << "real FERPlus not found at " << root << "; skipped";
  CheckOptions quick;
  quick.decode = false;
  const DatasetCheck check = check_dataset(options_for(DatasetKind::FerPlus, root), std::nullopt, quick);
  ASSERT_EQ(check.splits.size(), 2u);
  EXPECT_TRUE(check.ok()) << printed(check);
  // Recorded from an independent Python pass over label.csv and fer2013_label.csv.
  const DistributionStats& train = check.splits[0].distribution;
  EXPECT_EQ(train.samples, 28217);
  EXPECT_NEAR(train.mean_entropy_bits, 0.72383, 1e-4);
  EXPECT_EQ(train.fer2013_compared, 28100);
  EXPECT_EQ(train.fer2013_agreeing, 17845);
  const DistributionStats& valid = check.splits[1].distribution;
  EXPECT_NEAR(valid.mean_entropy_bits, 0.64153, 1e-4);
  EXPECT_EQ(valid.fer2013_compared, 3525);
  EXPECT_EQ(valid.fer2013_agreeing, 2229);
}

// A full decode pass over the 31,746 kept real images: about 1.5 s of CPU
// (several seconds of wall time on a loaded machine).
TEST(DatasetCheckReal, FerPlusEveryImageDecodes) {
  const std::string root = SCEALD_SHARED_DATA_DIR "/ferplus";
  if (!std::filesystem::is_directory(root))
    GTEST_SKIP() << "real FERPlus not found at " << root << "; skipped";
  const auto start = std::chrono::steady_clock::now();
  const DatasetCheck check = check_dataset(options_for(DatasetKind::FerPlus, root), std::nullopt, {});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(check.ok()) << printed(check);
  ASSERT_EQ(check.splits.size(), 2u);
  EXPECT_EQ(check.splits[0].image_formats, (std::map<std::string, std::int64_t>{{"48x48 grey", 28217}}));
  EXPECT_EQ(check.splits[1].image_formats, (std::map<std::string, std::int64_t>{{"48x48 grey", 3529}}));
  RecordProperty("seconds", std::to_string(seconds));
  std::cout << "[ info     ] decoded 31746 FERPlus images in " << seconds << " s\n";
}

}  // namespace
}  // namespace sceald::data
