// Bit-for-bit comparison helpers for the tests that require identical
// results (vector paths against scalar ones, batched against one draw).
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

namespace countysim::testing {

// The bytes of x as an integer: equal bits, not equal values (-0 != +0,
// NaN == the same NaN).
inline std::uint64_t bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// a and b hold the same elements to the last bit.
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

}  // namespace countysim::testing
