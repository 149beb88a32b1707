// Per-draw chunks as HDF5's shuffle + deflate filters store them, made and
// read by the engine itself (chunk_codec.hpp).
#include "countysim/chunk_codec.hpp"

#include <fmt/format.h>
#include <immintrin.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "countysim/errors.hpp"
#include "countysim/simd.hpp"

namespace countysim {

namespace {

// HDF5's shuffle of 4-byte elements, eight at a time: the bytes of each
// element gathered by plane within 128-bit lanes, the lanes' 4-byte groups
// interleaved, then 8 bytes stored to each plane (byte plane k of element j
// goes to dst[k][j]). Returns how many elements it did; the caller does the
// rest.
__attribute__((target("avx2"))) std::size_t shuffle4_avx2(const unsigned char* src, std::size_t n,
                                                          unsigned char* const* dst) {
  const __m256i by_plane = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0,
                                            4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m256i lanes = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 4 * j));
    v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, by_plane), lanes);
    for (int k = 0; k < 4; ++k) {
      const std::uint64_t w = static_cast<std::uint64_t>(_mm256_extract_epi64(v, 0));
      std::memcpy(dst[k] + j, &w, 8);
      v = _mm256_permute4x64_epi64(v, 0x39);  // next 8 bytes down
    }
  }
  return j;
}

// The same with AVX-512 VBMI, 64 elements at a time: vpermb gathers each
// plane's 16 bytes of a register's 16 elements, then a 4 x 4 transpose of
// 128-bit lanes puts each plane's 64 bytes in one register.
COUNTYSIM_AVX512_BEGIN
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) std::size_t shuffle4_avx512(
    const unsigned char* src, std::size_t n, unsigned char* const* dst) {
  alignas(64) unsigned char idx[64];
  for (int k = 0; k < 4; ++k)
    for (int e = 0; e < 16; ++e) idx[16 * k + e] = static_cast<unsigned char>(4 * e + k);
  const __m512i by_plane = _mm512_load_si512(idx);
  std::size_t j = 0;
  for (; j + 64 <= n; j += 64) {
    __m512i v[4];
    for (int r = 0; r < 4; ++r)
      v[r] = _mm512_permutexvar_epi8(by_plane, _mm512_loadu_si512(src + 4 * j + 64 * r));
    // v[r] lane k: plane k of elements 16 r .. 16 r + 15.
    const __m512i t0 = _mm512_shuffle_i64x2(v[0], v[1], 0x44);  // v0.l0 v0.l1 v1.l0 v1.l1
    const __m512i t1 = _mm512_shuffle_i64x2(v[0], v[1], 0xee);  // v0.l2 v0.l3 v1.l2 v1.l3
    const __m512i t2 = _mm512_shuffle_i64x2(v[2], v[3], 0x44);
    const __m512i t3 = _mm512_shuffle_i64x2(v[2], v[3], 0xee);
    _mm512_storeu_si512(dst[0] + j, _mm512_shuffle_i64x2(t0, t2, 0x88));
    _mm512_storeu_si512(dst[1] + j, _mm512_shuffle_i64x2(t0, t2, 0xdd));
    _mm512_storeu_si512(dst[2] + j, _mm512_shuffle_i64x2(t1, t3, 0x88));
    _mm512_storeu_si512(dst[3] + j, _mm512_shuffle_i64x2(t1, t3, 0xdd));
  }
  return j;
}
COUNTYSIM_AVX512_END

// True when byte plane k of the n elements of `size` bytes at p looks like
// noise, so that deflate would not shrink it: its counts are no more
// concentrated than about 0.1 bit below what uniform random bytes give
// (Renyi entropy, one log-free test). The draws are in no order, so the
// first 1,024 elements are a sample (its noise is about 0.03 bit).
bool plane_looks_random(const unsigned char* p, std::size_t n, std::size_t size, std::size_t k) {
  if (n < 1024) return false;
  n = std::min<std::size_t>(n, 1024);
  // Four tables, so that repeated bytes do not wait on one another's
  // increments; 16-bit counts (at most 1,024) and an integer sum of squares
  // (at most 1,024^2), exact, so the test is the one in doubles it was.
  std::uint16_t c[4][256] = {};
  p += k;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++c[0][p[i * size]];
    ++c[1][p[(i + 1) * size]];
    ++c[2][p[(i + 2) * size]];
    ++c[3][p[(i + 3) * size]];
  }
  for (; i < n; ++i) ++c[0][p[i * size]];
  std::uint32_t sum_sq = 0;
  for (int v = 0; v < 256; ++v) {
    const std::uint32_t t = std::uint32_t{c[0][v]} + c[1][v] + c[2][v] + c[3][v];
    sum_sq += t * t;
  }
  const double nn = static_cast<double>(n);
  const double uniform = nn * nn / 256 + nn * (1 - 1.0 / 256);  // E[sum of squared counts]
  return static_cast<double>(sum_sq) <= uniform * 1.0718;       // 2^0.1
}

// How many leading byte planes (never all) look like noise.
std::size_t noise_planes(const unsigned char* p, std::size_t n, std::size_t size) {
  std::size_t planes = 0;
  while (planes + 1 < size && plane_looks_random(p, n, size, planes)) ++planes;
  return planes;
}

