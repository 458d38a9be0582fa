// The word2vec reader (engine/io/word2vec.h) on the real gensim test files in
// ../shared/data/word2vec and on files the tests write, and the default class
// word vectors compiled into the library (nets/sceald/semantic.h).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "engine/data/expressions.h"
#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/word2vec.h"
#include "nets/sceald/semantic.h"

namespace sceald {
namespace {

namespace fs = std::filesystem;
using io::WordVectorFormat;
using io::WordVectors;

const std::string kWord2vecDir = std::string(SCEALD_SHARED_DATA_DIR) + "/word2vec";

#define SKIP_WITHOUT_SHARED_WORD2VEC()                                                                 \
  if (!fs::exists(kWord2vecDir))                                                                       \
  GTEST_SKIP() << "real word2vec files not found at " << kWord2vecDir << " (../shared/data is absent)"

// The error message of `f`, or "" if it does not throw sceald::Error.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// ---------------------------------------------------------------- real files

TEST(Word2VecRealFiles, GensimBinaryWithoutNewlinesKeepsTheWantedWords) {
  SKIP_WITHOUT_SHARED_WORD2VEC();
  const std::string path = kWord2vecDir + "/euclidean_vectors.bin";
  const std::vector<std::string> wanted = {"surprised", "fear", "happy", "angry", "surprise"};
  const WordVectors v = io::load_word_vectors(path, wanted);
  EXPECT_EQ(v.format, WordVectorFormat::Binary);
  EXPECT_EQ(v.file_word_count, 2747);
  EXPECT_EQ(v.dim, 10);
  EXPECT_EQ(v.words, wanted);  // in the order asked for
  ASSERT_EQ(v.values.size(), 50u);

  // The whole file, validated to its end: 2747 distinct words, and the same vectors.
  const WordVectors all = io::load_word_vectors(path, {}, {WordVectorFormat::Auto, false});
  ASSERT_EQ(all.size(), 2747);
  EXPECT_EQ(all.words.front(), "the");
  // The first vector's first value, read off the file's bytes b9 c8 d7 3e (little-endian).
  EXPECT_EQ(all.vector(0)[0], std::bit_cast<float>(0x3ed7c8b9u));
  for (const std::string& w : wanted) {
    const auto a = all.at(w), b = v.at(w);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << w;
  }
  // The file has no '\n' between records, so a reader that assumed one would
  // lose a byte per word: the last word must still be intact and finite.
  for (float x : all.vector(all.size() - 1)) EXPECT_TRUE(std::isfinite(x));
}

// x rounded to the nearest float16 value (11 significant bits, ties to even;
// normal range only, which is where these values lie).
float round_to_half(float x) {
  int e = 0;
  const double m = std::frexp(static_cast<double>(x), &e);  // |m| in [0.5, 1)
  return static_cast<float>(std::ldexp(std::nearbyint(std::ldexp(m, 11)), e - 11));
}

// gensim wrote the binary file from the text one loaded as float16
// (test_keyedvectors.py, test_type_conversion): each binary value is the
// text value rounded to float16 precision, exactly.
TEST(Word2VecRealFiles, HighPrecisionBinaryIsTheTextRoundedToHalf) {
  SKIP_WITHOUT_SHARED_WORD2VEC();
  const WordVectors bin = io::load_word_vectors(kWord2vecDir + "/high_precision.kv.bin");
  const WordVectors txt = io::load_word_vectors(kWord2vecDir + "/high_precision.kv.txt");
  EXPECT_EQ(bin.format, WordVectorFormat::Binary);
  EXPECT_EQ(txt.format, WordVectorFormat::Text);
  EXPECT_EQ(bin.words, (std::vector<std::string>{"kangaroo.n.01", "horse.n.01"}));
  EXPECT_EQ(bin.words, txt.words);
  EXPECT_EQ(bin.dim, 2);
  EXPECT_EQ(txt.values[0], -0.0007369244245224787f);
  EXPECT_EQ(txt.values[3], 0.0007694142576316829f);
  ASSERT_EQ(bin.values.size(), txt.values.size());
  for (std::size_t k = 0; k < bin.values.size(); ++k) {
    EXPECT_EQ(bin.values[k], round_to_half(txt.values[k])) << k;
    EXPECT_NE(bin.values[k], txt.values[k]) << k;  // the text really holds more precision
  }
  EXPECT_EQ(bin.values[0], -0.0007367134094238281f);  // numpy: np.float16(-0.0007369244245224787)
}

TEST(Word2VecRealFiles, Text300dHasTwentyWords) {
  SKIP_WITHOUT_SHARED_WORD2VEC();
  const std::string path = kWord2vecDir + "/EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt";
  const WordVectors all = io::load_word_vectors(path);
  EXPECT_EQ(all.format, WordVectorFormat::Text);
  ASSERT_EQ(all.size(), 20);
  EXPECT_EQ(all.dim, 300);
  EXPECT_EQ(all.words.front(), "one");
  EXPECT_EQ(all.words.back(), "mango");
  EXPECT_EQ(all.vector(0)[0], -1.671300083398818970e-02f);
  EXPECT_EQ(all.vector(0)[1], 7.239600270986557007e-02f);
  const WordVectors some = io::load_word_vectors(path, {"mango", "dog"});
  EXPECT_EQ(some.words, (std::vector<std::string>{"mango", "dog"}));
  const auto a = some.at("dog"), b = all.at("dog");
  EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
}

TEST(Word2VecRealFiles, MissingWordsAreNamedWithTheFile) {
  SKIP_WITHOUT_SHARED_WORD2VEC();
  const std::string path = kWord2vecDir + "/euclidean_vectors.bin";
  const std::string msg = error_of([&] { io::load_word_vectors(path, {"happy", "disgusted", "Neutral-ish"}); });
  EXPECT_NE(msg.find("'disgusted'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'Neutral-ish'"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("'happy'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  // A binary file forced through the text parser fails cleanly.
  EXPECT_NE(error_of([&] { io::load_word_vectors(path, {}, {WordVectorFormat::Text, true}); }), "");
}

// ---------------------------------------------------------------- files the tests write

// Three words whose vectors hold the bytes 0x0a ('\n') and 0x20 (' '), the two
// a careless binary reader could mistake for separators, and a UTF-8 word.
WordVectors small_vectors() {
  WordVectors v;
  v.words = {"alpha", "caf\xc3\xa9", "gamma_delta"};
  v.dim = 3;
  v.values = {std::bit_cast<float>(0x0a200a20u), -1.5f, 0.25f,
              3.0e-7f, std::bit_cast<float>(0x3f0a2020u), -2.0f,
              1e30f, -0.1f, std::bit_cast<float>(0x200a3f3fu)};
  v.source = "small";
  return v;
}

struct Serialised {
  const char* name;
  std::string bytes;
  std::size_t optional_tail;  // trailing bytes the format makes optional
};

std::vector<Serialised> small_files() {
  const WordVectors v = small_vectors();
  return {{"text", io::format_word_vectors_text(v), 0},
          {"binary+newline", io::format_word_vectors_binary(v, true), 1},
          {"binary", io::format_word_vectors_binary(v, false), 0}};
}

TEST(Word2VecWritten, RoundTripsInEveryFormat) {
  const WordVectors v = small_vectors();
  for (const Serialised& s : small_files()) {
    const WordVectors r = io::parse_word_vectors(s.bytes, s.name);
    EXPECT_EQ(r.words, v.words) << s.name;
    EXPECT_EQ(r.values, v.values) << s.name;  // bit-exact, text included (shortest round-trip decimals)
    EXPECT_EQ(r.format, std::string(s.name) == "text" ? WordVectorFormat::Text : WordVectorFormat::Binary) << s.name;
  }
  // Google's layout: "\n" after every vector; gensim's: none.
  EXPECT_EQ(small_files()[1].bytes.size(), small_files()[2].bytes.size() + 3);
}

TEST(Word2VecWritten, EveryTruncationIsACleanError) {
  for (const Serialised& s : small_files()) {
    for (std::size_t k = 0; k < s.bytes.size() - s.optional_tail; ++k) {
      const std::string prefix = s.bytes.substr(0, k);
      for (bool want_all : {true, false}) {
        const std::vector<std::string> wanted =
            want_all ? std::vector<std::string>{} : std::vector<std::string>{"gamma_delta", "alpha"};
        const std::string msg = error_of([&] { io::parse_word_vectors(prefix, "cut-file", wanted); });
        ASSERT_NE(msg, "") << s.name << " cut at byte " << k << " of " << s.bytes.size() << " was accepted";
        EXPECT_NE(msg.find("cut-file"), std::string::npos) << msg;
      }
    }
    // Where the rest is optional (the last '\n' of a Google-style file), the prefix is complete.
    for (std::size_t k = s.bytes.size() - s.optional_tail; k <= s.bytes.size(); ++k)
      EXPECT_EQ(io::parse_word_vectors(s.bytes.substr(0, k), "cut-file").values, small_vectors().values);
  }
}

TEST(Word2VecWritten, TruncationMessagesSayWhere) {
  const std::string bin = small_files()[2].bytes;  // "3 3\n" + 3 records of (word, ' ', 12 bytes)
  const std::string msg = error_of([&] { io::parse_word_vectors(bin.substr(0, bin.size() - 5), "f.bin"); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("word 2 of 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte offset " + std::to_string(4 + 6 + 12 + 6 + 12)), std::string::npos) << msg;
  EXPECT_NE(msg.find("'gamma_delta'"), std::string::npos) << msg;
}

TEST(Word2VecWritten, BadHeadersAreRejected) {
  const std::string body = "a 1 2\n";
  for (const std::string& header : {std::string(""), std::string("\n"), std::string("abc\n"), std::string("1\n"),
                                    std::string("1 2 3\n"), std::string("-1 2\n"), std::string("1 0\n"),
                                    std::string("1 999999\n"), std::string("1 2x\n"), std::string(300, '1')}) {
    const std::string msg = error_of([&] { io::parse_word_vectors(header + body, "hdr"); });
    EXPECT_NE(msg, "") << "header '" << header << "' accepted";
    EXPECT_NE(msg.find("hdr"), std::string::npos) << msg;
  }
  EXPECT_EQ(io::parse_word_vectors("1 2\r\n" + body, "crlf").size(), 1);  // Windows line ends are fine
  EXPECT_EQ(io::parse_word_vectors("0 5\n", "empty").size(), 0);
}

TEST(Word2VecWritten, CountsAndValuesAreValidated) {
  auto fails_with = [](const std::string& bytes, const std::string& needle, const std::vector<std::string>& wanted = {}) {
    const std::string msg = error_of([&] { io::parse_word_vectors(bytes, "v.txt", wanted); });
    EXPECT_NE(msg.find(needle), std::string::npos) << "'" << needle << "' not in: " << msg;
  };
  fails_with("3 2\na 1 2\nb 3 4\n", "truncated");            // fewer words than announced
  fails_with("1 2\na 1 2\nb 3 4\n", "word count is wrong");  // more
  fails_with("2 2\na 1 2\nb 3\n", "has 1 values");            // a short vector
  fails_with("2 2\na 1 2\nb 3 4 5\n", "has 3 values");
  fails_with("1 2\na 1 zz\n", "not a number");
  fails_with("1 2\na 1 nan\n", "is nan");
  fails_with("1 2\na 1 1e999\n", "not a number");  // out of float range
  fails_with("1 2\na 1 2", "no newline");           // text cut mid-number would look complete
  fails_with("1 2\na 1 2\n", "asked for twice", {"a", "a"});
  fails_with("1 2\na 1 2\n", "empty word", {""});
  // Binary: a word running past the limit, and a non-finite value.
  fails_with("1 1\n" + std::string(io::kMaxWordBytes + 10, 'w') + " \x01\x02\x03\x04", "no space within");
  fails_with("1 1\n" + std::string(io::kMaxWordBytes + 10, 'w') + " 1.5\n", "longer than");
  std::string inf_file = "1 1\nw ";
  const float inf = INFINITY;
  inf_file.append(reinterpret_cast<const char*>(&inf), 4);
  fails_with(inf_file, "is inf");
  // The same word twice: the first one counts.
  const WordVectors dup = io::parse_word_vectors("2 1\nw 1\nw 2\n", "dup");
  EXPECT_EQ(dup.words, std::vector<std::string>{"w"});
  EXPECT_EQ(dup.values, std::vector<float>{1.0f});
  EXPECT_EQ(io::parse_word_vectors("2 1\nw 1\nw 2\n", "dup", {"w"}).values, std::vector<float>{1.0f});
}

class Word2VecFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("sceald_w2v_" + std::to_string(::getpid()) + "_" + info->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// A file larger than the reader's 1 MiB buffer: words at the start, the
// middle (across buffer refills) and the end are found; the whole file reads
// back exactly, in each format.
TEST_F(Word2VecFiles, StreamsAFileLargerThanTheBuffer) {
  WordVectors big;
  big.dim = 16;
  const int n = 20000;  // ~1.4 MB binary, ~2 MB text
  for (int i = 0; i < n; ++i) {
    big.words.push_back("w" + std::to_string(i));
    for (int k = 0; k < big.dim; ++k) big.values.push_back(static_cast<float>(std::sin(i * 0.37 + k)) * 3.0f);
  }
  for (const auto& [format, newline] : {std::pair{WordVectorFormat::Binary, true}, std::pair{WordVectorFormat::Binary, false},
                                        std::pair{WordVectorFormat::Text, true}}) {
    const std::string path = (dir_ / ("big" + std::to_string(static_cast<int>(format)) + (newline ? "n" : ""))).string();
    io::save_word_vectors(path, big, format, newline);
    const WordVectors all = io::load_word_vectors(path, {}, {WordVectorFormat::Auto, false});
    EXPECT_EQ(all.format, format);
    EXPECT_EQ(all.words, big.words);
    EXPECT_EQ(all.values, big.values);
    const WordVectors some = io::load_word_vectors(path, {"w19999", "w0", "w12345"});
    for (const std::string& w : some.words) {
      const auto a = some.at(w), b = all.at(w);
      EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << w;
    }
  }
  EXPECT_NE(error_of([&] { io::load_word_vectors((dir_ / "absent.bin").string()); }).find("absent.bin"),
            std::string::npos);
}

// ---------------------------------------------------------------- default class vectors

TEST(DefaultClassWordVectors, AreTheSevenClassWordsInClassOrder) {
  const WordVectors v = method::default_class_word_vectors();
  ASSERT_EQ(v.size(), data::kNumExpressions);
  for (int k = 0; k < data::kNumExpressions; ++k) EXPECT_EQ(v.words[k], data::kExpressionWords[k]);
  EXPECT_EQ(v.dim, 50);
  EXPECT_EQ(v.format, WordVectorFormat::Text);
  // The committed file's "happy" line starts 0.092086 0.2571 -0.58693.
  EXPECT_EQ(v.at("happy")[0], 0.092086f);
  EXPECT_EQ(v.at("happy")[1], 0.2571f);
  EXPECT_EQ(v.at("happy")[2], -0.58693f);
  // An empty path means the default; a file path means that file.
  EXPECT_EQ(method::load_class_word_vectors("").values, v.values);
}

TEST(DefaultClassWordVectors, EmbeddedBytesEqualTheCommittedFile) {
  const std::string committed =
      io::read_file(std::string(SCEALD_SOURCE_DIR) + "/data/word_vectors/glove6b50d_class_words.txt");
  EXPECT_EQ(std::string(method::default_word_vectors_text()), committed)
      << "data/word_vectors/default_vectors.inc is stale: rerun tools/make_word_vectors.py";
  const WordVectors from_file = method::load_class_word_vectors(std::string(SCEALD_SOURCE_DIR) +
                                                                "/data/word_vectors/glove6b50d_class_words.txt");
  EXPECT_EQ(from_file.values, method::default_class_word_vectors().values);
}

TEST(DefaultClassWordVectors, AnAllZeroClassVectorIsRefused) {
  const fs::path path = fs::temp_directory_path() / ("sceald-zero-vector-" + std::to_string(getpid()) + ".txt");
  std::string text = "7 3\n";
  for (int k = 0; k < data::kNumExpressions; ++k)
    text += std::string(data::kExpressionWords[k]) + (k == 2 ? " 0 0 0\n" : " 1 " + std::to_string(k) + " 2\n");
  std::ofstream(path) << text;
  const std::string msg = error_of([&] { method::load_class_word_vectors(path.string()); });
  EXPECT_NE(msg.find(path.string() + ": the vector of '" + std::string(data::kExpressionWords[2]) + "' is all zeros"),
            std::string::npos)
      << msg;
  fs::remove(path);
}

TEST(DefaultClassWordVectors, ClassWordMissingFromAUserFileIsNamed) {
  SKIP_WITHOUT_SHARED_WORD2VEC();
  // euclidean_vectors.bin has surprised, fear, happy, angry but not disgusted, sad, neutral.
  const std::string msg = error_of([&] { method::load_class_word_vectors(kWord2vecDir + "/euclidean_vectors.bin"); });
  EXPECT_NE(msg.find("'disgusted', 'sad', 'neutral'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("euclidean_vectors.bin"), std::string::npos) << msg;
}

}  // namespace
}  // namespace sceald
