// Helpers for the dataset reader tests: a temporary folder removed at the
// end of the test, files written into it (text, empty, tiny PNGs), and a
// check that a call throws a sceald::Error whose message holds given parts.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "engine/data/encode.h"
#include "engine/error.h"
#include "support/error_checks.h"

namespace sceald::data::testing {

class TempFolder {
 public:
  TempFolder() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "dataset";
    path_ = (std::filesystem::temp_directory_path() /
             ("sceald_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& relative) const { return path_ + "/" + relative; }

  // Writes `content` to root/relative, creating folders on the way; returns the path.
  std::string write(const std::string& relative, const std::string& content) const {
    const std::string p = *this / relative;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::string touch(const std::string& relative) const { return write(relative, ""); }
  void mkdir(const std::string& relative) const { std::filesystem::create_directories(*this / relative); }
  // A small decodable PNG (grey or RGB) whose pixels depend on `seed`.
  std::string png(const std::string& relative, int width = 4, int height = 4, int channels = 1, int seed = 0) const {
    const std::string p = *this / relative;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    Image image(width, height, channels);
    for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<std::uint8_t>(i * 7 + seed);
    write_png(p, image);
    return p;
  }

 private:
  std::string path_;
};

using sceald::testing::throws_with;

}  // namespace sceald::data::testing
