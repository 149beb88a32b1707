// Per-draw chunks as HDF5's shuffle + deflate filter pipeline stores them,
// made in the engine's workers and read back for the summaries without going
// through HDF5's pipeline. Touches no HDF5 state, so any thread may call it.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "countysim/results_io.hpp"

namespace countysim {

// Byte-shuffle by element size, then deflate in the zlib format at `level`
// (1: ISA-L's level 1, noise byte planes in stored blocks; 0 and 2-9:
// libdeflate's): a stream HDF5's shuffle+deflate filter pipeline decodes, so
// any reader decodes it (the compressed bytes differ from zlib's, the data
// not).
std::vector<unsigned char> compress_chunk(const void* data, std::size_t bytes,
                                          std::size_t elem_size, int level);

// The reverse for one thread: a chunk of n elements of type t, inflated and
// unshuffled, its first `keep` values written to dst as float (as H5Dread
// would convert them). False if the stream does not inflate to n elements.
class ChunkInflater {
 public:
  ChunkInflater();
  ~ChunkInflater();
  bool inflate(const unsigned char* stream, std::size_t bytes, std::size_t n, DType t,
               std::size_t keep, float* dst);

 private:
  struct Decompressor;
  std::unique_ptr<Decompressor> dec_;
  std::vector<unsigned char> plain_;
  std::vector<float> values_;
};

}  // namespace countysim
