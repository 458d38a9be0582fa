// The FERPlus reader on small fixtures in Microsoft's layout (written here),
// and on the real label files in ../shared/data/ferplus when present.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "engine/data/dataset.h"
#include "engine/data/decode.h"
#include "engine/data/ferplus.h"
#include "tests/data/dataset_fixtures.h"

namespace sceald::data {
namespace {

using testing::TempFolder;
using testing::throws_with;

constexpr int kSurprise = 0, kFear = 1, kDisgust = 2, kHappiness = 3, kSadness = 4, kAnger = 5, kNeutral = 6;

// Columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF.
const char* kLabelCsv =
    "fer0000000.png,\"(0, 0, 48, 48)\",4,0,0,1,3,2,0,0,0,0\n"  // neutral
    "fer0000001.png,\"(0, 0, 48, 48)\",0,9,0,0,0,0,0,1,0,0\n"  // happiness
    "fer0000002.png,\"(0, 0, 48, 48)\",0,0,10,0,0,0,0,0,0,0\n"  // surprise
    "fer0000003.png,\"(0, 0, 48, 48)\",1,0,0,0,0,0,0,6,3,0\n"   // contempt: dropped
    "fer0000004.png,\"(0, 0, 48, 48)\",0,0,0,0,0,0,0,0,8,2\n"   // unknown: dropped
    "fer0000005.png,\"(0, 0, 48, 48)\",0,0,0,0,0,0,0,0,0,10\n"  // NF: dropped
    "fer0000006.png,\"(0, 0, 48, 48)\",0,0,0,0,0,3,3,3,1,0\n"   // tie disgust/fear/contempt: disgust (first)
    "fer0000007.png,\"(0, 0, 48, 48)\",0,0,0,2,4,0,0,0,4,0\n"   // tie anger/unknown: anger kept
    "fer0000008.png,\"(0, 0, 48, 48)\",0,0,0,0,0,0,7,0,3,0\n"   // fear
    "fer0000009.png,\"(0, 0, 48, 48)\",0,0,0,6,0,0,0,0,4,0\n"   // sadness
    "\n";                                                        // trailing blank line ignored

DatasetOptions ferplus_options(const std::string& root, Split split = Split::Train) {
  DatasetOptions o;
  o.kind = DatasetKind::FerPlus;
  o.root = root;
  o.split = split;
  return o;
}

void write_pngs(const TempFolder& dir, const std::string& folder, int count) {
  for (int i = 0; i < count; ++i) dir.png(folder + "/fer000000" + std::to_string(i) + ".png", 4, 4, 1, i);
}

TEST(FerPlus, PluralityTakesTheFirstMaximalColumn) {
  EXPECT_EQ(ferplus_plurality_column({4, 0, 0, 1, 3, 2, 0, 0, 0, 0}), 0);
  EXPECT_EQ(ferplus_plurality_column({3, 3, 0, 0, 0, 0, 0, 0, 4, 0}), 8);
  EXPECT_EQ(ferplus_plurality_column({0, 5, 5, 0, 0, 0, 0, 0, 0, 0}), 1);  // happiness before surprise
  EXPECT_EQ(ferplus_plurality_column({0, 0, 0, 0, 0, 0, 5, 5, 0, 0}), 6);  // fear kept over contempt
  EXPECT_EQ(ferplus_plurality_column({0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 0);
  EXPECT_EQ(ferplus_plurality_column({0, 0, 0, 0, 0, 0, 0, 0, 1, 9}), 9);
}

TEST(FerPlus, ColumnsMapOntoTheCanonicalOrder) {
  // Each FERPlus column's name is the canonical class it maps to.
  for (int c = 0; c < kNumExpressions; ++c)
    EXPECT_EQ(kExpressionNames[kFerPlusToCanonical[c]], kFerPlusColumns[c]) << "column " << c;
  const char* fer2013_order[] = {"anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"};
  for (int c = 0; c < kNumExpressions; ++c) EXPECT_EQ(kExpressionNames[kFer2013ToCanonical[c]], fer2013_order[c]);
}

TEST(FerPlus, DistributionRenormalisesTheKeptVotes) {
  const auto d = ferplus_distribution({4, 0, 0, 1, 3, 2, 0, 0, 0, 0});
  ASSERT_TRUE(d.has_value());
  const std::array<float, 7> expected = {0, 0, 0.2f, 0, 0.1f, 0.3f, 0.4f};
  for (int k = 0; k < 7; ++k) EXPECT_FLOAT_EQ((*d)[k], expected[k]) << kExpressionNames[k];
  // Contempt/unknown/NF votes leave the sum: 2 of 2 kept votes for neutral, 1 and 1 for fear and happiness.
  const auto e = ferplus_distribution({2, 1, 0, 0, 0, 0, 1, 4, 1, 1});
  ASSERT_TRUE(e.has_value());
  EXPECT_FLOAT_EQ((*e)[kNeutral], 0.5f);
  EXPECT_FLOAT_EQ((*e)[kHappiness], 0.25f);
  EXPECT_FLOAT_EQ((*e)[kFear], 0.25f);
  EXPECT_FALSE(ferplus_distribution({0, 0, 0, 0, 0, 0, 0, 5, 5, 0}).has_value());
}

// FERPlus's reference code (majority mode): votes of 1 are outliers and
// removed; the largest remaining column must hold more than half of the rest.
TEST(FerPlus, MajorityRemovesSingleVotesThenNeedsMoreThanHalf) {
  auto verdict = [](const FerPlusVotes& v) { return ferplus_verdict(v, FerPlusLabels::Majority); };
  // 4 neutral, 3 anger, 2 disgust (the single sadness vote removed): 4 of 9 is not more than half.
  EXPECT_EQ(verdict({4, 0, 0, 1, 3, 2, 0, 0, 0, 0}).drop_reason, "no majority");
  // 6 of 9 happiness (the contempt vote removed).
  EXPECT_EQ(verdict({0, 6, 0, 3, 0, 0, 0, 1, 0, 0}).label, kHappiness);
  // 5 of 10 is exactly half: dropped; without the single votes 5 of 8 is a majority.
  EXPECT_EQ(verdict({5, 0, 0, 0, 5, 0, 0, 0, 0, 0}).drop_reason, "no majority");
  EXPECT_EQ(verdict({5, 0, 1, 1, 3, 0, 0, 0, 0, 0}).label, kNeutral);
  // A majority of contempt, unknown or NF drops the row under that name.
  EXPECT_EQ(verdict({0, 0, 0, 0, 0, 0, 0, 7, 3, 0}).drop_reason, "contempt");
  EXPECT_EQ(verdict({0, 2, 0, 0, 0, 0, 0, 0, 8, 0}).drop_reason, "unknown");
  // Every vote single: nothing is left.
  EXPECT_EQ(verdict({1, 1, 1, 1, 1, 1, 1, 1, 1, 1}).drop_reason, "no majority");
  EXPECT_EQ(verdict({0, 0, 0, 0, 0, 0, 0, 0, 0, 0}).drop_reason, "no votes");
  // The distribution is still that of every vote over the seven kept classes.
  const FerPlusVerdict v = verdict({5, 0, 1, 1, 3, 0, 0, 0, 0, 0});
  EXPECT_FLOAT_EQ(v.distribution[kNeutral], 0.5f);
  EXPECT_FLOAT_EQ(v.distribution[kSurprise], 0.1f);
  EXPECT_FLOAT_EQ(v.distribution[kAnger], 0.3f);
}

TEST(FerPlus, MajorityAndVotesModesOnTheReader) {
  TempFolder dir;
  dir.write("FER2013Train/label.csv", kLabelCsv);
  DatasetOptions o = ferplus_options(dir.path());
  o.labels = FerPlusLabels::Majority;
  const Dataset majority = open_dataset(o);
  // Kept: 0000001 (9 happiness of 9), 0000002 (10 surprise), 0000008 (7 fear of 10), 0000009 (6 sadness of 10).
  std::vector<std::pair<std::string, int>> got;
  for (const Sample& s : majority.samples) got.emplace_back(s.id, s.label);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, int>>{{"fer0000001.png", kHappiness},
                                                          {"fer0000002.png", kSurprise},
                                                          {"fer0000008.png", kFear},
                                                          {"fer0000009.png", kSadness}}));
  EXPECT_EQ(majority.report.dropped.at("no majority"), 3);  // 0000000, 0000006, 0000007
  EXPECT_EQ(majority.report.dropped.at("contempt"), 1);
  EXPECT_EQ(majority.report.dropped.at("unknown"), 1);
  EXPECT_EQ(majority.report.dropped.at("NF"), 1);
  // votes: the plurality's samples and labels, each with its vote distribution.
  o.labels = FerPlusLabels::Votes;
  const Dataset votes = open_dataset(o);
  o.labels = FerPlusLabels::Plurality;
  const Dataset plurality = open_dataset(o);
  ASSERT_EQ(votes.size(), plurality.size());
  for (std::size_t i = 0; i < votes.size(); ++i) {
    EXPECT_EQ(votes.samples[i].id, plurality.samples[i].id);
    EXPECT_EQ(votes.samples[i].label, plurality.samples[i].label);
    EXPECT_EQ(votes.samples[i].distribution, plurality.samples[i].distribution);
  }
  EXPECT_EQ(parse_ferplus_labels("majority"), FerPlusLabels::Majority);
  EXPECT_EQ(parse_ferplus_labels("votes"), FerPlusLabels::Votes);
  EXPECT_EQ(ferplus_labels_name(FerPlusLabels::Majority), "majority");
  EXPECT_TRUE(throws_with([] { parse_ferplus_labels("mean"); }, {"plurality, majority, votes or fer2013"}));
}

TEST(FerPlus, ReadsMicrosoftsLayoutWithThePluralityRule) {
  TempFolder dir;
  dir.write("FER2013Train/label.csv", kLabelCsv);
  const Dataset ds = open_dataset(ferplus_options(dir.path()));
  EXPECT_EQ(ds.name, "ferplus");
  EXPECT_EQ(ds.report.entries_read, 10);
  ASSERT_EQ(ds.size(), 7u);
  const std::vector<std::pair<std::string, int>> expected = {
      {"fer0000000.png", kNeutral}, {"fer0000001.png", kHappiness}, {"fer0000002.png", kSurprise},
      {"fer0000006.png", kDisgust}, {"fer0000007.png", kAnger},     {"fer0000008.png", kFear},
      {"fer0000009.png", kSadness}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(ds.samples[i].id, expected[i].first);
    EXPECT_EQ(ds.samples[i].label, expected[i].second) << expected[i].first;
    EXPECT_EQ(ds.samples[i].path, dir / ("FER2013Train/" + expected[i].first));
    EXPECT_EQ(ds.samples[i].original_label, -1);
    EXPECT_FALSE(ds.samples[i].crop.has_value());
    ASSERT_TRUE(ds.samples[i].distribution.has_value());
  }
  // fer0000007: anger 4 and sadness 2 of 6 kept votes.
  EXPECT_FLOAT_EQ((*ds.samples[4].distribution)[kAnger], 4.0f / 6.0f);
  EXPECT_FLOAT_EQ((*ds.samples[4].distribution)[kSadness], 2.0f / 6.0f);
  EXPECT_EQ(ds.report.dropped.at("contempt"), 1);
  EXPECT_EQ(ds.report.dropped.at("unknown"), 1);
  EXPECT_EQ(ds.report.dropped.at("NF"), 1);
  EXPECT_EQ(ds.report.dropped_total(), 3);
  EXPECT_TRUE(ds.report.problems.empty());
  ASSERT_EQ(ds.report.notes.size(), 1u);
  EXPECT_NE(ds.report.notes[0].find("2 rows have a tied plurality"), std::string::npos) << ds.report.notes[0];
  const auto counts = ds.class_counts();
  EXPECT_EQ(counts, (std::array<std::int64_t, 7>{1, 1, 1, 1, 1, 1, 1}));
}

TEST(FerPlus, RowsWithoutVotesAreDropped) {
  TempFolder dir;
  dir.write("FER2013Valid/label.csv",
            "a.png,\"(0, 0, 48, 48)\",0,0,0,0,0,0,0,0,0,0\r\n"
            "b.png,\"(0, 0, 48, 48)\",0,0,0,0,0,0,1,0,0,0\r\n");
  const Dataset ds = open_dataset(ferplus_options(dir.path(), Split::Valid));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds.samples[0].id, "b.png");  // CRLF line ends stripped
  EXPECT_EQ(ds.report.dropped.at("no votes"), 1);
}

TEST(FerPlus, CheckFilesDropsRowsWithoutTheirPng) {
  TempFolder dir;
  dir.write("FER2013Train/label.csv", kLabelCsv);
  write_pngs(dir, "FER2013Train", 10);
  std::filesystem::remove(dir / "FER2013Train/fer0000001.png");
  std::filesystem::remove(dir / "FER2013Train/fer0000003.png");  // dropped anyway (contempt)
  DatasetOptions o = ferplus_options(dir.path());
  EXPECT_EQ(open_dataset(o).size(), 7u);  // files not looked at
  o.check_files = true;
  const Dataset ds = open_dataset(o);
  EXPECT_EQ(ds.size(), 6u);
  EXPECT_EQ(ds.report.dropped.at("no image file"), 1);
  ASSERT_EQ(ds.report.missing_files.size(), 1u);
  EXPECT_EQ(ds.report.missing_files[0], dir / "FER2013Train/fer0000001.png");
}

TEST(FerPlus, Fer2013LabelsReplaceThePluralityAndKeepTheVotes) {
  TempFolder dir;
  dir.write("FER2013Train/label.csv", kLabelCsv);
  dir.write("FER2013Train/fer2013_label.csv",
            "name,fer2013_label,rmse,status\n"
            "fer0000000.png,anger,1.65,unique\n"         // neutral by the votes, anger in FER2013
            "fer0000001.png,3,1.8,tied_same_label\n"     // 3 = happy in FER2013's order
            "fer0000002.png,0,1.7,unique\n"              // 0 = angry
            "fer0000003.png,fear,1.7,unique\n"           // dropped by the plurality rule first
            "fer0000006.png,sadness,2.0,tied_conflict\n"
            "fer0000007.png,,,unmatched\n"
            "fer0000008.png,Surprise,1.1,unique\n");     // fer0000009 has no row
  DatasetOptions o = ferplus_options(dir.path());
  o.labels = FerPlusLabels::Fer2013;
  const Dataset ds = open_dataset(o);
  ASSERT_EQ(ds.size(), 4u);
  EXPECT_EQ(ds.samples[0].id, "fer0000000.png");
  EXPECT_EQ(ds.samples[0].label, kAnger);
  EXPECT_FLOAT_EQ((*ds.samples[0].distribution)[kNeutral], 0.4f);  // the votes stay
  EXPECT_EQ(ds.samples[1].label, kHappiness);
  EXPECT_EQ(ds.samples[2].label, kAnger);
  EXPECT_EQ(ds.samples[3].id, "fer0000008.png");
  EXPECT_EQ(ds.samples[3].label, kSurprise);
  EXPECT_EQ(ds.report.dropped.at("tied_conflict"), 1);
  EXPECT_EQ(ds.report.dropped.at("unmatched"), 1);
  EXPECT_EQ(ds.report.dropped.at("no fer2013 label"), 1);
  EXPECT_EQ(ds.report.dropped.at("contempt"), 1);
}

TEST(FerPlus, Fer2013LabelErrorsNameTheValue) {
  TempFolder dir;
  dir.write("FER2013Train/label.csv", kLabelCsv);
  DatasetOptions o = ferplus_options(dir.path());
  o.labels = FerPlusLabels::Fer2013;
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {"fer2013_label.csv", "FER2013Train", "label.csv"}));
  const std::string csv = dir / "FER2013Train/fer2013_label.csv";
  dir.write("FER2013Train/fer2013_label.csv", "name,fer2013_label,rmse,status\nfer0000000.png,contempt,1,unique\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "fer2013_label", "unknown label 'contempt'"}));
  dir.write("FER2013Train/fer2013_label.csv", "name,fer2013_label,rmse,status\nfer0000000.png,7,1,unique\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "unknown label '7'"}));
  dir.write("FER2013Train/fer2013_label.csv", "name,fer2013_label,rmse,status\nfer0000000.png,0,1,maybe\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "status", "'maybe'"}));
  dir.write("FER2013Train/fer2013_label.csv", "fer0000000.png,0,1,unique\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":1", "expected the header"}));
}

TEST(FerPlus, MalformedLinesNameFileLineAndField) {
  TempFolder dir;
  const std::string csv = dir / "FER2013Train/label.csv";
  const auto o = ferplus_options(dir.path());
  const std::string good = "a.png,\"(0, 0, 48, 48)\",1,0,0,0,0,0,0,0,0,0\n";
  dir.write("FER2013Train/label.csv", good + "b.png,\"(0, 0, 48, 48)\",1,0,0,0,0,0,0,0,0\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":2", "expected 12 fields", "got 11"}));
  dir.write("FER2013Train/label.csv", good + good + "c.png,(0, 0, 48, 48),1,0,0,0,0,0,0,0,0,0\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":3", "got 15", "quoted"}));
  dir.write("FER2013Train/label.csv", "b.png,\"(0, 0, 48, 48)\",1,0,0,x,0,0,0,0,0,0\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":1", "field 6 (votes for sadness)", "'x'"}));
  dir.write("FER2013Train/label.csv", "b.png,\"(0, 0, 48, 48)\",1,0,0,0,-2,0,0,0,0,0\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":1", "votes for anger", "-2"}));
  dir.write("FER2013Train/label.csv", "b.png,\"(0, 0, 48, 48),1,0,0,0,0,0,0,0,0,0\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":1", "unterminated quote", "field 2"}));
  dir.write("FER2013Train/label.csv", ",\"(0, 0, 48, 48)\",1,0,0,0,0,0,0,0,0,0\n");
  EXPECT_TRUE(throws_with([&] { open_dataset(o); }, {csv + ":1", "name", "empty"}));
}

TEST(FerPlus, NamesOnSeveralLinesAreDropped) {
  TempFolder dir;
  dir.write("FER2013Test/label.csv",
            "x.png,\"(0, 0, 48, 48)\",5,5,0,0,0,0,0,0,0,0\n"
            "y.png,\"(0, 0, 48, 48)\",9,1,0,0,0,0,0,0,0,0\n"
            "x.png,\"(0, 0, 48, 48)\",0,0,10,0,0,0,0,0,0,0\n");
  const Dataset ds = open_dataset(ferplus_options(dir.path(), Split::Test));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds.samples[0].id, "y.png");
  EXPECT_EQ(ds.report.dropped.at("duplicate name"), 2);
}

TEST(FerPlus, AWrongRootSaysWhatWasExpectedAndWhatWasFound) {
  TempFolder dir;
  dir.write("FER2013Train/label.csv", kLabelCsv);
  dir.touch("FER2013Valid/readme.txt");  // a split folder without label.csv
  EXPECT_TRUE(throws_with([&] { open_dataset(ferplus_options(dir.path(), Split::Valid)); },
                          {"FERPlus: expected FER2013Valid/label.csv", "split 'valid'", "under " + dir.path(),
                           "found: FER2013Train/, FER2013Valid/"}));
  EXPECT_TRUE(throws_with([&] { open_dataset(ferplus_options(dir / "nowhere")); },
                          {"FERPlus: data root " + (dir / "nowhere") + " does not exist"}));
  // The split folder itself given as the root.
  EXPECT_TRUE(throws_with([&] { open_dataset(ferplus_options(dir / "FER2013Train")); },
                          {"expected FER2013Train/label.csv", "found: label.csv", "give its parent"}));
  EXPECT_EQ(available_splits(ferplus_options(dir.path())), std::vector<Split>{Split::Train});
  EXPECT_TRUE(throws_with([&] { available_splits(ferplus_options(dir / "FER2013Valid")); },
                          {"FER2013Train/label.csv, FER2013Valid/label.csv, FER2013Test/label.csv, or fer2013.csv "
                           "with fer2013new.csv",
                           "readme.txt"}));
}

// ---- the real FERPlus labels (../shared/data/ferplus)

std::string real_ferplus_root() {
  const std::string root = SCEALD_SHARED_DATA_DIR "/ferplus";
  return std::filesystem::is_directory(root) ? root : "";
}

TEST(FerPlusReal, TrainingLabelsGiveTheRecordedCounts) {
  const std::string root = real_ferplus_root();
  if (root.empty()) GTEST_SKIP() << "real FERPlus not found at " SCEALD_SHARED_DATA_DIR "/ferplus; skipped";
  DatasetOptions o = ferplus_options(root, Split::Train);
  o.check_files = true;
  const Dataset ds = open_dataset(o);
  EXPECT_EQ(ds.report.entries_read, 28558);
  // Recorded once from this reader and cross-checked with an independent
  // Python count of label.csv (argmax over the ten columns, first maximum).
  // Order: surprise, fear, disgust, happiness, sadness, anger, neutral.
  EXPECT_EQ(ds.class_counts(), (std::array<std::int64_t, 7>{3557, 655, 191, 7526, 3530, 2463, 10295}));
  EXPECT_EQ(ds.report.dropped, (std::map<std::string, std::int64_t>{{"contempt", 168}, {"unknown", 171}, {"NF", 2}}));
  EXPECT_TRUE(ds.report.missing_files.empty());
  EXPECT_EQ(ds.samples.front().id, "fer0000000.png");
  EXPECT_EQ(ds.samples.front().label, kNeutral);  // votes 4,0,0,1,3,2,0,0,0,0
}

// Counted independently in Python with FERPlus's own majority rule (its
// reference code's _process_data, outlier removal then more than half).
TEST(FerPlusReal, MajorityLabelsGiveTheIndependentCounts) {
  const std::string root = real_ferplus_root();
  if (root.empty()) GTEST_SKIP() << "real FERPlus not found at " SCEALD_SHARED_DATA_DIR "/ferplus; skipped";
  DatasetOptions o = ferplus_options(root, Split::Train);
  o.labels = FerPlusLabels::Majority;
  const Dataset train = open_dataset(o);
  EXPECT_EQ(train.class_counts(), (std::array<std::int64_t, 7>{3136, 536, 116, 7284, 3022, 2098, 8733}));
  EXPECT_EQ(train.report.dropped,
            (std::map<std::string, std::int64_t>{{"no majority", 3434}, {"unknown", 77}, {"contempt", 120}, {"NF", 2}}));
  o.split = Split::Valid;
  const Dataset valid = open_dataset(o);
  EXPECT_EQ(valid.class_counts(), (std::array<std::int64_t, 7>{411, 60, 25, 862, 348, 289, 1180}));
  EXPECT_EQ(valid.report.dropped,
            (std::map<std::string, std::int64_t>{{"no majority", 377}, {"contempt", 16}, {"unknown", 11}}));
}

TEST(FerPlusReal, ValidationLabelsGiveTheRecordedCounts) {
  const std::string root = real_ferplus_root();
  if (root.empty()) GTEST_SKIP() << "real FERPlus not found at " SCEALD_SHARED_DATA_DIR "/ferplus; skipped";
  DatasetOptions o = ferplus_options(root, Split::Valid);
  o.check_files = true;
  const Dataset ds = open_dataset(o);
  EXPECT_EQ(ds.report.entries_read, 3579);
  EXPECT_EQ(ds.class_counts(), (std::array<std::int64_t, 7>{458, 71, 32, 899, 415, 325, 1329}));
  EXPECT_EQ(ds.report.dropped, (std::map<std::string, std::int64_t>{{"contempt", 26}, {"unknown", 23}, {"NF", 1}}));
  EXPECT_TRUE(ds.report.missing_files.empty());
  // The test split is deliberately absent from the shared data.
  EXPECT_EQ(available_splits(o), (std::vector<Split>{Split::Train, Split::Valid}));
  EXPECT_TRUE(throws_with([&] { open_dataset(ferplus_options(root, Split::Test)); },
                          {"expected FER2013Test/label.csv", "FER2013Train/, FER2013Valid/"}));
}

TEST(FerPlusReal, Fer2013LabelsLoad) {
  const std::string root = real_ferplus_root();
  if (root.empty()) GTEST_SKIP() << "real FERPlus not found at " SCEALD_SHARED_DATA_DIR "/ferplus; skipped";
  DatasetOptions o = ferplus_options(root, Split::Train);
  o.labels = FerPlusLabels::Fer2013;
  const Dataset train = open_dataset(o);
  EXPECT_EQ(train.class_counts(), (std::array<std::int64_t, 7>{3122, 3972, 395, 7169, 4730, 3843, 4869}));
  EXPECT_EQ(train.report.dropped.at("tied_conflict"), 117);
  EXPECT_EQ(train.samples.front().label, kAnger);  // fer0000000.png,anger,1.65,unique
  for (const Sample& s : train.samples) ASSERT_TRUE(s.distribution.has_value()) << s.id;
  o.split = Split::Valid;
  const Dataset valid = open_dataset(o);
  EXPECT_EQ(valid.class_counts(), (std::array<std::int64_t, 7>{411, 483, 51, 891, 648, 451, 590}));
  EXPECT_EQ(valid.report.dropped.at("tied_conflict"), 4);
}

}  // namespace
}  // namespace sceald::data
