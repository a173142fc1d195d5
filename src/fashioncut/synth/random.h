// Small, portable random helpers on top of std::mt19937_64 (the standard distributions are
// implementation-defined; these give the same numbers on every platform).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace fashioncut::synth {

using Rng = std::mt19937_64;

/// Uniform double in [0, 1).
inline double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
/// Uniform double in [lo, hi).
inline double uniform(Rng& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }
/// Uniform integer in [lo, hi] (inclusive).
inline int uniform_int(Rng& rng, int lo, int hi) {
  return lo + static_cast<int>(uniform01(rng) * (hi - lo + 1));
}
/// True with probability p.
inline bool chance(Rng& rng, double p) { return uniform01(rng) < p; }
/// Approximately normal(0, 1) (Irwin–Hall sum of 4 uniforms, rescaled): cheap and portable.
inline double normal01(Rng& rng) {
  double s = 0;
  for (int i = 0; i < 4; ++i) s += uniform01(rng);
  return (s - 2.0) * 1.7320508075688772;
}
/// Index drawn with the given non-negative weights.
inline size_t weighted_index(Rng& rng, const std::vector<double>& w) {
  double total = 0;
  for (double x : w) total += x;
  double r = uniform01(rng) * total;
  for (size_t i = 0; i < w.size(); ++i) {
    if (r < w[i]) return i;
    r -= w[i];
  }
  return w.size() - 1;
}

}  // namespace fashioncut::synth
