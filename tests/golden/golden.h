// Access to the PyTorch fixtures under tests/golden/fixtures/ (written by
// tests/golden/make_fixtures.py): tensors are named "<case>.<tensor>", integer
// settings are I64 tensors, and the metadata lists the cases in order.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <exception>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"
#include "engine/tensor.h"
#include "support/tolerance.h"

namespace sceald::golden {

inline std::string fixture_path(const std::string& file_name) {
  return std::string(SCEALD_SOURCE_DIR) + "/tests/golden/fixtures/" + file_name;
}

inline io::SafetensorsFile load_fixture(const std::string& file_name) {
  return io::load_safetensors(fixture_path(file_name));
}

// The comma-separated "cases" entry of the metadata.
inline std::vector<std::string> fixture_cases(const io::SafetensorsFile& file) {
  std::vector<std::string> cases;
  auto it = file.metadata.find("cases");
  if (it == file.metadata.end()) return cases;
  std::stringstream list(it->second);
  for (std::string name; std::getline(list, name, ',');) cases.push_back(name);
  return cases;
}

// The tensors of one case.
class GoldenCase {
 public:
  GoldenCase(const io::SafetensorsFile& file, std::string name) : file_(file), name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  bool has(const std::string& key) const { return file_.find(name_ + "." + key) != nullptr; }
  // A fresh copy, so ops that write in place (running statistics) leave the fixture intact.
  Tensor tensor(const std::string& key) const { return file_.at(name_ + "." + key).clone(); }
  // A fresh copy that requires a gradient.
  Tensor leaf(const std::string& key) const {
    Tensor t = tensor(key);
    t.set_requires_grad(true);
    return t;
  }
  // The same, or an undefined tensor when the case has none (a conv without bias).
  Tensor optional_leaf(const std::string& key) const { return has(key) ? leaf(key) : Tensor(); }
  const Tensor& expected(const std::string& key) const { return file_.at(name_ + "." + key); }
  std::vector<std::int64_t> ints(const std::string& key) const { return file_.at(name_ + "." + key).to_vector<std::int64_t>(); }
  std::int64_t int_value(const std::string& key) const { return ints(key).at(0); }
  std::array<std::int64_t, 2> pair(const std::string& key) const {
    auto v = ints(key);
    return {v.at(0), v.at(1)};
  }

 private:
  const io::SafetensorsFile& file_;
  std::string name_;
};

// The tolerances of the golden tests: the fixtures are computed in the same
// dtype, so float64 results should agree to a few roundings.
inline testing::Tolerance golden_tolerance(DType dtype) {
  return dtype == DType::Float64 ? testing::Tolerance{1e-10, 1e-8} : testing::Tolerance{1e-5, 1e-4};
}

// Compares `actual` with the case's tensor `key` at the golden tolerance.
inline ::testing::AssertionResult matches(const Tensor& actual, const GoldenCase& c, const std::string& key) {
  if (!actual.defined()) return ::testing::AssertionFailure() << key << ": no tensor (no gradient reached it?)";
  const Tensor& expected = c.expected(key);
  if (actual.dtype() != expected.dtype())
    return ::testing::AssertionFailure() << key << ": dtype " << actual.str() << ", expected " << expected.str();
  auto result = testing::all_close(actual, expected, golden_tolerance(expected.dtype()));
  if (!result) result << "\n(tensor " << key << " of case " << c.name() << ")";
  return result;
}

// Checks that the fixture holds exactly `expected_cases` (so a case dropped
// from the generator fails here) and runs `body` on each under a SCOPED_TRACE
// naming the op and the case; an exception fails that case only.
inline void for_each_case(const io::SafetensorsFile& file, const std::vector<std::string>& expected_cases,
                          const std::function<void(const GoldenCase&)>& body) {
  const auto cases = fixture_cases(file);
  EXPECT_EQ(cases, expected_cases) << "cases of " << file.source;
  const auto op = file.metadata.count("op") ? file.metadata.at("op") : file.source;
  for (const auto& name : cases) {
    SCOPED_TRACE(op + " case " + name);
    try {
      body(GoldenCase(file, name));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw: " << e.what();
    }
  }
}

}  // namespace sceald::golden
