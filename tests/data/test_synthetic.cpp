// The synthetic expression dataset: mixtures follow the co-occurrence table,
// votes are multinomial draws from the true distribution, a seed gives
// byte-identical files whatever the thread count, generation is atomic and
// cached by its parameters, the FERPlus reader reads exactly what was
// written, and the pictures carry their expression.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "engine/data/decode.h"
#include "engine/data/face_renderer.h"
#include "engine/data/synthetic.h"
#include "engine/io/atomic_file.h"
#include "tests/data/dataset_fixtures.h"

namespace sceald::data {
namespace {

namespace fs = std::filesystem;
using testing::TempFolder;
using testing::throws_with;

SyntheticOptions tiny(std::uint64_t seed = 5) {
  SyntheticOptions o;
  o.train = 24;
  o.valid = 9;
  o.test = 7;
  o.size = 32;
  o.seed = seed;
  return o;
}

// Every file under `dir` (relative path -> FNV-1a 64 of its bytes).
std::map<std::string, std::uint64_t> hash_tree(const std::string& dir) {
  std::map<std::string, std::uint64_t> hashes;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : io::read_file(entry.path().string())) h = (h ^ c) * 1099511628211ull;
    hashes[fs::relative(entry.path(), dir).string()] = h;
  }
  return hashes;
}

Generator stream(std::uint64_t i) {
  Generator g(99);
  g.set_state(99, i << 8);
  return g;
}

TEST(SyntheticMixture, DistributionsAreValidMixturesOfOneOrTwo) {
  for (std::uint64_t i = 0; i < 4000; ++i) {
    Generator g = stream(i);
    const ExpressionMixture m = draw_expression_mixture(g);
    double sum = 0.0;
    int nonzero = 0;
    for (double p : m.distribution) {
      ASSERT_GE(p, 0.0);
      sum += p;
      nonzero += p > 0.0;
    }
    ASSERT_NEAR(sum, 1.0, 1e-12) << "mixture " << i;
    if (m.secondary < 0) {
      ASSERT_EQ(nonzero, 1);
      ASSERT_EQ(m.distribution[m.dominant], 1.0);
    } else {
      ASSERT_EQ(nonzero, 2);
      ASSERT_NE(m.dominant, m.secondary);
      ASSERT_GE(m.distribution[m.dominant], 0.55 - 1e-12);
      ASSERT_LE(m.distribution[m.dominant], 0.85 + 1e-12);
      ASSERT_GT(m.distribution[m.dominant], m.distribution[m.secondary]);
    }
  }
}

TEST(SyntheticMixture, CooccurrenceFrequenciesFollowTheTable) {
  const auto& table = synthetic_cooccurrence();
  int total = 0;
  for (int a = 0; a < kNumExpressions; ++a) {
    EXPECT_EQ(table[a][a], 0);
    for (int b = 0; b < kNumExpressions; ++b) {
      EXPECT_EQ(table[a][b], table[b][a]) << "the table must be symmetric";
      if (b > a) total += table[a][b];
    }
  }
  ASSERT_EQ(total, 100);
  // Spot checks of the documented shape: surprise goes with happiness and
  // fear far more often than with neutral.
  EXPECT_GT(table[0][3], 5 * table[0][6]);
  EXPECT_GT(table[0][1], 5 * table[0][6]);

  constexpr int kDraws = 30000;
  int pure = 0;
  std::array<int, kNumExpressions> pure_class{};
  std::array<std::array<int, kNumExpressions>, kNumExpressions> pairs{};  // [dominant][secondary]
  for (int i = 0; i < kDraws; ++i) {
    Generator g = stream(static_cast<std::uint64_t>(i) + 100000);
    const ExpressionMixture m = draw_expression_mixture(g);
    if (m.secondary < 0) {
      ++pure;
      ++pure_class[m.dominant];
    } else {
      ++pairs[m.dominant][m.secondary];
    }
  }
  // Binomial counts within 4.5 standard deviations.
  const auto within = [](int count, int n, double p) {
    const double mean = n * p, sd = std::sqrt(n * p * (1 - p));
    return std::abs(count - mean) <= 4.5 * sd + 1.0;
  };
  EXPECT_TRUE(within(pure, kDraws, kSyntheticPureShare)) << pure;
  for (int k = 0; k < kNumExpressions; ++k)
    EXPECT_TRUE(within(pure_class[k], pure, 1.0 / kNumExpressions)) << "pure class " << k << ": " << pure_class[k];
  const int mixed = kDraws - pure;
  for (int a = 0; a < kNumExpressions; ++a)
    for (int b = a + 1; b < kNumExpressions; ++b) {
      const int count = pairs[a][b] + pairs[b][a];
      EXPECT_TRUE(within(count, mixed, table[a][b] / 100.0))
          << kExpressionNames[a] << "+" << kExpressionNames[b] << ": " << count << " of " << mixed;
      if (count > 200) {  // either member dominant half the time
        EXPECT_TRUE(within(pairs[a][b], count, 0.5)) << kExpressionNames[a] << " over " << kExpressionNames[b];
      }
    }
}

