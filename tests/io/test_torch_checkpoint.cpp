#include "engine/io/torch_checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/zip_reader.h"

namespace sceald::io {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using json = nlohmann::json;

std::string fixture_path(const std::string& name) { return std::string(SCEALD_SOURCE_DIR) + "/tests/golden/fixtures/" + name; }

const json& expected_json() {
  static const json j = json::parse(read_file(fixture_path("ckpt_expected.json")));
  return j;
}

// Fixture names that must load, and those that must fail.
std::vector<std::string> fixtures(bool loading) {
  std::vector<std::string> out;
  for (const auto& [name, e] : expected_json().at("fixtures").items())
    if (e.contains("error") != loading) out.push_back(name);
  return out;
}

std::string error_of(const std::string& bytes, const std::string& source = "mem.pt") {
  try {
    parse_torch_checkpoint(bytes, source);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error for " << source;
  return "";
}

std::string notes_of(const TorchCheckpoint& c) {
  std::string out;
  for (const std::string& n : c.notes) out += n + "\n";
  return out;
}

std::vector<double> values_of(const Tensor& t) {
  std::vector<double> out;
  if (t.dtype() == DType::Float32)
    for (float v : t.to_vector<float>()) out.push_back(v);
  else if (t.dtype() == DType::Float64)
    out = t.to_vector<double>();
  else
    for (std::int64_t v : t.to_vector<std::int64_t>()) out.push_back(static_cast<double>(v));
  return out;
}

// A zip of STORED entries as the simplest writer makes it (no ZIP64, no descriptors).
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& entries) {
  auto le = [](std::string& s, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  std::string out, central;
  for (const auto& [name, data] : entries) {
    const std::uint32_t crc = crc32(data);
    const std::uint64_t offset = out.size();
    le(out, 0x04034b50, 4), le(out, 20, 2), le(out, 0, 2), le(out, 0, 2), le(out, 0, 4), le(out, crc, 4);
    le(out, data.size(), 4), le(out, data.size(), 4), le(out, name.size(), 2), le(out, 0, 2);
    out += name + data;
    le(central, 0x02014b50, 4), le(central, 20, 2), le(central, 20, 2), le(central, 0, 2), le(central, 0, 2);
    le(central, 0, 4), le(central, crc, 4), le(central, data.size(), 4), le(central, data.size(), 4);
    le(central, name.size(), 2), le(central, 0, 2), le(central, 0, 2), le(central, 0, 2), le(central, 0, 2);
    le(central, 0, 4), le(central, offset, 4);
    central += name;
  }
  const std::uint64_t cd_offset = out.size();
  out += central;
  le(out, 0x06054b50, 4), le(out, 0, 2), le(out, 0, 2), le(out, entries.size(), 2), le(out, entries.size(), 2);
  le(out, central.size(), 4), le(out, cd_offset, 4), le(out, 0, 2);
  return out;
}

// The entries of a fixture's archive, renamed under `prefix`, for building variants.
std::vector<std::pair<std::string, std::string>> entries_of(const std::string& fixture, const std::string& prefix) {
  static std::vector<std::string> keep;  // the archives stay alive for the views
  keep.push_back(read_file(fixture_path(fixture)));
  ZipReader zip(keep.back(), fixture);
  std::vector<std::pair<std::string, std::string>> out;
  for (const ZipEntry& e : zip.entries())
    out.emplace_back(prefix + e.name.substr(e.name.find('/')), std::string(zip.read(e)));
  return out;
}

// ---------------------------------------------------------------- zip reader

TEST(ZipReader, ReadsTorchArchivesWithTheirZip64EndRecord) {
  EXPECT_EQ(crc32("123456789"), 0xcbf43926u);
  const std::string bytes = read_file(fixture_path("ckpt_plain_zip.pt"));
  ASSERT_TRUE(looks_like_zip(bytes));
  ZipReader zip(bytes, "ckpt_plain_zip.pt");
  const ZipEntry* pkl = zip.find("ckpt_plain_zip/data.pkl");
  ASSERT_NE(pkl, nullptr);
  EXPECT_EQ(pkl->data_offset % 64, 0u);  // torch aligns entry data to 64 bytes
  EXPECT_EQ(zip.read(*pkl).substr(0, 2), std::string("\x80\x02", 2));
  EXPECT_EQ(zip.find("absent"), nullptr);

  // The hand-made ZIP64 archive (sizes and offsets in extra fields) holds the same entries.
  const std::string bytes64 = read_file(fixture_path("ckpt_zip64_zip.pt"));
  ZipReader zip64(bytes64, "ckpt_zip64_zip.pt");
  ASSERT_EQ(zip64.entries().size(), zip.entries().size());
  for (const ZipEntry& e : zip.entries()) {
    const ZipEntry* f = zip64.find(e.name);
    ASSERT_NE(f, nullptr) << e.name;
    EXPECT_EQ(zip64.read(*f), zip.read(e));
  }
}

TEST(ZipReader, RejectsDamageWithClearErrors) {
  auto error = [](const std::string& bytes) {
    try {
      ZipReader zip(bytes, "a.zip");
      for (const ZipEntry& e : zip.entries()) zip.read(e);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error(""), HasSubstr("too short"));
  EXPECT_THAT(error(std::string(100, 'x')), HasSubstr("no end-of-central-directory record"));
  const std::string good = make_zip({{"a/x", "hello"}});
  EXPECT_EQ(error(good), "no error");
  std::string corrupt = good;
  corrupt[30 + 3 + 1] ^= 1;  // a data byte of "hello"
  EXPECT_THAT(error(corrupt), HasSubstr("entry 'a/x' is corrupt: CRC-32"));
  EXPECT_THAT(error(make_zip({{"a/x", "1"}, {"a/x", "2"}})), HasSubstr("appears twice"));
  std::string bad_offset = good;
  bad_offset[good.size() - 22 + 16] = 0x7f;  // the central directory's offset
  EXPECT_THAT(error(bad_offset), HasSubstr("lies outside"));
  EXPECT_THAT(error(read_file(fixture_path("ckpt_deflate_zip.pt"))), HasSubstr("DEFLATE"));
}

// ---------------------------------------------------------------- fixtures

TEST(TorchCheckpoint, FixturesLoadWithExactValues) {
  ASSERT_GE(fixtures(true).size(), 9u);
  for (const std::string& name : fixtures(true)) {
    SCOPED_TRACE(name);
    const json& e = expected_json().at("fixtures").at(name);
    const json& reference = e.contains("tensors") ? e.at("tensors") : expected_json().at("state_dict");
    const TorchCheckpoint c = load_torch_checkpoint(fixture_path(name));
    EXPECT_EQ(c.format, e.at("format").get<std::string>());
    for (const auto& phrase : e.at("notes")) EXPECT_THAT(notes_of(c), HasSubstr(phrase.get<std::string>()));
    ASSERT_EQ(c.tensors.size(), reference.size());
    for (std::size_t i = 0; i < reference.size(); ++i) {
      const json& r = reference[i];
      const auto& [tensor_name, t] = c.tensors[i];
      EXPECT_EQ(tensor_name, r.at("name").get<std::string>());
      EXPECT_EQ(t.shape(), r.at("shape").get<Shape>()) << tensor_name;
      EXPECT_EQ(dtype_name(t.dtype()), r.at("dtype").get<std::string>()) << tensor_name;
      EXPECT_TRUE(t.is_contiguous()) << tensor_name;
      EXPECT_EQ(values_of(t), r.at("values").get<std::vector<double>>()) << tensor_name;
    }
    if (e.contains("tensors")) continue;
    // Two names of one tensor share it; two views of one storage do not.
    EXPECT_EQ(c.find("tied")->storage(), c.find("conv.weight")->storage());
    EXPECT_NE(c.find("shared.a")->storage(), c.find("shared.b")->storage());
  }
}

TEST(TorchCheckpoint, BadFixturesAreRejectedNamingTheProblem) {
  ASSERT_GE(fixtures(false).size(), 8u);
  for (const std::string& name : fixtures(false)) {
    SCOPED_TRACE(name);
    try {
      load_torch_checkpoint(fixture_path(name));
      ADD_FAILURE() << name << " loaded";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(expected_json().at("fixtures").at(name).at("error").get<std::string>()));
      EXPECT_THAT(e.what(), HasSubstr(name));
    }
  }
}

TEST(TorchCheckpoint, RejectsWhatIsNotAStateDict) {
  EXPECT_THAT(error_of(""), HasSubstr("not a PyTorch checkpoint"));
  EXPECT_THAT(error_of("hello world"), HasSubstr("not a PyTorch checkpoint"));
  EXPECT_THAT(error_of(make_zip({{"a/other.txt", "x"}})), HasSubstr("no '<folder>/data.pkl' entry"));
  // A pickled list, and a dict of no tensors.
  EXPECT_THAT(error_of(make_zip({{"a/data.pkl", std::string("\x80\x02]q\x00.", 6)}})),
              HasSubstr("the saved object is a list of 0, expected a dict"));
  EXPECT_THAT(error_of(make_zip({{"a/data.pkl", std::string("\x80\x02}X\x05\x00\x00\x00" "epochK\x03s.", 17)}})),
              HasSubstr("no tensors in the state_dict: it holds 'epoch' (int)"));
  // A TorchScript archive, a big-endian one, a storage record that is missing.
  auto plain = entries_of("ckpt_plain_zip.pt", "p");
  auto with = [&](std::pair<std::string, std::string> extra) {
    auto e = plain;
    e.push_back(std::move(extra));
    return make_zip(e);
  };
  EXPECT_THAT(error_of(with({"p/constants.pkl", ""})), HasSubstr("TorchScript"));
  EXPECT_THAT(error_of(with({"p/byteorder", "big"})), HasSubstr("only little-endian"));
  EXPECT_EQ(parse_torch_checkpoint(with({"p/byteorder", "little"}), "mem.pt").tensors.size(),
            expected_json().at("state_dict").size());
  auto missing = plain;
  std::erase_if(missing, [](const auto& e) { return e.first == "p/data/0"; });
  EXPECT_THAT(error_of(make_zip(missing)), HasSubstr("storage '0' has no entry 'p/data/0'"));
  EXPECT_THAT(error_of(std::string("\x80\x02\x8a\x0a") + std::string(10, 'x')), HasSubstr("legacy"));
}

TEST(TorchCheckpoint, MissingFileNamesThePath) {
  try {
    load_torch_checkpoint("/nonexistent/h8.pt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/h8.pt"));
  }
}

// ---------------------------------------------------------------- real legacy checkpoints

TEST(TorchCheckpoint, MtcnnLegacyCheckpointsMatchTorch) {
  const fs::path dir = fs::path(SCEALD_SHARED_DATA_DIR) / "mtcnn";
  if (!fs::exists(dir / "pnet.pt")) GTEST_SKIP() << "no " << dir << ": the real MTCNN checkpoints are not here";
  const json expected = json::parse(read_file(fixture_path("ckpt_mtcnn_expected.json")));
  for (const auto& [file, table] : expected.items()) {
    SCOPED_TRACE(file);
    const TorchCheckpoint c = load_torch_checkpoint((dir / file).string());
    EXPECT_EQ(c.format, "legacy");
    EXPECT_TRUE(c.notes.empty()) << notes_of(c);
    ASSERT_EQ(c.tensors.size(), table.size());
    for (std::size_t i = 0; i < table.size(); ++i) {
      const json& r = table[i];
      const auto& [name, t] = c.tensors[i];
      EXPECT_EQ(name, r.at("name").get<std::string>());
      EXPECT_EQ(t.shape(), r.at("shape").get<Shape>()) << name;
      ASSERT_EQ(t.dtype(), DType::Float32) << name;
      double sum = 0, sum_abs = 0, weighted = 0;
      const std::vector<float> v = t.to_vector<float>();
      for (std::size_t k = 0; k < v.size(); ++k) {
        sum += v[k];
        sum_abs += std::fabs(v[k]);
        weighted += v[k] * static_cast<double>(k % 13 + 1);
      }
      const double tol = 1e-10 * (r.at("sum_abs").get<double>() * 13 + 1);  // summation order differs
      EXPECT_NEAR(sum, r.at("sum").get<double>(), tol) << name;
      EXPECT_NEAR(sum_abs, r.at("sum_abs").get<double>(), tol) << name;
      EXPECT_NEAR(weighted, r.at("weighted_sum").get<double>(), tol) << name;
    }
  }
}

// ---------------------------------------------------------------- corrupt inputs

// In a child process whose address space is capped near its current size
// (so an allocation much larger than the tiny fixtures fails), cuts every
// fixture at every byte and flips random bytes; each result must be a
// sceald::Error or a clean load. Exits 0 when all is well.
void corruption_child() {
#if !defined(__SANITIZE_ADDRESS__)
  long pages = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
    std::fclose(f);
  }
  if (pages > 0) {
    const rlim_t cap = static_cast<rlim_t>(pages) * sysconf(_SC_PAGESIZE) + (64u << 20);
    rlimit limit{cap, cap};
    setrlimit(RLIMIT_AS, &limit);
  }
#endif
  std::vector<std::string> names = fixtures(true);
  for (const std::string& n : fixtures(false)) names.push_back(n);
  std::mt19937 rng(1234);
  auto attempt = [](const std::string& bytes, const std::string& what) {
    try {
      parse_torch_checkpoint(bytes, "corrupt.pt");
      return true;
    } catch (const Error& e) {
      if (std::string(e.what()).find("out of host memory") != std::string::npos) {
        std::fprintf(stderr, "%s: an allocation beyond the cap: %s\n", what.c_str(), e.what());
        std::_Exit(3);
      }
      return false;
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "%s: std::bad_alloc (an allocation beyond the cap)\n", what.c_str());
      std::_Exit(4);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: not a sceald::Error: %s\n", what.c_str(), e.what());
      std::_Exit(5);
    }
  };
  for (const std::string& name : names) {
    const std::string bytes = read_file(fixture_path(name));
    for (std::size_t n = 0; n < bytes.size(); ++n)
      if (attempt(bytes.substr(0, n), name + " cut to " + std::to_string(n) + " bytes")) {
        std::fprintf(stderr, "%s cut to %zu bytes loaded\n", name.c_str(), n);
        std::_Exit(1);
      }
    for (int trial = 0; trial < 300; ++trial) {
      std::string flipped = bytes;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) flipped[rng() % flipped.size()] ^= static_cast<char>(1 + rng() % 255);
      attempt(flipped, name + " with flipped bytes");
    }
  }
  std::_Exit(0);
}

TEST(TorchCheckpointDeathTest, TruncatedAndFlippedFilesFailCleanlyWithinMemory) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(corruption_child(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace sceald::io
