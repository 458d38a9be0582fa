// Figs. 4-5 (nets/sceald/sample_figure.h): samples.csv read back as written,
// the seeded choice of clean and flipped samples, base64 against RFC 4648's
// vectors, and the SVG: well formed, one panel per sample, each image
// embedded losslessly (decoded here by an independent base64 decoder).
#include "nets/sceald/sample_figure.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "engine/data/decode.h"
#include "engine/error.h"
#include "nets/sceald/reports.h"
#include "support/error_checks.h"

namespace sceald::train {
namespace {

namespace fs = std::filesystem;

using sceald::testing::error_message;

TEST(SampleFigure, Base64MatchesRfc4648) {
  const auto b64 = [](const std::string& s) { return base64(std::vector<std::uint8_t>(s.begin(), s.end())); };
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg==");
  EXPECT_EQ(b64("fo"), "Zm8=");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foob"), "Zm9vYg==");
  EXPECT_EQ(b64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64({0xFF, 0xEF, 0x00}), "/+8A");
}

// Six samples: ids s0..s5, s1 and s4 flipped (given != original).
std::vector<FigureSample> six_samples() {
  std::vector<FigureSample> v;
  for (int i = 0; i < 6; ++i) {
    FigureSample s;
    s.id = "s" + std::to_string(i);
    s.label = i % 7;
    s.original_label = (i == 1 || i == 4) ? (i + 3) % 7 : s.label;
    s.alpha = 1.5 + i;
    for (int k = 0; k < 7; ++k) s.distribution[k] = k == s.label ? 0.4 : 0.1;
    v.push_back(s);
  }
  return v;
}

TEST(SampleFigure, SamplesCsvReadsBackWhatTheRunWrote) {
  data::Dataset train;
  for (int i = 0; i < 3; ++i) {
    data::Sample s;
    s.id = i == 1 ? "smile, \"big\".png" : "img" + std::to_string(i) + ".png";  // a name CSV must quote
    s.label = i;
    s.original_label = i == 2 ? 5 : i;
    train.samples.push_back(s);
  }
  const Tensor alpha = Tensor::from_vector<double>({1.25, 2.5, 1000.125}, {3});
  std::vector<double> graph(21), ld(21);
  for (int i = 0; i < 21; ++i) {
    graph[i] = 0.01 * i - 0.1;
    ld[i] = (i % 7 == 0) ? 0.4 : 0.1;
  }
  const fs::path path = fs::temp_directory_path() / ("sceald-figure-" + std::to_string(getpid()) + ".csv");
  write_samples_csv(path.string(), train, true, alpha, Tensor::from_vector(graph, {3, 7}),
                    Tensor::from_vector(graph, {3, 7}), Tensor::from_vector(ld, {3, 7}));
  const std::vector<FigureSample> back = read_samples_csv(path.string());
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[2].id, "img2.png");
  EXPECT_EQ(back[2].label, 2);
  EXPECT_EQ(back[2].original_label, 5);
  EXPECT_TRUE(back[2].flipped());
  EXPECT_FALSE(back[1].flipped());
  EXPECT_EQ(back[1].id, "smile, \"big\".png");
  EXPECT_DOUBLE_EQ(back[2].alpha, 1000.125);
  EXPECT_DOUBLE_EQ(back[1].distribution[0], 0.4);
  EXPECT_DOUBLE_EQ(back[1].distribution[6], 0.1);

