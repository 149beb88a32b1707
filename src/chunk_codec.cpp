// Per-draw chunks as HDF5's shuffle + deflate filters store them, made and
// read by the engine itself (chunk_codec.hpp).
#include "countysim/chunk_codec.hpp"

#include <fmt/format.h>
#include <immintrin.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "countysim/errors.hpp"

namespace countysim {

namespace {

// HDF5's shuffle of 4-byte elements, eight at a time: the bytes of each
// element gathered by plane within 128-bit lanes, the lanes' 4-byte groups
// interleaved, then 8 bytes stored to each plane. Returns how many elements
// it did; the caller does the rest.
__attribute__((target("avx2"))) std::size_t shuffle4_avx2(const unsigned char* src, std::size_t n,
                                                          unsigned char* dst) {
  const __m256i by_plane = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0,
                                            4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m256i lanes = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 4 * j));
    v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, by_plane), lanes);
    for (int k = 0; k < 4; ++k) {
      const std::uint64_t w = static_cast<std::uint64_t>(_mm256_extract_epi64(v, 0));
      std::memcpy(dst + k * n + j, &w, 8);
      v = _mm256_permute4x64_epi64(v, 0x39);  // next 8 bytes down
    }
  }
  return j;
}

// True when the n bytes at p look like noise, so that deflate would not
// shrink them: their counts are no more concentrated than about 0.1 bit below
// what uniform random bytes give (Rényi entropy, one log-free test).
bool looks_random(const unsigned char* p, std::size_t n) {
  if (n < 1024) return false;
  n = std::min<std::size_t>(n, 4096);  // the draws are in no order: a prefix is a sample
  std::uint32_t c[4][256] = {};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++c[0][p[i]];
    ++c[1][p[i + 1]];
    ++c[2][p[i + 2]];
    ++c[3][p[i + 3]];
  }
  for (; i < n; ++i) ++c[0][p[i]];
  double sum_sq = 0;
  for (int v = 0; v < 256; ++v) {
    const double t = static_cast<double>(c[0][v]) + c[1][v] + c[2][v] + c[3][v];
    sum_sq += t * t;
  }
  const double nn = static_cast<double>(n);
  const double uniform = nn * nn / 256 + nn * (1 - 1.0 / 256);  // E[sum of squared counts]
  return sum_sq <= uniform * 1.0718;                            // 2^0.1
}

// Appends stored deflate blocks (RFC 1951 §3.2.4) holding p[0, n), none final;
// the output is at a byte boundary before and after.
void put_stored(ByteBuffer& out, const unsigned char* p, std::size_t n) {
  while (n > 0) {
    const std::size_t len = std::min<std::size_t>(n, 65535);
    const unsigned nlen = ~static_cast<unsigned>(len) & 0xffffu;
    const unsigned char head[5] = {
        0x00,  // BFINAL 0, BTYPE 00, padding
        static_cast<unsigned char>(len & 0xff), static_cast<unsigned char>(len >> 8),
        static_cast<unsigned char>(nlen & 0xff), static_cast<unsigned char>(nlen >> 8)};
    out.insert(out.end(), head, head + 5);
    out.insert(out.end(), p, p + len);
    p += len;
    n -= len;
  }
}

