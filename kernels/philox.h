// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11): one header for host and device code, so that the CPU and CUDA
// streams are the same function of (seed, offset, index).
//
// Element `index` of a draw that starts at block `offset` is lane index % 4 of
// the Philox output for counter (offset + index / 4, 0, 0) and key = seed.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define SCEALD_HOST_DEVICE __host__ __device__
#else
#define SCEALD_HOST_DEVICE
#endif

namespace sceald::kernels {

struct Philox4x32 {
  struct Words {
    std::uint32_t v[4];
  };

  SCEALD_HOST_DEVICE static constexpr Words round(Words c, std::uint32_t k0, std::uint32_t k1) {
    const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * c.v[0];
    const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * c.v[2];
    return Words{{static_cast<std::uint32_t>(p1 >> 32) ^ c.v[1] ^ k0, static_cast<std::uint32_t>(p1),
                  static_cast<std::uint32_t>(p0 >> 32) ^ c.v[3] ^ k1, static_cast<std::uint32_t>(p0)}};
  }

  // Ten rounds, the key bumped by the Weyl constants between rounds.
  SCEALD_HOST_DEVICE static constexpr Words generate(Words c, std::uint32_t k0, std::uint32_t k1) {
    for (int r = 0; r < 10; ++r) {
      c = round(c, k0, k1);
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    return c;
  }

  // The four words of block `counter`: words 4 b .. 4 b + 3 of a draw that
  // starts at block `offset` are block(seed, offset + b). Loops over many
  // words take them four at a time from here.
  SCEALD_HOST_DEVICE static constexpr Words block(std::uint64_t seed, std::uint64_t counter) {
    const Words c{{static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32), 0u, 0u}};
    return generate(c, static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
  }

  SCEALD_HOST_DEVICE static constexpr std::uint32_t word(std::uint64_t seed, std::uint64_t offset, std::uint64_t index) {
    return block(seed, offset + index / 4).v[index % 4];
  }
};

// Uniform in [0, 1) from the top 24 bits (exactly representable in float).
SCEALD_HOST_DEVICE constexpr float uniform_from_word(std::uint32_t w) {
  return static_cast<float>(w >> 8) * (1.0f / 16777216.0f);
}

}  // namespace sceald::kernels