TEST(SyntheticMixture, VotesMatchTheDistributionInExpectation) {
  constexpr int kImages = 6000;
  std::array<double, kNumExpressions> mean_votes{}, mean_distribution{};
  for (int i = 0; i < kImages; ++i) {
    Generator g = stream(static_cast<std::uint64_t>(i) + 500000);
    const ExpressionMixture m = draw_expression_mixture(g);
    const FerPlusVotes votes = draw_votes(m.distribution, g);
    int sum = 0;
    for (int c = 0; c < kFerPlusVoteColumns; ++c) sum += votes[c];
    ASSERT_EQ(sum, 10);
    ASSERT_EQ(votes[7] + votes[8] + votes[9], 0) << "contempt, unknown and NF get no votes";
    for (int c = 0; c < kNumExpressions; ++c) {
      const int k = kFerPlusToCanonical[c];
      if (m.distribution[k] == 0.0) ASSERT_EQ(votes[c], 0) << "a vote for a class without mass";
      mean_votes[k] += votes[c] / double(kImages);
    }
    for (int k = 0; k < kNumExpressions; ++k) mean_distribution[k] += m.distribution[k] / kImages;
  }
  for (int k = 0; k < kNumExpressions; ++k) {
    // Per image the votes for k are Binomial(10, p_k): variance <= 2.5.
    const double sd_of_mean = std::sqrt(2.5 / kImages);
    EXPECT_NEAR(mean_votes[k], 10.0 * mean_distribution[k], 4.5 * sd_of_mean) << kExpressionNames[k];
  }
}

TEST(SyntheticMixture, DrawVotesOfAPureDistributionIsUnanimous) {
  Generator g(3);
  std::array<double, kNumExpressions> d{};
  d[1] = 1.0;  // fear: FERPlus column 6
  const FerPlusVotes votes = draw_votes(d, g);
  EXPECT_EQ(votes[6], 10);
}

TEST(SyntheticFaces, PrototypesBlendLinearly) {
  for (int k = 0; k < kNumExpressions; ++k) {
    std::array<double, kNumExpressions> w{};
    w[k] = 1.0;
    EXPECT_EQ(blend_expressions(w).to_array(), expression_prototype(k).to_array());
  }
  std::array<double, kNumExpressions> w{};
  w[0] = 0.7;  // surprise
  w[3] = 0.3;  // happiness
  const auto blended = blend_expressions(w).to_array();
  const auto s = expression_prototype(0).to_array(), h = expression_prototype(3).to_array();
  for (std::size_t f = 0; f < blended.size(); ++f) EXPECT_NEAR(blended[f], 0.7 * s[f] + 0.3 * h[f], 1e-15);
  w[0] = 0.8;
  EXPECT_THROW(blend_expressions(w), Error);
  EXPECT_THROW(expression_prototype(7), Error);
}

// Expression, not identity or lighting, dominates the picture: with the pose
// held fixed, a nearest-class-mean classifier on standardised pixels (no
// learning beyond averaging) names the expression of held-out faces far above
// chance (1/7). The pose is what a CNN has to learn to see through.
TEST(SyntheticFaces, ExpressionDominatesIdentityAndLighting) {
  constexpr int kSide = 32, kTrain = 280, kTest = 140;
  const auto render = [&](std::uint64_t seed, int i, int& label) {
    Generator g(seed);
    g.set_state(seed, static_cast<std::uint64_t>(i) << 20);
    label = static_cast<int>(g.next_below(kNumExpressions));
    std::array<double, kNumExpressions> w{};
    w[label] = 1.0;
    FaceAppearance a = draw_appearance(g);
    a.rotation = 0.0, a.scale = 1.0, a.shift_x = 0.0, a.shift_y = 0.0;
    const Image image = render_face(blend_expressions(w), a, kSide, g);
    std::vector<double> f(image.pixels.begin(), image.pixels.end());
    double mean = 0.0, var = 0.0;
    for (double v : f) mean += v / f.size();
    for (double v : f) var += (v - mean) * (v - mean) / f.size();
    for (double& v : f) v = (v - mean) / std::sqrt(var + 1e-9);
    return f;
  };
  std::vector<std::vector<double>> centroid(kNumExpressions, std::vector<double>(kSide * kSide));
  std::array<int, kNumExpressions> count{};
  for (int i = 0; i < kTrain; ++i) {
    int label = 0;
    const auto f = render(11, i, label);
    ++count[label];
    for (std::size_t j = 0; j < f.size(); ++j) centroid[label][j] += f[j];
  }
  for (int k = 0; k < kNumExpressions; ++k) {
    ASSERT_GT(count[k], 0);
    for (double& v : centroid[k]) v /= count[k];
  }
  int correct = 0;
  for (int i = 0; i < kTest; ++i) {
    int label = 0;
    const auto f = render(12, i, label);
    int best = 0;
    double best_distance = 1e300;
    for (int k = 0; k < kNumExpressions; ++k) {
      double d = 0.0;
      for (std::size_t j = 0; j < f.size(); ++j) d += (f[j] - centroid[k][j]) * (f[j] - centroid[k][j]);
      if (d < best_distance) best_distance = d, best = k;
    }
    correct += best == label;
  }
  const double accuracy = static_cast<double>(correct) / kTest;
  std::cout << "[ synth   ] nearest-class-mean accuracy at a fixed pose: " << accuracy << " (chance 0.143)\n";
  EXPECT_GT(accuracy, 0.6);
}