// ISA-L level 1 over src[0, bytes) into out (appended): a zlib stream, or with
// `raw` a raw deflate stream ending in a final block. False if it did not fit.
bool isal_level1(const unsigned char* src, std::size_t bytes, bool raw, ByteBuffer& out) {
  thread_local std::vector<std::uint8_t> level_buf(ISAL_DEF_LVL1_DEFAULT);
  if (bytes > 0xfffffff0u) return false;
  const std::size_t at = out.size();
  // Stored blocks need 5 bytes per 64 KiB; the rest is header and trailer.
  out.resize(at + bytes + bytes / 4096 + 64 + ISAL_DEF_MAX_HDR_SIZE);
  isal_zstream z;
  isal_deflate_stateless_init(&z);
  z.level = 1;
  z.level_buf = level_buf.data();
  z.level_buf_size = static_cast<std::uint32_t>(level_buf.size());
  z.gzip_flag = raw ? IGZIP_DEFLATE : IGZIP_ZLIB;
  z.end_of_stream = 1;
  z.flush = NO_FLUSH;
  z.next_in = const_cast<std::uint8_t*>(src);
  z.avail_in = static_cast<std::uint32_t>(bytes);
  z.next_out = out.data() + at;
  z.avail_out = static_cast<std::uint32_t>(out.size() - at);
  const bool ok = isal_deflate_stateless(&z) == COMP_OK;
  out.resize(ok ? at + z.total_out : at);
  return ok;
}

// Element e of a chunk of n elements of `size` bytes, after HDF5's shuffle:
// byte k at k * n + e. Converted to float as H5Dread would.
void unshuffle_to_float(const unsigned char* plain, std::size_t n, DType t, float* dst) {
  switch (t) {
    case DType::f32:
      for (std::size_t e = 0; e < n; ++e) {
        const unsigned char b[4] = {plain[e], plain[n + e], plain[2 * n + e], plain[3 * n + e]};
        std::memcpy(dst + e, b, 4);
      }
      break;
    case DType::i32:
      for (std::size_t e = 0; e < n; ++e) {
        const unsigned char b[4] = {plain[e], plain[n + e], plain[2 * n + e], plain[3 * n + e]};
        std::int32_t v;
        std::memcpy(&v, b, 4);
        dst[e] = static_cast<float>(v);
      }
      break;
    case DType::u8:
      for (std::size_t e = 0; e < n; ++e) dst[e] = plain[e];
      break;
    case DType::f64:
      for (std::size_t e = 0; e < n; ++e) {
        unsigned char b[8];
        for (std::size_t k = 0; k < 8; ++k) b[k] = plain[k * n + e];
        double v;
        std::memcpy(&v, b, 8);
        dst[e] = static_cast<float>(v);
      }
      break;
  }
}

}  // namespace

std::size_t compress_chunk_bound(std::size_t bytes) {
  // ISA-L's path: stored blocks (5 bytes a 64 KiB) and Huffman headers;
  // libdeflate's: 5 bytes per block of at least 5,000 bytes. Both are below.
  return bytes + bytes / 512 + 1024 + ISAL_DEF_MAX_HDR_SIZE;
}

std::vector<unsigned char> compress_chunk(const void* data, std::size_t bytes,
                                          std::size_t elem_size, int level) {
  ByteBuffer out;
  compress_chunk_append(data, bytes, elem_size, level, out);
  return std::vector<unsigned char>(out.begin(), out.end());
}

