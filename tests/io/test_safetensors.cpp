#include "engine/io/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace sceald::io {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Named = std::vector<std::pair<std::string, Tensor>>;

const char* kSource = "mem.safetensors";

// 8-byte little-endian length, the header as given, then the data bytes.
std::string make_file(const std::string& header, const std::string& data = "") {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

// The message of the sceald::Error that parsing `file` throws (and a test
// failure when it parses, or throws anything else).
std::string error_of(const std::string& file) {
  try {
    parse_safetensors(file, kSource);
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr(kSource));
    return msg;
  }
  ADD_FAILURE() << "expected an error for a file of " << file.size() << " bytes";
  return "";
}

// One tensor entry of a hand-written header.
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
}

class SafetensorsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("sceald_st_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// A file with a bit of everything, for truncation and corruption tests.
std::string sample_file() {
  Named tensors = {
      {"w", Tensor::from_vector<float>({1.5f, -2.f, 3.25f, 4.f, 5.f, 6.f}, {2, 3})},
      {"b", Tensor::from_vector<double>({0.5, -0.25}, {2})},
      {"empty", Tensor::empty({0, 4})},
      {"labels", Tensor::from_vector<std::int64_t>({7, -8, 9}, {3})},
      {"s", Tensor::scalar(2.0)},
  };
  return serialize_safetensors(tensors, {{"format", "pt"}, {"epoch", "3"}});
}

// ---------------------------------------------------------------- round trips

TEST_F(SafetensorsFileTest, RoundTripsDtypesShapesScalarsEmptiesAndMetadata) {
  Tensor f = Tensor::from_vector<float>({1.f, -2.5f, 3.f, 1e-20f, 65504.f, -0.f}, {2, 3});
  Tensor d = Tensor::from_vector<double>({1.0 / 3.0, -1e300, 4.0, 5.5}, {4});
  Tensor i = Tensor::from_vector<std::int64_t>({std::numeric_limits<std::int64_t>::min(), -1, 0, 1, 2,
                                                std::numeric_limits<std::int64_t>::max()},
                                               {2, 1, 3});
  Tensor scalar = Tensor::scalar(7.25);
  Tensor empty_f = Tensor::empty({0, 3});
  Tensor empty_i = Tensor::empty({4, 0}, DType::Int64);
  Tensor d4 = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 1, 2, 2});
  Named tensors = {{"conv.weight", f}, {"bias", d},       {"labels", i},   {"scalar", scalar},
                   {"empty_f", empty_f}, {"empty_i", empty_i}, {"four_d", d4}};
  std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "\xc3\xbc \"quoted\" \\ ok"}};

  const std::string file = path("model.safetensors");
  save_safetensors(file, tensors, metadata);
  const std::string on_disk = read_file(file);
  EXPECT_EQ(on_disk, serialize_safetensors(tensors, metadata));
  std::uint64_t header_bytes;
  std::memcpy(&header_bytes, on_disk.data(), 8);
  EXPECT_EQ(header_bytes % 8, 0u) << "the header is padded to a multiple of 8 bytes";

  for (const SafetensorsFile& loaded : {load_safetensors(file), parse_safetensors(on_disk, "x")}) {
    ASSERT_EQ(loaded.tensors.size(), tensors.size());
    for (std::size_t k = 0; k < tensors.size(); ++k) {
      const auto& [name, want] = tensors[k];
      const auto& [got_name, got] = loaded.tensors[k];
      EXPECT_EQ(got_name, name) << "tensors come back in the order they were written";
      EXPECT_EQ(got.shape(), want.shape()) << name;
      EXPECT_EQ(got.dtype(), want.dtype()) << name;
      EXPECT_TRUE(got.device().is_cpu());
      switch (want.dtype()) {
        case DType::Float32: EXPECT_EQ(got.to_vector<float>(), want.to_vector<float>()) << name; break;
        case DType::Float64: EXPECT_EQ(got.to_vector<double>(), want.to_vector<double>()) << name; break;
        case DType::Int64: EXPECT_EQ(got.to_vector<std::int64_t>(), want.to_vector<std::int64_t>()) << name; break;
      }
    }
    EXPECT_EQ(loaded.metadata, metadata);
    EXPECT_EQ(loaded.at("scalar").item<float>(), 7.25f);
    EXPECT_EQ(loaded.find("nope"), nullptr);
    EXPECT_NE(loaded.find("bias"), nullptr);
  }
}