  std::ofstream(path) << "id,label\nx,1\n";
  EXPECT_NE(error_message([&] { read_samples_csv(path.string()); }).find(path.string() + ":1: not samples.csv's header"),
            std::string::npos);
  std::string text = "id,label,original_label,alpha";
  for (const char* prefix : {"ss_", "st_", "ld_"})
    for (auto name : data::kExpressionNames) text += std::string(",") + prefix + std::string(name);
  std::ofstream(path) << text << "\nx,9,,1" << std::string(21, ',') << "\n";
  EXPECT_NE(error_message([&] { read_samples_csv(path.string()); }).find(":2: field 2 (label): class 9"),
            std::string::npos);
  fs::remove(path);
}

TEST(SampleFigure, ChoosesIdsOrASeededDrawOfCleanAndFlipped) {
  const std::vector<FigureSample> all = six_samples();
  FigureOptions o;
  o.ids = {"s4", "s0"};
  const auto by_id = choose_figure_samples(all, o);
  ASSERT_EQ(by_id.size(), 2u);
  EXPECT_EQ(by_id[0].id, "s4");
  EXPECT_EQ(by_id[1].id, "s0");
  o.ids = {"s9"};
  EXPECT_NE(error_message([&] { choose_figure_samples(all, o); }).find("no training sample 's9'"), std::string::npos);

  o.ids.clear();
  o.count = 2;
  o.seed = 7;
  const auto drawn = choose_figure_samples(all, o);
  ASSERT_EQ(drawn.size(), 4u);  // 2 of the 4 clean, both flipped
  EXPECT_FALSE(drawn[0].flipped());
  EXPECT_FALSE(drawn[1].flipped());
  EXPECT_LT(drawn[0].id, drawn[1].id);  // file order within a group
  EXPECT_EQ(drawn[2].id, "s1");
  EXPECT_EQ(drawn[3].id, "s4");
  const auto again = choose_figure_samples(all, o);
  for (std::size_t i = 0; i < drawn.size(); ++i) EXPECT_EQ(again[i].id, drawn[i].id);
  // Over seeds, every clean sample gets drawn: a draw, not a fixed pick.
  std::set<std::string> seen;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    o.seed = seed;
    for (const auto& s : choose_figure_samples(all, o)) seen.insert(s.id);
  }
  EXPECT_EQ(seen.size(), 6u);
}

// An independent base64 decoder for the check below.
std::vector<std::uint8_t> unbase64(const std::string& text) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<std::uint8_t> out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    buffer = (buffer << 6) | static_cast<unsigned>(alphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST(SampleFigure, SvgHasAPanelPerSampleWithItsImageEmbeddedLosslessly) {
  const std::vector<FigureSample> chosen = six_samples();
  std::vector<data::Image> images;
  for (int i = 0; i < 6; ++i) {
    data::Image image(5 + i, 4, i % 2 ? 3 : 1);
    for (std::size_t p = 0; p < image.pixels.size(); ++p) image.pixels[p] = static_cast<std::uint8_t>(p * 37 + i);
    images.push_back(image);
  }
  const std::string svg = render_sample_figure(chosen, images, "a <title> & more");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(count(svg, "<g "), 6u);
  EXPECT_EQ(count(svg, "</g>"), 6u);
  EXPECT_EQ(count(svg, "<image "), 6u);
  EXPECT_NE(svg.find("a &lt;title&gt; &amp; more"), std::string::npos);
  EXPECT_NE(svg.find("clean labels"), std::string::npos);
  EXPECT_NE(svg.find("noisy labels"), std::string::npos);
  EXPECT_NE(svg.find("noisy; true: "), std::string::npos);
  EXPECT_NE(svg.find("\u03b1 = 2.5<"), std::string::npos);  // s1's alpha
  // Each embedded PNG decodes to its image, in panel order (clean first: s0, s2, s3, s5, then s1, s4).
  const std::vector<int> order = {0, 2, 3, 5, 1, 4};
  std::size_t at = 0;
  for (int i : order) {
    at = svg.find("href=\"data:image/png;base64,", at);
    ASSERT_NE(at, std::string::npos);
    at += 28;
    const std::string b64 = svg.substr(at, svg.find('"', at) - at);
    const std::vector<std::uint8_t> png = unbase64(b64);
    EXPECT_EQ(data::decode_image_bytes(png.data(), png.size(), "embedded"), images[static_cast<std::size_t>(i)])
        << "panel of s" << i;
    at = svg.find("</g>", at);  // skip the xlink:href copy
  }
  EXPECT_EQ(svg, render_sample_figure(chosen, images, "a <title> & more"));  // deterministic

  // A long id is cut between UTF-8 characters, never inside one; control characters are dropped.
  std::vector<FigureSample> odd = {chosen[0]};
  odd[0].id.clear();
  for (int i = 0; i < 20; ++i) odd[0].id += "\u00e9";  // 2 bytes each
  const std::string cut = render_sample_figure(odd, {images[0]}, "bell\x07");
  std::string thirteen;
  for (int i = 0; i < 13; ++i) thirteen += "\u00e9";
  EXPECT_NE(cut.find(">" + thirteen + "...<"), std::string::npos);
  EXPECT_EQ(cut.find('\x07'), std::string::npos);
  EXPECT_NE(cut.find(">bell<"), std::string::npos);
  EXPECT_NE(error_message([&] { render_sample_figure(chosen, {}, "t"); }).find("6 samples but 0 images"),
            std::string::npos);
}

}  // namespace
}  // namespace sceald::train
