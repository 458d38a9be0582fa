// The folder-per-class reader: flat and split layouts, class and split
// folder synonyms, other folders and files, stable order, wrong roots.
#include <gtest/gtest.h>

#include "engine/data/dataset.h"
#include "engine/data/folder_dataset.h"
#include "tests/data/dataset_fixtures.h"

namespace sceald::data {
namespace {

using testing::TempFolder;
using testing::throws_with;

DatasetOptions folder_options(const std::string& root, Split split = Split::Train) {
  DatasetOptions o;
  o.kind = DatasetKind::Folder;
  o.root = root;
  o.split = split;
  return o;
}

TEST(FolderDataset, FlatLayoutWithSynonymsAndOtherFolders) {
  TempFolder dir;
  dir.touch("Angry/b.jpg");
  dir.touch("Angry/a.JPG");
  dir.touch("happy/x.png");
  dir.touch("happy/notes.txt");
  dir.touch("happy/.DS_Store");
  dir.touch("surprised/s.jpeg");
  dir.touch("contempt/c1.jpg");
  dir.touch("contempt/c2.jpg");
  dir.touch("readme.md");  // files at the top are not samples
  const Dataset ds = open_dataset(folder_options(dir.path(), Split::Test));
  EXPECT_EQ(ds.name, "folder");
  ASSERT_EQ(ds.size(), 4u);
  // Sorted by id (folder/file), byte-wise.
  EXPECT_EQ(ds.samples[0].id, "Angry/a.JPG");
  EXPECT_EQ(ds.samples[1].id, "Angry/b.jpg");
  EXPECT_EQ(ds.samples[2].id, "happy/x.png");
  EXPECT_EQ(ds.samples[3].id, "surprised/s.jpeg");
  EXPECT_EQ(ds.samples[0].path, dir / "Angry/a.JPG");
  EXPECT_EQ(kExpressionNames[ds.samples[0].label], "anger");
  EXPECT_EQ(kExpressionNames[ds.samples[2].label], "happiness");
  EXPECT_EQ(kExpressionNames[ds.samples[3].label], "surprise");
  EXPECT_EQ(ds.report.dropped,
            (std::map<std::string, std::int64_t>{{"folder 'contempt'", 2}, {"not an image file", 1}}));
  EXPECT_EQ(ds.report.entries_read, 7);
  ASSERT_EQ(ds.report.notes.size(), 1u);
  EXPECT_NE(ds.report.notes[0].find("flat layout"), std::string::npos);
  EXPECT_TRUE(ds.report.problems.empty());
  EXPECT_EQ(available_splits(folder_options(dir.path())), std::vector<Split>{Split::Train});
}

TEST(FolderDataset, SplitFoldersWithSynonyms) {
  TempFolder dir;
  dir.touch("Training/fearful/1.png");
  dir.touch("Training/disgusted/2.png");
  dir.touch("val/neutral/3.png");
  dir.touch("validation_notes/neutral/4.png");  // not a split folder
  dir.touch("TEST/sadness/5.png");
  dir.touch("TEST/sad/6.png");
  const Dataset train = open_dataset(folder_options(dir.path(), Split::Train));
  ASSERT_EQ(train.size(), 2u);
  EXPECT_EQ(train.samples[0].id, "disgusted/2.png");
  EXPECT_EQ(kExpressionNames[train.samples[0].label], "disgust");
  EXPECT_EQ(kExpressionNames[train.samples[1].label], "fear");
  EXPECT_EQ(train.samples[1].path, dir / "Training/fearful/1.png");
  EXPECT_TRUE(train.report.notes.empty());
  const Dataset valid = open_dataset(folder_options(dir.path(), Split::Valid));
  ASSERT_EQ(valid.size(), 1u);
  EXPECT_EQ(valid.samples[0].path, dir / "val/neutral/3.png");
  const Dataset test = open_dataset(folder_options(dir.path(), Split::Test));
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(test.samples[0].label, test.samples[1].label);  // sad and sadness are one class
  EXPECT_EQ(available_splits(folder_options(dir.path())),
            (std::vector<Split>{Split::Train, Split::Valid, Split::Test}));
}

TEST(FolderDataset, MissingAndAmbiguousSplits) {
  TempFolder dir;
  dir.touch("train/happy/1.png");
  dir.touch("valid/happy/2.png");
  dir.touch("validation/happy/3.png");
  EXPECT_TRUE(throws_with([&] { open_dataset(folder_options(dir.path(), Split::Test)); },
                          {"expected a folder for split 'test' (test or testing) under " + dir.path(),
                           "found: train/, valid/, validation/"}));
  EXPECT_TRUE(throws_with([&] { open_dataset(folder_options(dir.path(), Split::Valid)); },
                          {"several folders", "valid and validation"}));
  TempFolder other;
  other.mkdir("train/unknown");
  other.touch("train/happy/.hidden");
  EXPECT_TRUE(throws_with([&] { open_dataset(folder_options(other.path())); },
                          {"expected class folders holding images under " + (other / "train"), "happy/, unknown/"}));
}

TEST(FolderDataset, AWrongRootSaysWhatWasExpectedAndWhatWasFound) {
  TempFolder dir;
  dir.touch("images/a.jpg");
  dir.touch("labels.csv");
  EXPECT_TRUE(throws_with([&] { open_dataset(folder_options(dir.path())); },
                          {"folder dataset: expected class folders", "or split folders", "under " + dir.path(),
                           "found: images/, labels.csv"}));
  EXPECT_TRUE(throws_with([&] { available_splits(folder_options(dir.path())); }, {"found: images/, labels.csv"}));
  EXPECT_TRUE(throws_with([&] { open_dataset(folder_options(dir / "nope")); }, {"does not exist"}));
}

TEST(FolderDataset, NamesAndParsers) {
  EXPECT_EQ(parse_dataset_kind("RAF-DB"), DatasetKind::RafDb);
  EXPECT_EQ(parse_dataset_kind("ferplus"), DatasetKind::FerPlus);
  EXPECT_EQ(parse_split("val"), Split::Valid);
  EXPECT_EQ(parse_split("Training"), Split::Train);
  EXPECT_EQ(parse_ferplus_labels("fer2013"), FerPlusLabels::Fer2013);
  EXPECT_TRUE(throws_with([] { parse_dataset_kind("imagenet"); }, {"'imagenet'", "ferplus, rafdb, affectnet"}));
  EXPECT_TRUE(throws_with([] { parse_split("dev"); }, {"'dev'", "train, valid or test"}));
  for (DatasetKind k : {DatasetKind::FerPlus, DatasetKind::RafDb, DatasetKind::AffectNet, DatasetKind::Folder,
                        DatasetKind::Synthetic})
    EXPECT_EQ(parse_dataset_kind(dataset_kind_name(k)), k);
  for (Split s : {Split::Train, Split::Valid, Split::Test}) EXPECT_EQ(parse_split(split_name(s)), s);
  EXPECT_TRUE(throws_with([] { open_dataset(folder_options("")); }, {"folder: no data root given"}));
}

}  // namespace
}  // namespace sceald::data
