// A fixed, library-independent stream of test values (splitmix64): the same
// numbers on every platform and standard library.
#pragma once
#include <cstdint>

namespace countysim::testing {

struct SplitMix {
  std::uint64_t s;
  double uniform() {  // in [0, 1), 53 bits
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  }
};

}  // namespace countysim::testing
