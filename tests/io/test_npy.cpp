#include "engine/io/npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace sceald::io {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const char* kSource = "mem.npy";

std::string fixture(const std::string& name) {
  return std::string(SCEALD_SOURCE_DIR) + "/tests/golden/fixtures/" + name;
}

// The message of the sceald::Error that parsing `bytes` throws.
std::string error_of(const std::string& bytes) {
  try {
    parse_npy(bytes, kSource);
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr(kSource));
    return msg;
  }
  ADD_FAILURE() << "expected an error for " << bytes.size() << " bytes";
  return "";
}

// A version 1.0 file with the header text as given (no padding added) and the data.
std::string make_npy(const std::string& header, const std::string& data = "", int major = 1) {
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < length_bytes; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string floats_bytes(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// ---------------------------------------------------------------- round trips

TEST(Npy, RoundTripsEveryDtypeAndShape) {
  const std::vector<Tensor> cases = {
      Tensor::from_vector<float>({1.5f, -2.f, 3.25f, std::numeric_limits<float>::infinity(), -0.f, 1e-30f}, {2, 3}),
      Tensor::from_vector<double>({0.1, -1e300, 5e-324}, {3}),
      Tensor::from_vector<std::int64_t>({std::numeric_limits<std::int64_t>::min(), -1, 0, 7,
                                         std::numeric_limits<std::int64_t>::max(), 42},
                                        {1, 2, 3, 1}),
      Tensor::scalar(2.5, DType::Float64),
      Tensor::empty({0, 4}),
      Tensor::empty({3, 0}, DType::Int64),
  };
  for (const Tensor& t : cases) {
    const std::string bytes = serialize_npy(t);
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const std::size_t header_bytes = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    EXPECT_EQ((10 + header_bytes) % 64, 0u) << "data is 64-byte aligned, as numpy writes it";
    EXPECT_EQ(bytes[10 + header_bytes - 1], '\n');
    const Tensor back = parse_npy(bytes, kSource);
    EXPECT_EQ(back.dtype(), t.dtype()) << t.str();
    EXPECT_EQ(back.shape(), t.shape()) << t.str();
    if (t.dtype() == DType::Int64) {
      EXPECT_EQ(back.to_vector<std::int64_t>(), t.to_vector<std::int64_t>());
    } else {
      // Bit-exact, including -0 and infinities.
      const auto a = back.to_vector<double>(), b = t.to_vector<double>();
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(std::signbit(a[i]), std::signbit(b[i]));
      EXPECT_EQ(a, b);
    }
  }
}

TEST(Npy, WritesStridedTensorsInCOrder) {
  const Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}).transpose(0, 1);
  const Tensor back = parse_npy(serialize_npy(t), kSource);
  EXPECT_EQ(back.shape(), (Shape{3, 2}));
  EXPECT_EQ(back.to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(Npy, SavesAtomicallyAndLoadsFromFile) {
  const fs::path dir = fs::temp_directory_path() / ("sceald_npy_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "a.npy").string();
  const Tensor t = Tensor::from_vector<double>({1, 2, 3}, {3, 1});
  save_npy(path, t);
  const Tensor back = load_npy(path);
  EXPECT_EQ(back.shape(), (Shape{3, 1}));
  EXPECT_EQ(back.to_vector<double>(), (std::vector<double>{1, 2, 3}));
  const NpyHeader h = read_npy_header(path);
  EXPECT_EQ(h.descr, "<f8");
  EXPECT_EQ(h.data_offset, 128u);  // numpy's layout: room for the first axis to grow, 64-byte aligned
  EXPECT_EQ(h.data_bytes, 24u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1) << "no temporary left";
  fs::remove_all(dir);
}

// ---------------------------------------------------------------- files written by numpy

// Written by tests/golden/make_convert_fixtures.py with numpy's own np.save /
// numpy.lib.format.write_array; the values are formulas of the index i.
TEST(Npy, LoadsFilesWrittenByNumpyExactly) {
  {
    const Tensor t = load_npy(fixture("convert_numpy_f4.npy"));
    ASSERT_EQ(t.dtype(), DType::Float32);
    ASSERT_EQ(t.shape(), (Shape{2, 3, 4}));
    const auto v = t.to_vector<float>();
    for (int i = 0; i < 24; ++i) EXPECT_EQ(v[i], static_cast<float>(i * 0.37 - 3.0)) << i;
  }
  for (const char* name : {"convert_numpy_f8.npy", "convert_numpy_f8_v2.npy", "convert_numpy_f8_v3.npy"}) {
    const Tensor t = load_npy(fixture(name));
    ASSERT_EQ(t.dtype(), DType::Float64) << name;
    ASSERT_EQ(t.shape(), (Shape{5, 1})) << name;
    const auto v = t.to_vector<double>();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(v[i], i / 7.0 - 1e10) << name << " " << i;
  }
  {
    const Tensor t = load_npy(fixture("convert_numpy_i8.npy"));
    ASSERT_EQ(t.dtype(), DType::Int64);
    ASSERT_EQ(t.shape(), (Shape{4}));
    const auto v = t.to_vector<std::int64_t>();
    for (std::int64_t i = 0; i < 4; ++i) EXPECT_EQ(v[i], i * 1000000007LL * 1000 - 5000000000LL) << i;
  }
  {
    const Tensor t = load_npy(fixture("convert_numpy_u1.npy"));
    ASSERT_EQ(t.dtype(), DType::Float32) << "uint8 loads as float32";
    ASSERT_EQ(t.shape(), (Shape{1, 3, 2, 2}));
    const auto v = t.to_vector<float>();
    for (int i = 0; i < 12; ++i) EXPECT_EQ(v[i], static_cast<float>(i * 23 % 256)) << i;
  }
  {
    const Tensor t = load_npy(fixture("convert_numpy_i4.npy"));
    ASSERT_EQ(t.dtype(), DType::Int64) << "int32 loads as int64";
    ASSERT_EQ(t.shape(), (Shape{6}));
    const auto v = t.to_vector<std::int64_t>();
    for (int i = 0; i < 6; ++i) EXPECT_EQ(v[i], static_cast<std::int64_t>(i) * -123456789) << i;
  }
  {
    const Tensor t = load_npy(fixture("convert_numpy_scalar.npy"));
    EXPECT_EQ(t.shape(), Shape{});
    EXPECT_EQ(t.item<double>(), 3.5);
    const Tensor e = load_npy(fixture("convert_numpy_empty.npy"));
    EXPECT_EQ(e.shape(), (Shape{0, 3}));
    EXPECT_EQ(e.dtype(), DType::Float32);
  }
  // What we write is what numpy writes, byte for byte.
  const Tensor f4 = load_npy(fixture("convert_numpy_f4.npy"));
  EXPECT_EQ(serialize_npy(f4), read_file(fixture("convert_numpy_f4.npy")));
}

TEST(Npy, RefusesFortranOrderWrittenByNumpy) {
  try {
    load_npy(fixture("convert_numpy_fortran.npy"));
    ADD_FAILURE() << "a Fortran-ordered array loaded";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("convert_numpy_fortran.npy"));
    EXPECT_THAT(e.what(), HasSubstr("'fortran_order'"));
  }
}

// ---------------------------------------------------------------- corrupt files

TEST(Npy, EveryTruncationIsAnErrorNamingTheField) {
  const std::string good = serialize_npy(Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  const std::size_t data_at = 10 + (static_cast<unsigned char>(good[8]) | static_cast<unsigned char>(good[9]) << 8);
  ASSERT_EQ(data_at, 128u);
  for (std::size_t n = 0; n < good.size(); ++n) {
    const std::string msg = error_of(good.substr(0, n));
    const char* field = n < 6 ? "magic" : n < 8 ? "version" : n < data_at ? "header length" : "data";
    EXPECT_THAT(msg, HasSubstr(field)) << "truncated to " << n << " bytes";
  }
  EXPECT_THAT(error_of(good + "x"), HasSubstr("trailing bytes"));
}

TEST(Npy, HeaderCorruptionsNameTheField) {
  const std::string data = floats_bytes({1, 2});
  auto err = [&](const std::string& dict) { return error_of(make_npy(dict + "\n", data)); };
  EXPECT_THAT(error_of("\x93NUMPX\x01\x00"), HasSubstr("magic"));
  EXPECT_THAT(error_of(make_npy("{}\n").replace(6, 1, "\x04")), HasSubstr("version: 4.0"));
  EXPECT_THAT(error_of(make_npy("{}\n").replace(7, 1, "\x01")), HasSubstr("version: 1.1"));
  // Header length beyond the file, and beyond the limit (version 2.0's 32-bit field).
  EXPECT_THAT(error_of(make_npy("{}").replace(8, 2, "\xff\x00", 2)), HasSubstr("header length: the header claims 255"));
  EXPECT_THAT(error_of(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12)), HasSubstr("more than the limit"));

  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, }"), HasSubstr("'shape' is missing"));
  EXPECT_THAT(err("{'descr': '<f4', 'shape': (2,), }"), HasSubstr("'fortran_order' is missing"));
  EXPECT_THAT(err("{'fortran_order': False, 'shape': (2,), }"), HasSubstr("'descr' is missing"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}"), HasSubstr("unexpected key 'extra'"));
  EXPECT_THAT(err("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}"), HasSubstr("'descr' appears twice"));
  EXPECT_THAT(err("{'descr': '>f4', 'fortran_order': False, 'shape': (2,)}"), HasSubstr("field 'descr': unsupported dtype '>f4'"));
  EXPECT_THAT(err("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}"), HasSubstr("field 'descr'"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}"), HasSubstr("field 'fortran_order'"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}"), HasSubstr("field 'fortran_order'"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}"), HasSubstr("field 'shape'"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}"), HasSubstr("field 'shape'"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}"), HasSubstr("negative"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}"), HasSubstr("field 'shape'"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}"), HasSubstr("leading zero"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"),
              HasSubstr("64 bits"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x"), HasSubstr("trailing characters"));
  EXPECT_THAT(err("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}"), HasSubstr("expected ',' or '}'"));
  EXPECT_THAT(err("{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}"), HasSubstr("header"));
  EXPECT_THAT(err("['descr', '<f4']"), HasSubstr("does not start with '{'"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)"), HasSubstr("header"));
  // Data size: too little, too much, and a shape whose byte count overflows.
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}"), HasSubstr("data: shape [3] of <f4 needs 12 bytes but 8"));
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}"), HasSubstr("trailing bytes"));
  EXPECT_THAT(err("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"), HasSubstr("overflows"));
  EXPECT_THAT(err("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,)}"), HasSubstr("overflows"));
  // A huge claim with a plausible byte count is refused by size, not allocated.
  EXPECT_THAT(err("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,)}"), HasSubstr("data:"));

  // Spellings Python accepts and numpy writes parse.
  EXPECT_EQ(parse_npy(make_npy("{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,)}", data), kSource).numel(), 2);
  EXPECT_EQ(parse_npy(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': ( 1 , 2 , ), }   \n", data), kSource)
                .shape(),
            (Shape{1, 2}));
  EXPECT_EQ(parse_npy(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }\n", data, 3), kSource)
                .shape(),
            (Shape{1, 2}));
}

TEST(Npy, RandomByteCorruptionsNeverCrash) {
  const std::string good = serialize_npy(Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2}));
  int errors = 0;
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (int value : {0x00, 0x7f, 0xff, int{'('}, int{','}, int{'9'}}) {
      std::string bad = good;
      bad[at] = static_cast<char>(value);
      try {
        const Tensor t = parse_npy(bad, kSource);
        EXPECT_LE(t.numel() * 8, static_cast<std::int64_t>(good.size()));
      } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr(kSource));
        ++errors;
      }
    }
  }
  EXPECT_GT(errors, 0);
}

TEST(Npy, ErrorsNameTheFileOnDisk) {
  try {
    load_npy("/nonexistent/x.npy");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/x.npy"));
  }
}

TEST(Npy, RefusesUndefinedTensors) { EXPECT_THROW(serialize_npy(Tensor()), Error); }

}  // namespace
}  // namespace sceald::io
