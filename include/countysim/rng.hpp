// Random streams, bound as model.md requires: the variates behind input `key`
// in draw `d` come from Philox4x32-10 keyed by (seed, hash(key), d) only,
// never from the thread or the order of evaluation.
#pragma once
#include <Random123/philox.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace countysim {

// Stable 64-bit hash of a stream key (UTF-8 bytes): FNV-1a, then the
// SplitMix64 finaliser to spread the bits. Pinned by known-answer tests;
// changing it changes every result file.
std::uint64_t key_hash(std::string_view key);

// The four 32-bit words Philox4x32-10 returns for
//   key     = (seed low 32 bits, seed high 32 bits)
//   counter = (draw low, draw high, hash low, hash high).
// Inline: the engine calls this a few hundred times per draw.
inline std::array<std::uint32_t, 4> philox_block(std::uint64_t seed, std::uint64_t hash,
                                                 std::uint64_t draw) {
  using Philox = r123::Philox4x32_R<10>;
  const Philox::key_type k = {
      {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  const Philox::ctr_type c = {
      {static_cast<std::uint32_t>(draw), static_cast<std::uint32_t>(draw >> 32),
       static_cast<std::uint32_t>(hash), static_cast<std::uint32_t>(hash >> 32)}};
  const Philox::ctr_type r = Philox()(c, k);
  return {r[0], r[1], r[2], r[3]};
}

// 64 random bits -> (0, 1): (top 53 bits + 0.5) * 2^-53; never 0 or 1. The
// sum rounds to 2^53 for the all-ones input, hence the clamp to the largest
// double below 1.
inline double bits_to_open_unit(std::uint64_t bits) {
  // bits >> 11 < 2^53 converts exactly either way; through int64 it is one
  // instruction (x86-64 has no unsigned 64-bit conversion before AVX-512).
  const auto top = static_cast<std::int64_t>(bits >> 11);
  return std::min((static_cast<double>(top) + 0.5) * 0x1.0p-53, 0x1.fffffffffffffp-1);
}

// Two uniforms in the open interval (0, 1) with 53 random bits each, from the
// block above: u[0] from words 0 (low half) and 1 (high half), u[1] from
// words 2 and 3.
inline std::array<double, 2> stream_uniforms(std::uint64_t seed, std::uint64_t hash,
                                             std::uint64_t draw) {
  const auto w = philox_block(seed, hash, draw);
  return {bits_to_open_unit(w[0] | (static_cast<std::uint64_t>(w[1]) << 32)),
          bits_to_open_unit(w[2] | (static_cast<std::uint64_t>(w[3]) << 32))};
}

// The first of those: the variate of a one-uniform input.
inline double stream_uniform(std::uint64_t seed, std::uint64_t hash, std::uint64_t draw) {
  return stream_uniforms(seed, hash, draw)[0];
}

// stream_uniform(seed, hash, first + i) for i in [0, n), into out[0..n): the
// same bits, Philox over consecutive counters 32 at a time with AVX-512,
// eight with AVX2 or four with SSE2 (as simd_level() says, simd.hpp), for
// the block sampler (sampling.hpp). Integer arithmetic: every path gives the
// same words.
void stream_uniform_block(std::uint64_t seed, std::uint64_t hash, std::uint64_t first,
                          std::size_t n, double* out);

// The ten Philox round keys of a seed, each word repeated for the eight
// lanes: computed once for all the inputs of a block (sampling.cpp) instead
// of once a call.
struct StreamKeys {
  explicit StreamKeys(std::uint64_t seed);
  std::uint64_t seed;
  alignas(32) std::uint32_t k0[10][8];
  alignas(32) std::uint32_t k1[10][8];
};

// stream_uniform_block with the keys given; the same bits.
void stream_uniform_block(const StreamKeys& keys, std::uint64_t hash, std::uint64_t first,
                          std::size_t n, double* out);

}  // namespace countysim