// HDF5's shuffle, byte plane k of element j to dst[k][j] (size <= 8).
void shuffle_to(const unsigned char* src, std::size_t n, std::size_t size,
                unsigned char* const* dst) {
  std::size_t j = 0;
  if (size == 4) {
    static const bool vbmi = __builtin_cpu_supports("avx512vbmi");  // beyond SimdLevel::avx512
    const SimdLevel level = simd_level();
    if (level >= SimdLevel::avx512 && vbmi)
      j = shuffle4_avx512(src, n, dst);
    else if (level >= SimdLevel::avx2)
      j = shuffle4_avx2(src, n, dst);
  }
  for (; j < n; ++j)
    for (std::size_t k = 0; k < size; ++k) dst[k][j] = src[size * j + k];
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
    const std::size_t at = out.size();
    out.resize(at + 5 + len);
    std::memcpy(out.data() + at, head, 5);
    std::memcpy(out.data() + at + 5, p, len);
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
  // isal_deflate_stateless_init leaves fields that level 1 reads (valgrind
  // found one), so every field is zeroed first, but not the 80 KiB of
  // history buffer and level-0 hash that only the stateful and level-0 paths
  // use (tests/e2e/test_valgrind.py: memcheck sees no read of them).
  isal_zstream z;
  std::memset(static_cast<void*>(&z), 0,
              offsetof(isal_zstream, internal_state) + offsetof(isal_zstate, buffer));
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

void shuffle_bytes(const void* data, std::size_t bytes, std::size_t elem_size, unsigned char* dst) {
  // HDF5's shuffle filter: byte k of every element together, for k = 0, 1, ...;
  // bytes past the last whole element stay at the end.
  const auto* src = static_cast<const unsigned char*>(data);
  const std::size_t n = elem_size ? bytes / elem_size : 0;
  if (elem_size <= 1 || n <= 1 || elem_size > 8) {
    if (elem_size > 8) throw std::logic_error("shuffle_bytes: elements of over 8 bytes");
    std::copy(src, src + bytes, dst);
    return;
  }
  unsigned char* planes[8];
  for (std::size_t k = 0; k < elem_size; ++k) planes[k] = dst + k * n;
  shuffle_to(src, n, elem_size, planes);
  std::copy(src + n * elem_size, src + bytes, dst + n * elem_size);
}

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
  const std::size_t n = elem_size ? bytes / elem_size : 0;
  const bool shuffle = elem_size > 1 && n > 1;
  if (elem_size > 8) throw std::logic_error("compress_chunk: elements of over 8 bytes");
  // Every path writes the zlib format HDF5's deflate filter reads (zlib
  // header, deflate blocks, Adler-32 of the shuffled bytes). Level 1, the
  // default, is ISA-L's level 1 (about three times libdeflate's speed on this
  // data, as small); the other levels are libdeflate's.
  const std::size_t at = out.size();
  thread_local std::vector<unsigned char> shuffled;
  // Level 1: the low bytes of float values are noise. Those leading byte
  // planes go into stored blocks (no time spent on them, now or when read
  // back, and no larger), the rest through ISA-L.
  const std::size_t planes = level == 1 && shuffle ? noise_planes(src, n, elem_size) : 0;
  const std::size_t stored = planes * n;
  if (planes > 0 && stored <= 65535) {
    // One stored block: the noise planes are shuffled straight into `out`
    // behind its header, the others into `shuffled` for ISA-L.
    const std::size_t rest = bytes - stored;
    out.resize(at + 7 + stored);
    unsigned char* o = out.data() + at;
    const unsigned nlen = ~static_cast<unsigned>(stored) & 0xffffu;
    const unsigned char head[7] = {0x78,
                                   0x01,  // zlib: deflate, 32 KiB window, no dictionary
                                   0x00,  // BFINAL 0, BTYPE 00 (stored), padding
                                   static_cast<unsigned char>(stored & 0xff),
                                   static_cast<unsigned char>(stored >> 8),
                                   static_cast<unsigned char>(nlen & 0xff),
                                   static_cast<unsigned char>(nlen >> 8)};
    std::memcpy(o, head, 7);
    shuffled.resize(rest);
    unsigned char* dst[8];
    for (std::size_t k = 0; k < elem_size; ++k)
      dst[k] = k < planes ? o + 7 + k * n : shuffled.data() + (k - planes) * n;
    shuffle_to(src, n, elem_size, dst);
    std::copy(src + n * elem_size, src + bytes, shuffled.data() + (elem_size - planes) * n);
    const std::uint32_t a0 = libdeflate_adler32(1, o + 7, stored);
    if (isal_level1(shuffled.data(), rest, true, out)) {
      const std::uint32_t a = libdeflate_adler32(a0, shuffled.data(), rest);
      const unsigned char tail[4] = {
          static_cast<unsigned char>(a >> 24), static_cast<unsigned char>(a >> 16),
          static_cast<unsigned char>(a >> 8), static_cast<unsigned char>(a)};
      const std::size_t end = out.size();
      out.resize(end + 4);
      std::memcpy(out.data() + end, tail, 4);
      return;
    }
    out.resize(at);  // not expected (the buffer holds stored blocks)
  }
  if (shuffle) {
    shuffled.resize(bytes);
    shuffle_bytes(src, bytes, elem_size, shuffled.data());
    src = shuffled.data();
  }
  if (level == 1) {
    if (planes == 0) {
      if (isal_level1(src, bytes, false, out)) return;
    } else {
      const unsigned char head[2] = {0x78, 0x01};
      out.insert(out.end(), head, head + 2);
      put_stored(out, src, stored);
      if (isal_level1(src + stored, bytes - stored, true, out)) {
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
