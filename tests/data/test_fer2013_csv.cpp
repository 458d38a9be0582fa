// FERPlus as published (fer2013.csv joined with fer2013new.csv): the reader
// must give exactly what the generator layout of the same data gives
// (ferplus.h, itself checked on the real label files), pixels included, and
// name the file, line, field and value of anything malformed.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/data/encode.h"
#include "engine/data/fer2013_csv.h"
#include "engine/data/ferplus.h"
#include "engine/data/loader.h"
#include "engine/data/transforms.h"
#include "tests/data/dataset_fixtures.h"

namespace sceald::data {
namespace {

using testing::TempFolder;
using testing::throws_with;

constexpr int kSurprise = 0, kAnger = 5, kNeutral = 6;

const char* kPixelsHeader = "emotion,pixels,Usage\n";
const char* kVotesHeader =
    "Usage,Image "
    "name,neutral,happiness,surprise,sadness,anger,"
    "disgust,fear,contempt,unknown,NF\n";

// One FER2013 row as both files hold it.
struct Row {
  std::string usage;  // Training, PublicTest, PrivateTest
  std::string name;   // "" for FERPlus's not-a-face rows
  std::string votes;  // ten comma-separated counts
  int emotion = 0;    // FER2013's order
};

// Rows of all three splits, interleaved as in the real files, with every
// case the rules distinguish.
const std::vector<Row> kRows = {
    {"Training", "fer0000000.png", "4,0,0,1,3,2,0,0,0,0", 0},     // neutral
    {"PublicTest", "fer0000001.png", "0,9,0,0,0,0,0,1,0,0", 3},   // happiness
    {"Training", "fer0000002.png", "0,0,10,0,0,0,0,0,0,0", 5},    // surprise
    {"Training", "fer0000003.png", "1,0,0,0,0,0,0,6,3,0", 4},     // contempt: dropped
    {"Training", "", "0,0,0,0,0,0,0,0,0,10", 2},                  // no image name: dropped
    {"PrivateTest", "fer0000005.png", "0,0,0,0,0,0,0,0,8,2", 1},  // unknown: dropped
    {"Training", "fer0000006.png", "0,0,0,0,0,3,3,3,1,0", 1},     // tie disgust/fear/contempt: disgust
    {"Training", "fer0000007.png", "0,0,0,2,4,0,0,0,4,0", 6},     // tie anger/unknown: anger
    {"Training", "fer0000008.png", "0,0,0,0,0,0,0,0,0,0", 6},     // no votes: dropped
    {"Training", "fer0000009.png", "0,0,0,6,0,0,0,0,4,0", 4},     // sadness
    {"Training", "fer0000010.png", "0,0,0,0,0,0,7,0,3,0", 2},     // duplicate name: both dropped
    {"Training", "fer0000010.png", "0,8,0,0,0,0,0,0,2,0", 3},
    {"PublicTest", "fer0000012.png", "6,0,0,0,0,0,0,0,4,0", 6},  // neutral
};

// A 48x48 image whose pixels depend on the row.
Image row_image(std::size_t row) {
  Image image(kFer2013Side, kFer2013Side, 1);
  for (std::size_t i = 0; i < image.pixels.size(); ++i)
    image.pixels[i] = static_cast<std::uint8_t>((i * 31 + row * 57) % 256);
  return image;
}

std::string pixels_text(const Image& image) {
  std::string text;
  for (std::size_t i = 0; i < image.pixels.size(); ++i) text += (i ? " " : "") + std::to_string(image.pixels[i]);
  return text;
}

// Writes the two CSV files under root/ and, like FERPlus's generator, the
// same data as root/generated/FER2013*/label.csv + PNGs (no image for rows
// without a name; a later row's PNG over an earlier one of the same name).
void write_both_layouts(const TempFolder& dir, const std::vector<Row>& rows) {
  std::string pixels = kPixelsHeader, votes = kVotesHeader;
  std::map<std::string, std::string> label_csv;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    pixels += std::to_string(row.emotion) + "," + pixels_text(row_image(r)) + "," + row.usage + "\n";
    votes += row.usage + "," + row.name + "," + row.votes + "\n";
    if (row.name.empty()) continue;
    const std::string folder = row.usage == "Training"     ? "FER2013Train"
                               : row.usage == "PublicTest" ? "FER2013Valid"
                                                           : "FER2013Test";
    label_csv[folder] += row.name + ",\"(0, 0, 48, 48)\"," + row.votes + "\n";
    dir.mkdir("generated/" + folder);
    write_png(dir / ("generated/" + folder + "/" + row.name), row_image(r));
  }
  dir.write("fer2013.csv", pixels);
  dir.write("fer2013new.csv", votes);
  for (const auto& [folder, text] : label_csv) dir.write("generated/" + folder + "/label.csv", text);
}

DatasetOptions options(const std::string& root, Split split, FerPlusLabels labels = FerPlusLabels::Plurality) {
  DatasetOptions o;
  o.kind = DatasetKind::FerPlus;
  o.root = root;
  o.split = split;
  o.labels = labels;
  return o;
}

TEST(Fer2013Csv, GivesWhatTheGeneratorLayoutOfTheSameDataGives) {
  TempFolder dir;
  write_both_layouts(dir, kRows);
  SampleTransform transform;  // grey, 48x48, no augmentation
  SampleTransform rgb;
  rgb.convention = InputConvention::imagenet();
  rgb.side = 40;  // resized on the way
  for (Split split : {Split::Train, Split::Valid, Split::Test}) {
    const Dataset csv = open_dataset(options(dir.path(), split));
    const Dataset generated = open_dataset(options(dir / "generated", split));
    SCOPED_TRACE(std::string(split_name(split)));
    EXPECT_EQ(csv.name, "ferplus");
    ASSERT_EQ(csv.size(), generated.size());
    for (std::size_t i = 0; i < csv.size(); ++i) {
      const Sample& a = csv.samples[i];
      const Sample& b = generated.samples[i];
      EXPECT_EQ(a.id, b.id);
      EXPECT_EQ(a.label, b.label) << a.id;
      EXPECT_EQ(a.distribution, b.distribution) << a.id;
      EXPECT_EQ(a.path, dir / "fer2013.csv");
      ASSERT_TRUE(a.image != nullptr);
      EXPECT_FALSE(b.image);
      for (const SampleTransform& t : {transform, rgb})
        EXPECT_EQ(load_sample_tensor(a, t, nullptr).to_vector<float>(),
                  load_sample_tensor(b, t, nullptr).to_vector<float>())
            << a.id;
    }
    std::map<std::string, std::int64_t> dropped = csv.report.dropped;
    if (split == Split::Train) {
      EXPECT_EQ(dropped["no image name"],
                1);  // the generator wrote no line for it
      dropped.erase("no image name");
    }
    EXPECT_EQ(dropped, generated.report.dropped);
  }
  const Dataset train = open_dataset(options(dir.path(), Split::Train));
  EXPECT_EQ(train.report.entries_read, 10);
  ASSERT_EQ(train.size(), 5u);
  EXPECT_EQ(train.samples[1].label, kSurprise);
  EXPECT_EQ(train.report.dropped.at("duplicate name"), 2);
  EXPECT_EQ(train.report.dropped.at("contempt"), 1);
  EXPECT_EQ(train.report.dropped.at("no votes"), 1);
  ASSERT_EQ(train.report.notes.size(), 3u);  // the layout read, the ties, the duplicates
  const std::string notes = train.report.notes[0] + train.report.notes[1] + train.report.notes[2];
  EXPECT_NE(notes.find("2 rows have a tied plurality"), std::string::npos) << notes;
  EXPECT_NE(notes.find("fer0000010.png"), std::string::npos) << notes;
  // The pixels are the file's, in row-major order.
  EXPECT_EQ(*train.samples[0].image, row_image(0));
  EXPECT_EQ(*train.samples[1].image, row_image(2));
  // The other splits, by hand: valid keeps happiness and neutral; test's one row is "unknown".
  const Dataset valid = open_dataset(options(dir.path(), Split::Valid));
  ASSERT_EQ(valid.size(), 2u);
  EXPECT_EQ(valid.samples[0].id, "fer0000001.png");
  EXPECT_EQ(valid.samples[0].label, 3);  // happiness
  EXPECT_EQ(valid.samples[1].id, "fer0000012.png");
  EXPECT_EQ(valid.samples[1].label, kNeutral);
  EXPECT_EQ(*valid.samples[1].image, row_image(12));
  const Dataset test = open_dataset(options(dir.path(), Split::Test));
  EXPECT_EQ(test.size(), 0u);
  EXPECT_EQ(test.report.dropped.at("unknown"), 1);
}

TEST(Fer2013Csv, Fer2013LabelsComeFromTheEmotionColumn) {
  TempFolder dir;
  write_both_layouts(dir, kRows);
  const Dataset plurality = open_dataset(options(dir.path(), Split::Train));
  const Dataset fer2013 = open_dataset(options(dir.path(), Split::Train, FerPlusLabels::Fer2013));
  ASSERT_EQ(fer2013.size(),
            plurality.size());  // the votes still decide which rows stay
  // Emotions 0, 5, 1, 6, 4 in FER2013's order (angry, surprise, disgust,
  // neutral, sad).
  const std::vector<int> expected = {kAnger, kSurprise, 2, kNeutral, 4};
  for (std::size_t i = 0; i < fer2013.size(); ++i) {
    EXPECT_EQ(fer2013.samples[i].id, plurality.samples[i].id);
    EXPECT_EQ(fer2013.samples[i].label, expected[i]) << fer2013.samples[i].id;
    EXPECT_EQ(fer2013.samples[i].distribution, plurality.samples[i].distribution);
  }
}

TEST(Fer2013Csv, SplitsAreTheUsagesPresent) {
  TempFolder dir;
  write_both_layouts(dir, kRows);
  EXPECT_EQ(available_splits(options(dir.path(), Split::Train)),
            (std::vector<Split>{Split::Train, Split::Valid, Split::Test}));
  TempFolder only_training;
  write_both_layouts(only_training, {kRows[0], kRows[2]});
  EXPECT_EQ(available_splits(options(only_training.path(), Split::Train)), std::vector<Split>{Split::Train});
  const Dataset valid = open_dataset(options(only_training.path(), Split::Valid));
  EXPECT_EQ(valid.size(), 0u);
  EXPECT_EQ(valid.report.entries_read, 0);
}

// Writes the two files from lines of text (headers included).
void write_csvs(const TempFolder& dir, const std::string& pixels, const std::string& votes) {
  dir.write("fer2013.csv", pixels);
  dir.write("fer2013new.csv", votes);
}

std::string pixel_row(const std::string& emotion, const std::string& pixels, const std::string& usage) {
  return emotion + "," + pixels + "," + usage + "\n";
}

TEST(Fer2013Csv, MalformedFilesNameFileLineFieldAndValue) {
  const std::string good_pixels = pixels_text(row_image(0));
  const std::string votes_row = "Training,fer0000000.png,4,0,0,1,3,2,0,0,0,0\n";
  const auto fails = [&](const std::string& pixels, const std::string& votes, const std::vector<std::string>& parts) {
    TempFolder dir;
    write_csvs(dir, pixels, votes);
    std::vector<std::string> with_root;
    for (const std::string& part : parts)
      with_root.push_back(part.find("ROOT") == 0 ? dir.path() + part.substr(4) : part);
    return throws_with([&] { open_dataset(options(dir.path(), Split::Train)); }, with_root);
  };
  const std::string header = kPixelsHeader;
  const std::string vheader = kVotesHeader;
  // Pixels.
  EXPECT_TRUE(fails(header + pixel_row("0", good_pixels + " 256", "Training"), vheader + votes_row,
                    {"ROOT/fer2013.csv:2", "field 2 (pixels)", "value 2305 is '256'", "0..255"}));
  EXPECT_TRUE(fails(header + pixel_row("0", "12a " + good_pixels, "Training"), vheader + votes_row,
                    {"fer2013.csv:2", "value 1 is '12a'"}));
  EXPECT_TRUE(
      fails(header + pixel_row("0", "-1 " + good_pixels, "Training"), vheader + votes_row, {"value 1 is '-1'"}));
  EXPECT_TRUE(fails(header + pixel_row("0", good_pixels.substr(0, good_pixels.rfind(' ')), "Training"),
                    vheader + votes_row, {"fer2013.csv:2", "2303 values, expected 2304 (48x48 grey)"}));
  EXPECT_TRUE(fails(header + pixel_row("0", "", "Training"), vheader + votes_row, {"0 values, expected 2304"}));
  EXPECT_TRUE(fails(header + pixel_row("7", good_pixels, "Training"), vheader + votes_row,
                    {"fer2013.csv:2", "field 1 (emotion)", "unknown label '7'"}));
  // Fields, headers, Usage.
  EXPECT_TRUE(fails(header + "0," + good_pixels + "\n", vheader + votes_row,
                    {"fer2013.csv:2", "expected 3 fields (emotion, pixels, Usage), got 2"}));
  EXPECT_TRUE(fails(header + pixel_row("0", good_pixels, "Training"), vheader + "Training,fer0000000.png,4,0,0\n",
                    {"fer2013new.csv:2", "expected 12 fields", "got 5"}));
  EXPECT_TRUE(fails("emotion,Usage,pixels\n" + pixel_row("0", good_pixels, "Training"), vheader + votes_row,
                    {"fer2013.csv:1", "expected the header emotion,pixels,Usage", "got 'emotion,Usage,pixels'"}));
  EXPECT_TRUE(fails(header + pixel_row("0", good_pixels, "Training"), "Usage,Image name,neutral\n" + votes_row,
                    {"fer2013new.csv:1", "expected the header Usage,Image name,neutral,happiness"}));
  EXPECT_TRUE(fails("", vheader + votes_row, {"fer2013.csv: empty file", "emotion,pixels,Usage"}));
  EXPECT_TRUE(
      fails(header + pixel_row("0", good_pixels, "Train"), vheader + votes_row,
            {"fer2013.csv:2", "field 3 (Usage)", "unknown Usage 'Train'", "Training, PublicTest or PrivateTest"}));
  EXPECT_TRUE(fails(header + pixel_row("0", good_pixels, "PublicTest"), vheader + votes_row,
                    {"fer2013.csv:2: field 3 (Usage) is 'PublicTest' but", "fer2013new.csv:2 says 'Training'",
                     "correspond one to one"}));
  EXPECT_TRUE(fails(header + pixel_row("0", good_pixels, "Training"),
                    vheader + "Training,fer0000000.png,4,0,x,1,3,2,0,0,0,0\n",
                    {"fer2013new.csv:2", "field 5 (votes for surprise)", "'x'"}));
  // Files of different lengths, either way round.
  EXPECT_TRUE(fails(header + pixel_row("0", good_pixels, "Training") + pixel_row("0", good_pixels, "Training"),
                    vheader + votes_row, {"ROOT/fer2013new.csv ends after line 2", "fer2013.csv has a row at line 3"}));
  EXPECT_TRUE(fails(header + pixel_row("0", good_pixels, "Training"), vheader + votes_row + votes_row,
                    {"ROOT/fer2013.csv ends after line 2", "fer2013new.csv has a row at line 3"}));
}

TEST(Fer2013Csv, ReadsWhatEditorsAndOtherToolsWrite) {
  // CRLF line ends, a quoted pixels field with tabs and runs of spaces, leading zeros, blank lines.
  std::string pixels = "\"007";
  for (int i = 1; i < kFer2013Side * kFer2013Side; ++i) pixels += (i % 3 ? " " : "\t  ") + std::to_string(i % 256);
  pixels += " \"";
  TempFolder dir;
  write_csvs(dir, std::string("emotion,pixels,Usage\r\n") + "3," + pixels + ",Training\r\n\r\n",
             std::string(kVotesHeader) + "\r\nTraining,fer0000000.png,0,9,0,0,0,0,0,0,0,1\r\n");
  const Dataset ds = open_dataset(options(dir.path(), Split::Train));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds.samples[0].id, "fer0000000.png");
  ASSERT_TRUE(ds.samples[0].image != nullptr);
  EXPECT_EQ(ds.samples[0].image->pixels[0], 7);
  EXPECT_EQ(ds.samples[0].image->pixels[2303], 2303 % 256);
}