TEST(SyntheticFaces, RenderIsDeterministicAndChecksItsSize) {
  const SyntheticSample a = synthesize_sample(4, 17, 40), b = synthesize_sample(4, 17, 40);
  EXPECT_EQ(a.image, b.image);
  EXPECT_EQ(a.votes, b.votes);
  EXPECT_EQ(a.image.width, 40);
  EXPECT_EQ(a.image.channels, 1);
  EXPECT_NE(synthesize_sample(4, 18, 40).image, a.image);
  EXPECT_NE(synthesize_sample(5, 17, 40).image, a.image);
  Generator g(1);
  EXPECT_THROW(render_face(FaceShape{}, FaceAppearance{}, 4, g), Error);
}

TEST(SyntheticFiles, FixedSeedGivesIdenticalBytesWhateverTheThreads) {
  TempFolder tmp;
  SyntheticOptions one = tiny(), three = tiny();
  one.threads = 1;
  three.threads = 3;
  generate_synthetic_dataset(tmp / "a", one);
  generate_synthetic_dataset(tmp / "b", three);
  const auto a = hash_tree(tmp / "a"), b = hash_tree(tmp / "b");
  // 40 PNGs, 3 CSVs per split and the marker.
  EXPECT_EQ(a.size(), 24u + 9 + 7 + 3 * 3 + 1);
  EXPECT_EQ(a, b);
  generate_synthetic_dataset(tmp / "c", tiny(6));
  const auto c = hash_tree(tmp / "c");
  EXPECT_NE(a.at("FER2013Train/fer0000000.png"), c.at("FER2013Train/fer0000000.png"));
  EXPECT_NE(a.at("FER2013Train/label.csv"), c.at("FER2013Train/label.csv"));
  // Only the three sets: no temporaries left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path())) ++entries;
  EXPECT_EQ(entries, 3);
}

TEST(SyntheticFiles, FerPlusReaderReadsWhatSynthWrote) {
  TempFolder tmp;
  const SyntheticOptions o = tiny();
  generate_synthetic_dataset(tmp / "set", o);
  std::int64_t first = 0;
  for (Split split : {Split::Train, Split::Valid, Split::Test}) {
    DatasetOptions options;
    options.kind = DatasetKind::FerPlus;
    options.root = tmp / "set";
    options.split = split;
    const Dataset plurality = open_ferplus(options);
    options.labels = FerPlusLabels::Fer2013;
    const Dataset clean = open_ferplus(options);
    const std::string folder = tmp / "set/" + std::string(ferplus_split_folder(split));
    const std::vector<TrueDistribution> truth = read_true_distributions(folder);
    ASSERT_EQ(plurality.samples.size(), static_cast<std::size_t>(o.count(split))) << "nothing may be dropped";
    ASSERT_EQ(clean.samples.size(), plurality.samples.size());
    ASSERT_EQ(truth.size(), plurality.samples.size());
    for (std::size_t i = 0; i < plurality.samples.size(); ++i) {
      const std::int64_t index = first + static_cast<std::int64_t>(i);
      const SyntheticSample expected = synthesize_sample(o.seed, index, o.size);
      const Sample& s = plurality.samples[i];
      char name[32];
      std::snprintf(name, sizeof name, "fer%07lld.png", static_cast<long long>(index));
      ASSERT_EQ(s.id, name);
      ASSERT_EQ(truth[i].name, name);
      EXPECT_EQ(decode_image(s.path), expected.image) << s.path << " (PNG is lossless)";
      EXPECT_EQ(s.label, kFerPlusToCanonical[ferplus_plurality_column(expected.votes)]);
      EXPECT_EQ(clean.samples[i].label, expected.mixture.dominant) << "fer2013_label.csv holds the true dominant class";
      ASSERT_TRUE(s.distribution.has_value());
      for (int c = 0; c < kNumExpressions; ++c) {
        EXPECT_FLOAT_EQ((*s.distribution)[kFerPlusToCanonical[c]], expected.votes[c] / 10.0f);
      }
      double sum = 0.0;
      for (int k = 0; k < kNumExpressions; ++k) {
        EXPECT_DOUBLE_EQ(truth[i].distribution[k], expected.mixture.distribution[k]);
        sum += truth[i].distribution[k];
      }
      EXPECT_NEAR(sum, 1.0, 1e-12);
    }
    first += o.count(split);
  }
  const std::string label_csv = io::read_file(tmp / "set/FER2013Valid/label.csv");
  EXPECT_EQ(label_csv.rfind("fer0000024.png,\"(0, 0, 32, 32)\",", 0), 0u) << label_csv.substr(0, 60);
}