TEST(SafetensorsSave, TransposedTensorIsWrittenRowMajor) {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3}).transpose(0, 1);  // [3, 2]
  ASSERT_FALSE(t.is_contiguous());
  SafetensorsFile loaded = parse_safetensors(serialize_safetensors({{"t", t}}), "t");
  EXPECT_EQ(loaded.at("t").shape(), (Shape{3, 2}));
  EXPECT_EQ(loaded.at("t").to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(SafetensorsSave, EmptyListAndMetadataOnly) {
  SafetensorsFile none = parse_safetensors(serialize_safetensors({}), "none");
  EXPECT_TRUE(none.tensors.empty());
  EXPECT_TRUE(none.metadata.empty());
  SafetensorsFile meta = parse_safetensors(serialize_safetensors({}, {{"k", "v"}}), "meta");
  EXPECT_EQ(meta.metadata.at("k"), "v");
}

TEST(SafetensorsSave, RejectsBadNamesAndUndefinedTensors) {
  Tensor t = Tensor::zeros({2});
  EXPECT_THROW(serialize_safetensors({{"a", t}, {"a", t}}), Error);
  EXPECT_THROW(serialize_safetensors({{"__metadata__", t}}), Error);
  EXPECT_THROW(serialize_safetensors({{"u", Tensor()}}), Error);
  EXPECT_THROW(serialize_safetensors({{"bad\xff utf8", t}}), Error);
}

TEST_F(SafetensorsFileTest, SaveIntoMissingFolderNamesIt) {
  try {
    save_safetensors(path("missing_dir/m.safetensors"), {{"a", Tensor::zeros({1})}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("missing_dir"));
  }
}

TEST_F(SafetensorsFileTest, LoadMissingFileNamesIt) {
  try {
    load_safetensors(path("absent.safetensors"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("absent.safetensors"));
  }
}

TEST(SafetensorsLookup, AtNamesTheSourceAndTheMissingName) {
  SafetensorsFile f = parse_safetensors(sample_file(), "weights.safetensors");
  try {
    f.at("missing.weight");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("weights.safetensors"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("missing.weight"));
  }
}

// ---------------------------------------------------------------- known bytes

// The two examples from the reference implementation's Python tests
// (bindings/python/tests/test_simple.py), one with padding and metadata.
TEST(SafetensorsKnownBytes, ReferenceExamples) {
  const std::string plain = bytes({0x3c, 0, 0, 0, 0, 0, 0, 0}) +
                            R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}})" +
                            bytes({1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0});
  SafetensorsFile a = parse_safetensors(plain, "plain");
  ASSERT_EQ(a.tensors.size(), 1u);
  EXPECT_EQ(a.at("test").dtype(), DType::Int64);
  EXPECT_EQ(a.at("test").shape(), (Shape{2, 2}));
  EXPECT_EQ(a.at("test").to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 2, 3, 4}));

  const std::string with_meta =
      bytes({0x66, 0, 0, 0, 0, 0, 0, 0}) +
      R"({"__metadata__":{"framework":"pt"},"test1":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}       )" +
      std::string(16, '\0');
  SafetensorsFile b = parse_safetensors(with_meta, "with_meta");
  EXPECT_EQ(b.metadata, (std::map<std::string, std::string>{{"framework", "pt"}}));
  EXPECT_EQ(b.at("test1").to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 0, 0, 0}));
}

