// The RAF-DB reader on small fixtures in the release's layout (written here).
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/data/dataset.h"
#include "engine/data/rafdb.h"
#include "tests/data/dataset_fixtures.h"

namespace sceald::data {
namespace {

using testing::TempFolder;
using testing::throws_with;

DatasetOptions rafdb_options(const std::string& root, Split split) {
  DatasetOptions o;
  o.kind = DatasetKind::RafDb;
  o.root = root;
  o.split = split;
  return o;
}

// Labels 1..7: surprise, fear, disgust, happiness, sadness, anger, neutral.
void write_release(const TempFolder& dir) {
  dir.write("EmoLabel/list_patition_label.txt",
            "train_00001.jpg 5\n"
            "train_00002.jpg 1\n"
            "train_00003.jpg 7\n"
            "test_0001.jpg 3\n"
            "test_0002.jpg 4\n"
            "\n");
  for (const char* name : {"train_00001", "train_00002", "train_00003", "test_0001", "test_0002"})
    dir.touch(std::string("Image/aligned/") + name + "_aligned.jpg");
}

TEST(RafDb, ReadsTheTrainList) {
  TempFolder dir;
  write_release(dir);
  const Dataset ds = open_dataset(rafdb_options(dir.path(), Split::Train));
  EXPECT_EQ(ds.name, "rafdb");
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds.samples[0].id, "train_00001.jpg");
  EXPECT_EQ(ds.samples[0].path, dir / "Image/aligned/train_00001_aligned.jpg");
  EXPECT_EQ(ds.samples[0].label, 4);  // 5 = sadness
  EXPECT_EQ(kExpressionNames[ds.samples[0].label], "sadness");
  EXPECT_EQ(ds.samples[1].label, 0);  // 1 = surprise
  EXPECT_EQ(ds.samples[2].label, 6);  // 7 = neutral
  for (const Sample& s : ds.samples) {
    EXPECT_FALSE(s.distribution.has_value());
    EXPECT_FALSE(s.crop.has_value());
  }
  EXPECT_EQ(ds.report.entries_read, 3);
  EXPECT_TRUE(ds.report.notes.empty());
}

TEST(RafDb, TestListAndValidAsItsAlias) {
  TempFolder dir;
  write_release(dir);
  const Dataset test = open_dataset(rafdb_options(dir.path(), Split::Test));
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(test.samples[0].path, dir / "Image/aligned/test_0001_aligned.jpg");
  EXPECT_EQ(test.samples[0].label, 2);  // disgust
  EXPECT_EQ(test.samples[1].label, 3);  // happiness
  const Dataset valid = open_dataset(rafdb_options(dir.path(), Split::Valid));
  ASSERT_EQ(valid.size(), 2u);
  EXPECT_EQ(valid.samples[1].id, "test_0002.jpg");
  EXPECT_EQ(valid.split, Split::Valid);
  ASSERT_EQ(valid.report.notes.size(), 1u);
  EXPECT_NE(valid.report.notes[0].find("no validation split"), std::string::npos);
  EXPECT_EQ(available_splits(rafdb_options(dir.path(), Split::Train)), (std::vector<Split>{Split::Train, Split::Test}));
}

TEST(RafDb, CheckFilesDropsMissingImages) {
  TempFolder dir;
  write_release(dir);
  std::filesystem::remove(dir / "Image/aligned/train_00002_aligned.jpg");
  DatasetOptions o = rafdb_options(dir.path(), Split::Train);
  o.check_files = true;
  const Dataset ds = open_dataset(o);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.report.dropped.at("no image file"), 1);
  EXPECT_EQ(ds.report.missing_files, std::vector<std::string>{dir / "Image/aligned/train_00002_aligned.jpg"});
}

TEST(RafDb, CorrectlySpeltListIsAccepted) {
  TempFolder dir;
  dir.write("EmoLabel/list_partition_label.txt", "train_00001.jpg 6\n");
  dir.mkdir("Image/aligned");
  const Dataset ds = open_dataset(rafdb_options(dir.path(), Split::Train));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds.samples[0].label, 5);  // anger
}

TEST(RafDb, MalformedLinesAndUnknownLabels) {
  TempFolder dir;
  dir.mkdir("Image/aligned");
  const std::string list = dir / "EmoLabel/list_patition_label.txt";
  const auto o = rafdb_options(dir.path(), Split::Train);
  dir.write("EmoLabel/list_patition_label.txt", "train_00001.jpg 1\ntrain_00002.jpg 8\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {list + ":2", "unknown label 8", "1..7"}));
  dir.write("EmoLabel/list_patition_label.txt", "train_00001.jpg 0\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {list + ":1", "unknown label 0"}));
  dir.write("EmoLabel/list_patition_label.txt", "train_00001.jpg happy\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {list + ":1", "field 2 (label)", "'happy'"}));
  dir.write("EmoLabel/list_patition_label.txt", "train_00001.jpg\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {list + ":1", "expected two fields"}));
  dir.write("EmoLabel/list_patition_label.txt", "train_00001.jpg 1 2\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {list + ":1", "expected two fields"}));
  dir.write("EmoLabel/list_patition_label.txt", "val_00001.jpg 1\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {list + ":1", "'val_00001.jpg'", "train_ nor test_"}));
  dir.write("EmoLabel/list_patition_label.txt", "test_0001.jpg 1\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {"lists no train_ images"}));
}

TEST(RafDb, AWrongRootSaysWhatWasExpectedAndWhatWasFound) {
  TempFolder dir;
  dir.mkdir("basic/Image");
  dir.touch("basic/readme.txt");
  EXPECT_TRUE(throws_with([&] { open_dataset(rafdb_options(dir / "basic", Split::Train)); },
                          {"RAF-DB: expected EmoLabel/list_patition_label.txt under " + (dir / "basic"),
                           "found: Image/, readme.txt"}));
  dir.write("basic/EmoLabel/list_patition_label.txt", "train_00001.jpg 1\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(rafdb_options(dir / "basic", Split::Train)); },
                          {"expected Image/aligned/", "found: EmoLabel/, Image/, readme.txt"}));
  EXPECT_TRUE(throws_with([&] { open_dataset(rafdb_options(dir / "basic/EmoLabel", Split::Train)); },
                          {"found: list_patition_label.txt", "give its parent"}));
  EXPECT_TRUE(throws_with([&] { open_dataset(rafdb_options(dir / "missing", Split::Train)); }, {"does not exist"}));
}

}  // namespace
}  // namespace sceald::data