TEST(SyntheticFiles, MarkerDecidesWhetherToRegenerate) {
  TempFolder tmp;
  const std::string dir = tmp / "set";
  SyntheticOptions o = tiny();
  EXPECT_TRUE(ensure_synthetic_dataset(dir, o));
  const auto marker = read_synthetic_marker(dir);
  ASSERT_TRUE(marker.has_value());
  EXPECT_EQ(marker->version, kSyntheticVersion);
  EXPECT_TRUE(marker->options.same_data(o));
  o.threads = 2;  // not part of the data
  EXPECT_FALSE(ensure_synthetic_dataset(dir, o));
  o.train = 10;
  EXPECT_TRUE(ensure_synthetic_dataset(dir, o));
  EXPECT_EQ(read_synthetic_marker(dir)->options.train, 10);
  EXPECT_FALSE(fs::exists(dir + "/FER2013Train/fer0000023.png")) << "the old set was replaced, not merged";
  // Without its marker a folder is no longer known to be a generated set.
  fs::remove(dir + "/synthetic.json");
  EXPECT_TRUE(throws_with([&] { ensure_synthetic_dataset(dir, o); }, {dir, "synthetic.json", "refusing"}));
  EXPECT_TRUE(fs::exists(dir + "/FER2013Train/label.csv")) << "a foreign folder must be left alone";
  // An empty folder is fine.
  fs::create_directories(tmp / "empty");
  EXPECT_TRUE(ensure_synthetic_dataset(tmp / "empty", o));
  // A broken marker is an error naming it.
  tmp.write("bad/synthetic.json", "{ not json");
  EXPECT_TRUE(throws_with([&] { read_synthetic_marker(tmp / "bad"); }, {"bad/synthetic.json"}));
}

TEST(SyntheticFiles, OptionsAreChecked) {
  SyntheticOptions o = tiny();
  o.size = 8;
  EXPECT_TRUE(throws_with([&] { o.validate(); }, {"size", "8"}));
  o = tiny();
  o.valid = -1;
  EXPECT_TRUE(throws_with([&] { o.validate(); }, {"valid", "-1"}));
  o = tiny();
  o.train = o.valid = o.test = 0;
  EXPECT_THROW(o.validate(), Error);
  EXPECT_EQ(tiny().cache_name(), "synthetic-v" + std::to_string(kSyntheticVersion) + "-s32-n24-9-7-seed5");
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(SyntheticDataset, OpensFromTheCacheOrAGivenRoot) {
  TempFolder tmp;
  const ScopedEnv cache("XDG_CACHE_HOME", tmp / "cache");
  EXPECT_EQ(sceald_cache_root(), tmp / "cache/sceald");
  const SyntheticOptions o = tiny();
  DatasetOptions options;
  options.kind = DatasetKind::Synthetic;
  options.split = Split::Valid;
  const Dataset cached = open_synthetic_dataset(options, o);
  EXPECT_EQ(cached.name, "synthetic");
  EXPECT_EQ(cached.size(), 9u);
  EXPECT_TRUE(read_synthetic_marker(tmp / "cache/sceald/" + o.cache_name()).has_value());

  // A root holding a set of any parameters is read as it is.
  generate_synthetic_dataset(tmp / "mine", tiny(8));
  options.root = tmp / "mine";
  options.split = Split::Test;
  const Dataset mine = open_synthetic_dataset(options);
  EXPECT_EQ(mine.size(), 7u);
  EXPECT_EQ(mine.root, tmp / "mine");
  // A foreign, non-empty root is refused.
  tmp.write("foreign/readme.txt", "mine");
  options.root = tmp / "foreign";
  EXPECT_TRUE(throws_with([&] { open_synthetic_dataset(options, o); }, {"foreign", "refusing"}));
}

}  // namespace
}  // namespace sceald::data
