// Seeded random numbers for initialisation, dropout and shuffling. Every
// draw is a pure function of (seed, offset, element index) through Philox
// (kernels/philox.h), so a CUDA kernel reproduces the CPU stream exactly. A
// Generator hands out disjoint counter ranges to successive draws.
#pragma once

#include <cstdint>

#include "engine/tensor.h"
#include "kernels/philox.h"

namespace sceald {

using kernels::Philox4x32;
using kernels::uniform_from_word;

// Uniform in [0, 1) with 53 bits, from two words.
constexpr double uniform53_from_words(std::uint32_t hi, std::uint32_t lo) {
  return static_cast<double>((std::uint64_t{hi} << 21) ^ (lo >> 11)) * (1.0 / 9007199254740992.0);
}

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : seed_(seed) {}
  std::uint64_t seed() const { return seed_; }
  std::uint64_t offset() const { return offset_; }
  void set_state(std::uint64_t seed, std::uint64_t offset) { seed_ = seed; offset_ = offset; }
  // Reserves counters for `count` words and returns the starting block.
  std::uint64_t reserve(std::uint64_t count) {
    const std::uint64_t start = offset_;
    offset_ += (count + 3) / 4;
    return start;
  }

  // Fills a new CPU tensor. Element i uses word i (uniform) or words 2i, 2i+1 (normal).
  Tensor uniform(const Shape& shape, double low, double high, DType dtype = DType::Float32);
  Tensor normal(const Shape& shape, double mean, double stddev, DType dtype = DType::Float32);
  // A uniformly random permutation of 0..n-1 (Fisher-Yates on this stream).
  std::vector<std::int64_t> permutation(std::int64_t n);
  // One integer in [0, n).
  std::uint64_t next_below(std::uint64_t n);
  double next_uniform();

 private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
};

}  // namespace sceald
