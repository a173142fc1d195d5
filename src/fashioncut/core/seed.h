// Deterministic seeding: every random stream is a pure function of (seed, index, stream),
// so parallel or sharded work gives identical results whatever the thread count.
#pragma once
#include <cstdint>
#include <random>

namespace fashioncut {

/// SplitMix64 finaliser: a well-mixed 64-bit hash of `x`.
constexpr uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// Seed for item `index` of stream `stream` under the global `seed`.
constexpr uint64_t derive_seed(uint64_t seed, uint64_t index, uint64_t stream = 0) {
  return splitmix64(splitmix64(splitmix64(seed) ^ index) ^ (stream * 0xD1B54A32D192ED03ULL));
}

/// A 64-bit Mersenne twister keyed by (seed, index, stream).
inline std::mt19937_64 make_rng(uint64_t seed, uint64_t index, uint64_t stream = 0) {
  return std::mt19937_64(derive_seed(seed, index, stream));
}

}  // namespace fashioncut