TEST(SafetensorsKnownBytes, HalfBFloatAndSmallIntegersConvert) {
  // Offsets listed out of order on purpose: tensors come back sorted by offset.
  const std::string header = "{" + entry("b", "BF16", "[3]", "[12,18]") + "," +
                             entry("h", "F16", "[2,3]", "[0,12]") + "," + entry("i", "I32", "[2]", "[18,26]") +
                             "," + entry("s", "I16", "[1]", "[26,28]") + "," + entry("c", "I8", "[2]", "[28,30]") +
                             "," + entry("u", "U8", "[2]", "[30,32]") + "," + entry("t", "BOOL", "[3]", "[32,35]") +
                             "," + entry("n", "F16", "[]", "[35,37]") + "}";
  const std::string data = bytes({
      0x00, 0x3c, 0x00, 0xc0, 0x55, 0x35,  // F16 1, -2, 0.333251953125
      0x00, 0x7c, 0x01, 0x00, 0x00, 0x80,  // F16 inf, 2^-24 (smallest subnormal), -0
      0x80, 0x3f, 0x40, 0xc0, 0x49, 0x40,  // BF16 1, -3, 3.140625
      0xfb, 0xff, 0xff, 0xff,              // I32 -5
      0x70, 0x11, 0x01, 0x00,              // I32 70000
      0xd4, 0xfe,                          // I16 -300
      0x80, 0x7f,                          // I8 -128, 127
      0x00, 0xff,                          // U8 0, 255
      0x01, 0x00, 0x01,                    // BOOL true, false, true
      0x00, 0x7e,                          // F16 NaN
  });
  SafetensorsFile f = parse_safetensors(make_file(header, data), "hand-made");

  std::vector<std::string> order;
  for (const auto& [name, t] : f.tensors) order.push_back(name);
  EXPECT_EQ(order, (std::vector<std::string>{"h", "b", "i", "s", "c", "u", "t", "n"}));

  const Tensor& h = f.at("h");
  EXPECT_EQ(h.dtype(), DType::Float32);
  EXPECT_EQ(h.shape(), (Shape{2, 3}));
  std::vector<float> hv = h.to_vector<float>();
  EXPECT_EQ(hv[0], 1.0f);
  EXPECT_EQ(hv[1], -2.0f);
  EXPECT_EQ(hv[2], 0.333251953125f);
  EXPECT_TRUE(std::isinf(hv[3]) && hv[3] > 0);
  EXPECT_EQ(hv[4], std::ldexp(1.0f, -24));
  EXPECT_TRUE(hv[5] == 0.0f && std::signbit(hv[5]));
  EXPECT_EQ(f.at("b").to_vector<float>(), (std::vector<float>{1.0f, -3.0f, 3.140625f}));
  EXPECT_EQ(f.at("i").to_vector<std::int64_t>(), (std::vector<std::int64_t>{-5, 70000}));
  EXPECT_EQ(f.at("s").to_vector<std::int64_t>(), (std::vector<std::int64_t>{-300}));
  EXPECT_EQ(f.at("c").to_vector<std::int64_t>(), (std::vector<std::int64_t>{-128, 127}));
  EXPECT_EQ(f.at("u").to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 255}));
  EXPECT_EQ(f.at("t").to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 0, 1}));
  EXPECT_EQ(f.at("t").dtype(), DType::Int64);
  EXPECT_EQ(f.at("n").shape(), Shape{});
  EXPECT_TRUE(std::isnan(f.at("n").item<float>()));
}

TEST(SafetensorsKnownBytes, UnknownEntryFieldsAreIgnoredAsByTheReference) {
  const std::string header =
      R"({"a":{"extra":{"nested":[1,{"x":null}]},"dtype":"U8","shape":[1],"note":"hi","data_offsets":[0,1]}})";
  SafetensorsFile f = parse_safetensors(make_file(header, bytes({9})), "extra");
  EXPECT_EQ(f.at("a").to_vector<std::int64_t>(), (std::vector<std::int64_t>{9}));
}

