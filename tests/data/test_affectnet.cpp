// The AffectNet reader on small fixtures in the release's layout (written
// here): with and without a header row, quoted landmarks, every expression
// code, face boxes, both image folder layouts, and malformed lines.
#include <gtest/gtest.h>

#include "engine/data/affectnet.h"
#include "engine/data/dataset.h"
#include "tests/data/dataset_fixtures.h"

namespace sceald::data {
namespace {

using testing::TempFolder;
using testing::throws_with;

DatasetOptions affectnet_options(const std::string& root, Split split = Split::Train) {
  DatasetOptions o;
  o.kind = DatasetKind::AffectNet;
  o.root = root;
  o.split = split;
  return o;
}

const std::string kHeader =
    "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n";

// One row per expression code 0..10, landmarks quoted with ';' as released.
std::string all_codes() {
  std::string rows;
  for (int code = 0; code <= 10; ++code)
    rows += std::to_string(100 + code) + "/img" + std::to_string(code) + ".jpg," + std::to_string(10 + code) + ",20," +
            std::to_string(200 + code) + ",210,\"181.64;530.91;188.32;627.82\"," + std::to_string(code) +
            ",0.785714,-0.055556\n";
  return rows;
}

void check_all_codes(const Dataset& ds, const std::string& image_base) {
  // AffectNet 0 neutral, 1 happy, 2 sad, 3 surprise, 4 fear, 5 disgust, 6 anger.
  const std::array<std::string_view, 7> names = {"neutral", "happiness", "sadness", "surprise",
                                                 "fear",    "disgust",   "anger"};
  ASSERT_EQ(ds.size(), 7u);
  for (int code = 0; code < 7; ++code) {
    const Sample& s = ds.samples[code];
    const std::string id = std::to_string(100 + code) + "/img" + std::to_string(code) + ".jpg";
    EXPECT_EQ(s.id, id);
    EXPECT_EQ(s.path, image_base + "/" + id);
    EXPECT_EQ(kExpressionNames[s.label], names[code]) << "code " << code;
    ASSERT_TRUE(s.crop.has_value());
    EXPECT_EQ(*s.crop, (CropBox{10 + code, 20, 200 + code, 210}));
  }
  EXPECT_EQ(ds.report.entries_read, 11);
  EXPECT_EQ(ds.report.dropped,
            (std::map<std::string, std::int64_t>{{"contempt", 1}, {"none", 1}, {"uncertain", 1}, {"no-face", 1}}));
}

TEST(AffectNet, ReadsTrainingCsvWithHeader) {
  TempFolder dir;
  dir.write("training.csv", kHeader + all_codes());
  dir.mkdir("Manually_Annotated_Images");
  const Dataset ds = open_dataset(affectnet_options(dir.path()));
  EXPECT_EQ(ds.name, "affectnet");
  check_all_codes(ds, dir / "Manually_Annotated_Images");
  EXPECT_TRUE(ds.report.notes.empty());
}

TEST(AffectNet, ReadsValidationCsvWithoutHeader) {
  TempFolder dir;
  dir.write("validation.csv", all_codes());
  dir.mkdir("Manually_Annotated_Images");
  check_all_codes(open_dataset(affectnet_options(dir.path(), Split::Valid)), dir / "Manually_Annotated_Images");
}

TEST(AffectNet, TestIsTheValidationFileWithANote) {
  TempFolder dir;
  dir.write("validation.csv", all_codes());
  dir.mkdir("Manually_Annotated_Images");
  const Dataset ds = open_dataset(affectnet_options(dir.path(), Split::Test));
  check_all_codes(ds, dir / "Manually_Annotated_Images");
  ASSERT_EQ(ds.report.notes.size(), 1u);
  EXPECT_NE(ds.report.notes[0].find("no test labels"), std::string::npos);
  EXPECT_EQ(available_splits(affectnet_options(dir.path())), std::vector<Split>{Split::Valid});
}

TEST(AffectNet, ImagesBesideTheCsvAndListsInTheReleaseFolder) {
  TempFolder dir;
  dir.write("Manually_Annotated_file_lists/training.csv", kHeader + all_codes());
  const Dataset ds = open_dataset(affectnet_options(dir.path()));
  check_all_codes(ds, dir.path());
  ASSERT_EQ(ds.report.notes.size(), 1u);
  EXPECT_NE(ds.report.notes[0].find("no Manually_Annotated_Images/"), std::string::npos);
}

TEST(AffectNet, HeaderColumnsAreFoundByName) {
  TempFolder dir;
  dir.write("training.csv",
            "expression,subDirectory_filePath,face_height,face_width,face_y,face_x\n"
            "3,1/a.png,40,30,20,10\n"
            "4,1/b.png,,,,\n");  // no face box
  const Dataset ds = open_dataset(affectnet_options(dir.path()));
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(kExpressionNames[ds.samples[0].label], "surprise");
  EXPECT_EQ(*ds.samples[0].crop, (CropBox{10, 20, 30, 40}));
  EXPECT_EQ(kExpressionNames[ds.samples[1].label], "fear");
  EXPECT_FALSE(ds.samples[1].crop.has_value());
}

TEST(AffectNet, CheckFilesDropsMissingImages) {
  TempFolder dir;
  dir.write("training.csv", kHeader + all_codes());
  dir.touch("Manually_Annotated_Images/100/img0.jpg");
  dir.touch("Manually_Annotated_Images/103/img3.jpg");
  DatasetOptions o = affectnet_options(dir.path());
  o.check_files = true;
  const Dataset ds = open_dataset(o);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.samples[1].id, "103/img3.jpg");
  EXPECT_EQ(ds.report.dropped.at("no image file"), 5);
  EXPECT_EQ(ds.report.missing_files.size(), 5u);
  EXPECT_EQ(ds.report.missing_files[0], dir / "Manually_Annotated_Images/101/img1.jpg");
}

TEST(AffectNet, MalformedLinesAndUnknownCodes) {
  TempFolder dir;
  const std::string csv = dir / "training.csv";
  const auto o = affectnet_options(dir.path());
  const std::string good = "1/a.jpg,1,2,3,4,\"1;2\",0,0.1,0.2\n";
  dir.write("training.csv", kHeader + good + "1/b.jpg,1,2,3,4,\"1;2\",11,0.1,0.2\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":3", "expression", "unknown expression code 11", "0..10"}));
  dir.write("training.csv", kHeader + "1/b.jpg,1,2,3,4,\"1;2\",-1,0.1,0.2\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "unknown expression code -1"}));
  dir.write("training.csv", good + "1/b.jpg,1,2,3,4,\"1;2\",happy,0.1,0.2\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "field expression", "'happy'"}));
  dir.write("training.csv", good + "1/b.jpg,1,2,3,4,1;2,0\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "expected 9 fields", "got 7"}));
  dir.write("training.csv", "subDirectory_filePath,face_x,face_y,face_width,expression\n" + good);
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":1", "no column face_height"}));
  dir.write("training.csv", good + "1/b.jpg,1,2,0,4,\"1;2\",0,0.1,0.2\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "face box is empty", "face_width 0"}));
  dir.write("training.csv", good + "1/b.jpg,1,two,3,4,\"1;2\",0,0.1,0.2\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "field face_y", "'two'"}));
  dir.write("training.csv", good + "1/b.jpg,1,2,3,4,\"1;2,0,0.1,0.2\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "unterminated quote", "field 6"}));
  dir.write("training.csv", good + ",1,2,3,4,\"1;2\",0,0.1,0.2\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "subDirectory_filePath is empty"}));
}

TEST(AffectNet, AWrongRootSaysWhatWasExpectedAndWhatWasFound) {
  TempFolder dir;
  dir.write("training.csv", kHeader);
  dir.mkdir("Manually_Annotated_Images");
  EXPECT_TRUE(throws_with([&] { open_dataset(affectnet_options(dir.path(), Split::Valid)); },
                          {"AffectNet: expected validation.csv (split 'valid') under " + dir.path(),
                           "found: Manually_Annotated_Images/, training.csv"}));
  EXPECT_TRUE(throws_with([&] { available_splits(affectnet_options(dir / "Manually_Annotated_Images")); },
                          {"expected training.csv or validation.csv", "nothing (empty folder)"}));
}

}  // namespace
}  // namespace sceald::data
