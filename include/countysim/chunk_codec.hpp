// Per-draw chunks as HDF5's shuffle + deflate filter pipeline stores them,
// made in the engine's workers and read back for the summaries without going
// through HDF5's pipeline. Touches no HDF5 state, so any thread may call it.
#pragma once
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "countysim/results_io.hpp"

namespace countysim {

// An allocator whose resize() leaves new bytes uninitialised: chunk buffers
// are written in full by the compressor, and zero-filling them first cost a
// memset and a page fault per fresh page of every block's chunks.
template <class T>
struct UninitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitAllocator<U>;
  };
  UninitAllocator() = default;
  template <class U>
  UninitAllocator(const UninitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using ByteBuffer = std::vector<unsigned char, UninitAllocator<unsigned char>>;

// Byte-shuffle by element size, then deflate in the zlib format at `level`
// (1: ISA-L's level 1, noise byte planes in stored blocks; 0 and 2-9:
// libdeflate's): a stream HDF5's shuffle+deflate filter pipeline decodes, so
// any reader decodes it (the compressed bytes differ from zlib's, the data
// not).
std::vector<unsigned char> compress_chunk(const void* data, std::size_t bytes,
                                          std::size_t elem_size, int level);
// The same stream appended to `out`: the engine's workers put a block's
// chunks back to back in one reused buffer.
void compress_chunk_append(const void* data, std::size_t bytes, std::size_t elem_size, int level,
                           ByteBuffer& out);
// The most bytes compress_chunk_append may append for `bytes` input bytes.
std::size_t compress_chunk_bound(std::size_t bytes);

// HDF5's shuffle filter over `bytes` bytes of elements of `elem_size`
// bytes: byte k of every element together (plane k), then the bytes past
// the last whole element. dst holds `bytes` bytes and does not overlap data.
// The vector path follows simd_level() (simd.hpp); every path gives the same
// bytes.
void shuffle_bytes(const void* data, std::size_t bytes, std::size_t elem_size, unsigned char* dst);

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