// ---------------------------------------------------------------- one test per rule

TEST(SafetensorsValidation, FileShorterThanEightBytes) {
  EXPECT_THAT(error_of(""), HasSubstr("shorter than 8 bytes"));
  EXPECT_THAT(error_of("abcdefg"), HasSubstr("shorter than 8 bytes"));
}

TEST(SafetensorsValidation, HeaderLengthOverTheCapIsRefusedBeforeAllocating) {
  std::string file = make_file("");
  std::uint64_t n = 100000000;
  std::memcpy(file.data(), &n, 8);
  EXPECT_THAT(error_of(file), HasSubstr("exceeds the limit"));
  n = std::numeric_limits<std::uint64_t>::max();
  std::memcpy(file.data(), &n, 8);
  EXPECT_THAT(error_of(file), HasSubstr("exceeds the limit"));
}

TEST_F(SafetensorsFileTest, HeaderLengthOverTheCapFromAFile) {
  std::string file = make_file("{}");
  std::uint64_t n = 100000000;
  std::memcpy(file.data(), &n, 8);
  const std::string p = path("huge_header.safetensors");
  write_file_atomically(p, [&](std::ostream& os) { os << file; });
  try {
    load_safetensors(p);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("exceeds the limit"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("100000000"));
    EXPECT_THAT(std::string(e.what()), HasSubstr(p));
  }
}

TEST(SafetensorsValidation, HeaderLengthPastEndOfFile) {
  std::string file = make_file("{}");
  file[0] = 40;
  EXPECT_THAT(error_of(file), HasSubstr("runs past the end of the file"));
}

TEST(SafetensorsValidation, HeaderNotValidJson) {
  EXPECT_THAT(error_of(make_file("")), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of(make_file("{\"a\":")), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of(make_file("{} x")), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of(make_file(std::string("{}\0\0\0\0\0\0", 8))), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of(make_file("{\"bad \xff utf8\":{}}")), HasSubstr("not valid JSON"));
}

TEST(SafetensorsValidation, HeaderNotAnObject) {
  EXPECT_THAT(error_of(make_file("[1,2]")), HasSubstr("not a JSON object"));
  EXPECT_THAT(error_of(make_file("42")), HasSubstr("not a JSON object"));
  EXPECT_THAT(error_of(make_file("\"text\"")), HasSubstr("not a JSON object"));
}

TEST(SafetensorsValidation, EntryNotAnObjectOrMissingFields) {
  EXPECT_THAT(error_of(make_file(R"({"a":5})")), HasSubstr("entry of tensor 'a' is not an object"));
  EXPECT_THAT(error_of(make_file(R"({"a":[1]})")), HasSubstr("entry of tensor 'a' is not an object"));
  EXPECT_THAT(error_of(make_file(R"({"a":{"shape":[1],"data_offsets":[0,4]}})")), HasSubstr("is missing 'dtype'"));
  EXPECT_THAT(error_of(make_file(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})")), HasSubstr("is missing 'shape'"));
  EXPECT_THAT(error_of(make_file(R"({"a":{"dtype":"F32","shape":[1]}})")), HasSubstr("is missing 'data_offsets'"));
  EXPECT_THAT(error_of(make_file(R"({"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})")),
              HasSubstr("dtype of tensor 'a' is not a string"));
  EXPECT_THAT(error_of(make_file(R"({"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}})")),
              HasSubstr("duplicate key"));
}

TEST(SafetensorsValidation, UnsupportedDtype) {
  for (const char* dtype : {"F8_E4M3", "U16", "C64", "Q4", "f32", ""}) {
    std::string msg = error_of(make_file("{" + entry("w", dtype, "[1]", "[0,1]") + "}", bytes({0})));
    EXPECT_THAT(msg, HasSubstr("unsupported dtype"));
    EXPECT_THAT(msg, HasSubstr(std::string("'") + dtype + "'"));
    EXPECT_THAT(msg, HasSubstr("'w'"));
  }
}