TEST(Fer2013Csv, AMissingVotesFileIsNamed) {
  TempFolder dir;
  dir.write("fer2013.csv", kPixelsHeader);
  EXPECT_TRUE(throws_with([&] { open_dataset(options(dir.path(), Split::Train)); },
                          {"FERPlus: expected fer2013new.csv (FERPlus's votes) beside fer2013.csv",
                           "under " + dir.path(), "found: fer2013.csv"}));
  EXPECT_TRUE(throws_with([&] { available_splits(options(dir.path(), Split::Train)); }, {"fer2013new.csv"}));
  dir.write("fer2013new.csv", kVotesHeader);
  EXPECT_TRUE(throws_with([&] { available_splits(options(dir.path(), Split::Train)); },
                          {dir / "fer2013new.csv", "no rows after the header"}));
}

TEST(Fer2013Csv, TheGeneratorLayoutWinsWhereItHasTheSplit) {
  TempFolder dir;
  write_both_layouts(dir, kRows);
  dir.write("FER2013Train/label.csv", "only.png,\"(0, 0, 48, 48)\",1,0,0,0,0,0,0,0,0,0\n");
  const Dataset train = open_dataset(options(dir.path(), Split::Train));
  ASSERT_EQ(train.size(), 1u);
  EXPECT_EQ(train.samples[0].id, "only.png");
  // Valid and test have no folder here, so they come from the CSV files, and are listed.
  EXPECT_EQ(available_splits(options(dir.path(), Split::Train)),
            (std::vector<Split>{Split::Train, Split::Valid, Split::Test}));
  EXPECT_EQ(open_dataset(options(dir.path(), Split::Valid)).samples.at(0).path, dir / "fer2013.csv");
}

}  // namespace
}  // namespace sceald::data