void compress_chunk_append(const void* data, std::size_t bytes, std::size_t elem_size, int level,
                           ByteBuffer& out) {
  if (level < 0 || level > 9)
    throw RunError(fmt::format("compress_chunk: deflate level {} is not in 0..9", level));
  const auto* src = static_cast<const unsigned char*>(data);
  // HDF5's shuffle filter: byte k of every element together, for k = 0, 1, ...;
  // bytes past the last whole element stay at the end. Nothing for 1-byte types.
  thread_local std::vector<unsigned char> shuffled;
  const std::size_t n = elem_size ? bytes / elem_size : 0;
  if (elem_size > 1 && n > 1) {
    shuffled.resize(bytes);
    unsigned char* dst = shuffled.data();
    if (elem_size == 4) {
      static const bool avx2 = __builtin_cpu_supports("avx2");
      for (std::size_t j = avx2 ? shuffle4_avx2(src, n, dst) : 0; j < n; ++j) {
        dst[j] = src[4 * j];
        dst[n + j] = src[4 * j + 1];
        dst[2 * n + j] = src[4 * j + 2];
        dst[3 * n + j] = src[4 * j + 3];
      }
    } else {
      for (std::size_t j = 0; j < n; ++j)
        for (std::size_t k = 0; k < elem_size; ++k) dst[k * n + j] = src[elem_size * j + k];
    }
    std::copy(src + n * elem_size, src + bytes, dst + n * elem_size);
    src = shuffled.data();
  }
  // Every path writes the zlib format HDF5's deflate filter reads (zlib
  // header, deflate blocks, Adler-32 of the shuffled bytes). Level 1, the
  // default, is ISA-L's level 1 (about three times libdeflate's speed on this
  // data, as small); the other levels are libdeflate's.
  const std::size_t at = out.size();
  if (level == 1) {
    // The low bytes of float values are noise: those leading byte planes
    // go into stored blocks (no time spent on them, now or when read back,
    // and no larger), the rest through ISA-L.
    std::size_t planes = 0;
    if (elem_size > 1 && n > 1)
      while (planes + 1 < elem_size && looks_random(src + planes * n, n)) ++planes;
    if (planes == 0) {
      if (isal_level1(src, bytes, false, out)) return;
    } else {
      const unsigned char head[2] = {0x78, 0x01};  // deflate, 32 KiB window, no dictionary
      out.insert(out.end(), head, head + 2);
      put_stored(out, src, planes * n);
      if (isal_level1(src + planes * n, bytes - planes * n, true, out)) {
        const std::uint32_t a = libdeflate_adler32(1, src, bytes);
        const unsigned char tail[4] = {
            static_cast<unsigned char>(a >> 24), static_cast<unsigned char>(a >> 16),
            static_cast<unsigned char>(a >> 8), static_cast<unsigned char>(a)};
        out.insert(out.end(), tail, tail + 4);
        return;
      }
    }
    // Not expected (the buffer holds stored blocks); libdeflate then.
    out.resize(at);
  }
  struct Freer {
    void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
  };
  thread_local std::unique_ptr<libdeflate_compressor, Freer> compressors[10];
  auto& c = compressors[level];
  if (!c) {
    c.reset(libdeflate_alloc_compressor(level));
    if (!c) throw RunError("libdeflate: cannot allocate a compressor (out of memory)");
  }
  out.resize(at + libdeflate_zlib_compress_bound(c.get(), bytes));
  const std::size_t out_len =
      libdeflate_zlib_compress(c.get(), src, bytes, out.data() + at, out.size() - at);
  if (out_len == 0) throw RunError("libdeflate: cannot compress a chunk");
  out.resize(at + out_len);
}

struct ChunkInflater::Decompressor {
  struct Freer {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
  };
  std::unique_ptr<libdeflate_decompressor, Freer> d{libdeflate_alloc_decompressor()};
};

ChunkInflater::ChunkInflater() : dec_(std::make_unique<Decompressor>()) {}
ChunkInflater::~ChunkInflater() = default;

bool ChunkInflater::inflate(const unsigned char* stream, std::size_t bytes, std::size_t n, DType t,
                            std::size_t keep, float* dst) {
  plain_.resize(n * dtype_size(t));
  std::size_t got = 0;
  if (!dec_->d ||
      libdeflate_zlib_decompress(dec_->d.get(), stream, bytes, plain_.data(), plain_.size(),
                                 &got) != LIBDEFLATE_SUCCESS ||
      got != plain_.size())
    return false;
  // The byte planes are n long, so all n elements are unshuffled; a last
  // chunk's padding past `keep` is dropped.
  if (keep == n) {
    unshuffle_to_float(plain_.data(), n, t, dst);
  } else {
    values_.resize(n);
    unshuffle_to_float(plain_.data(), n, t, values_.data());
    std::copy(values_.begin(), values_.begin() + static_cast<std::ptrdiff_t>(keep), dst);
  }
  return true;
}

}  // namespace countysim