TEST(SafetensorsValidation, ShapeNotAListOfNonNegativeIntegers) {
  for (const char* shape :
       {"[-1]", "[1.5]", "[\"2\"]", "3", "[[1]]", "[null]", "{}", "[1e3]", "[18446744073709551616]"}) {
    EXPECT_THAT(error_of(make_file("{" + entry("w", "U8", shape, "[0,1]") + "}", bytes({0}))),
                HasSubstr("not a list of non-negative integers"))
        << shape;
  }
}

TEST(SafetensorsValidation, DataOffsetsNotTwoOrderedNonNegativeIntegers) {
  for (const char* offsets : {"[0]", "[0,1,2]", "[-1,1]", "[0,1.0]", "5", "[]", "[[0],1]"}) {
    EXPECT_THAT(error_of(make_file("{" + entry("w", "U8", "[1]", offsets) + "}", bytes({0}))),
                HasSubstr("not two non-negative integers"))
        << offsets;
  }
  EXPECT_THAT(error_of(make_file("{" + entry("w", "U8", "[0]", "[1,0]") + "}", bytes({0}))),
              HasSubstr("begin after they end"));
}

TEST(SafetensorsValidation, DuplicateTensorNames) {
  std::string msg = error_of(
      make_file("{" + entry("w", "U8", "[1]", "[0,1]") + "," + entry("w", "U8", "[1]", "[1,2]") + "}", bytes({1, 2})));
  EXPECT_THAT(msg, HasSubstr("duplicate tensor name"));
  EXPECT_THAT(msg, HasSubstr("'w'"));
  EXPECT_THAT(error_of(make_file(R"({"__metadata__":{},"__metadata__":{}})")), HasSubstr("duplicate key"));
  EXPECT_THAT(error_of(make_file(R"({"__metadata__":{"k":"a","k":"b"}})")), HasSubstr("duplicate key"));
}

TEST(SafetensorsValidation, MetadataNotAnObjectOfStrings) {
  for (const char* meta :
       {R"("text")", R"({"k":1})", R"({"k":null})", R"({"k":{"x":"y"}})", R"({"k":["a"]})", "[]", "null"}) {
    EXPECT_THAT(error_of(make_file(std::string(R"({"__metadata__":)") + meta + "}")),
                HasSubstr("__metadata__ is not an object of strings"))
        << meta;
  }
}

TEST(SafetensorsValidation, ByteSizeDoesNotMatchShape) {
  std::string msg = error_of(make_file("{" + entry("w", "F32", "[2,2]", "[0,12]") + "}", std::string(12, '\0')));
  EXPECT_THAT(msg, HasSubstr("byte size does not match"));
  EXPECT_THAT(msg, HasSubstr("needs 16"));
  // 2^32 * 2^32 elements overflow 64 bits: caught, not wrapped round to 0.
  EXPECT_THAT(error_of(make_file("{" + entry("w", "F32", "[4294967296,4294967296]", "[0,0]") + "}")),
              HasSubstr("overflows"));
  EXPECT_THAT(error_of(make_file("{" + entry("w", "F64", "[2305843009213693952]", "[0,0]") + "}")),
              HasSubstr("overflows"));
  // A zero extent makes an empty tensor, but the other extents must still be countable.
  EXPECT_THAT(error_of(make_file("{" + entry("w", "F32", "[0,9223372036854775807,4]", "[0,0]") + "}")),
              HasSubstr("overflows"));
}

TEST(SafetensorsValidation, OffsetsNotContiguous) {
  // The first tensor does not start at 0.
  EXPECT_THAT(error_of(make_file("{" + entry("a", "U8", "[1]", "[1,2]") + "}", bytes({0, 0}))),
              HasSubstr("not contiguous"));
  // A gap between tensors.
  std::string gap = error_of(make_file(
      "{" + entry("a", "U8", "[1]", "[0,1]") + "," + entry("b", "U8", "[1]", "[2,3]") + "}", bytes({0, 0, 0})));
  EXPECT_THAT(gap, HasSubstr("not contiguous"));
  EXPECT_THAT(gap, HasSubstr("gap"));
  // Overlapping tensors.
  std::string overlap = error_of(make_file(
      "{" + entry("a", "U8", "[2]", "[0,2]") + "," + entry("b", "U8", "[2]", "[1,3]") + "}", bytes({0, 0, 0})));
  EXPECT_THAT(overlap, HasSubstr("not contiguous"));
  EXPECT_THAT(overlap, HasSubstr("overlap"));
  // Two tensors sharing the same bytes.
  EXPECT_THAT(error_of(make_file("{" + entry("a", "U8", "[2]", "[0,2]") + "," + entry("b", "U8", "[2]", "[0,2]") +
                                 "}",
                                 bytes({0, 0}))),
              HasSubstr("not contiguous"));
}

TEST(SafetensorsValidation, OffsetsPastTheBuffer) {
  std::string msg = error_of(make_file("{" + entry("a", "U8", "[4]", "[0,4]") + "}", bytes({1, 2})));
  EXPECT_THAT(msg, HasSubstr("past the end of the data buffer"));
  EXPECT_THAT(msg, HasSubstr("[0, 4]"));
  // A consistent entry declaring 4 TiB in a file of a few bytes is refused
  // before anything is allocated for it.
  EXPECT_THAT(error_of(make_file("{" + entry("big", "F32", "[1099511627776]", "[0,4398046511104]") + "}", bytes({1}))),
              HasSubstr("past the end of the data buffer"));
}

TEST(SafetensorsValidation, TrailingBytes) {
  EXPECT_THAT(error_of(make_file("{" + entry("a", "U8", "[1]", "[0,1]") + "}", bytes({1, 2}))),
              HasSubstr("trailing bytes"));
  EXPECT_THAT(error_of(make_file("{}", bytes({0}))), HasSubstr("trailing bytes"));
}

// ---------------------------------------------------------------- robustness

TEST(SafetensorsRobustness, EveryTruncationIsRejectedCleanly) {
  const std::string file = sample_file();
  ASSERT_NO_THROW(parse_safetensors(file, kSource));
  for (std::size_t n = 0; n < file.size(); ++n) {
    EXPECT_THROW(parse_safetensors(file.substr(0, n), kSource), Error) << "truncated to " << n << " bytes";
  }
}

TEST_F(SafetensorsFileTest, TruncatedFilesOnDiskAreRejected) {
  const std::string file = sample_file();
  const std::string p = path("t.safetensors");
  for (std::size_t n : {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{20}, file.size() - 1}) {
    write_file_atomically(p, [&](std::ostream& os) { os.write(file.data(), static_cast<std::streamsize>(n)); });
    EXPECT_THROW(load_safetensors(p), Error) << n;
  }
}

TEST(SafetensorsRobustness, RandomByteFlipsInTheHeaderNeverCrash) {
  const std::string file = sample_file();
  std::uint64_t header_bytes;
  std::memcpy(&header_bytes, file.data(), 8);
  const std::size_t header_end = static_cast<std::size_t>(8 + header_bytes);
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::size_t> where(0, header_end - 1);
  std::uniform_int_distribution<int> value(0, 255), count(1, 3);
  int errors = 0, loads = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string corrupt = file;
    for (int k = count(rng); k > 0; --k) corrupt[where(rng)] = static_cast<char>(value(rng));
    try {
      SafetensorsFile f = parse_safetensors(corrupt, kSource);
      ++loads;
      for (const auto& [name, t] : f.tensors) EXPECT_TRUE(t.defined());
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_EQ(errors + loads, 2000);
}

}  // namespace
}  // namespace sceald::io
