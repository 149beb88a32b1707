// Chunk compression speed and ratio for per-draw float32 data (one thread):
// compress_chunk at several deflate levels, against szip (libaec) through
// HDF5's own filter. Run by hand (bench/README.md):
//
//   bench_compress [draws_per_chunk=8192] [szip_file.h5]
//
// Prints one table row per (data, method). With a file name, also writes a
// small szip-compressed dataset there, to check which readers decode it.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "countysim/chunk_codec.hpp"
#include "countysim/h5.hpp"
#include "countysim/results_io.hpp"

using namespace countysim;

namespace {

// SplitMix64 and Box-Muller: enough for test content, no std:: distributions.
struct Gen {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double unit() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  double normal() {
    return std::sqrt(-2 * std::log(unit())) * std::cos(6.283185307179586 * unit());
  }
};

// Output-like series per draw: a lognormal level, then yearly growth with a
// persistent per-draw rate and a yearly shock; `cols` = years x series.
std::vector<float> output_like(std::size_t draws, std::size_t years, std::size_t series,
                               std::uint64_t seed) {
  Gen g{seed};
  std::vector<float> out(draws * years * series);
  for (std::size_t d = 0; d < draws; ++d)
    for (std::size_t k = 0; k < series; ++k) {
      double level = 50.0 * (k + 1) * std::exp(0.3 * g.normal());
      const double rate = 0.06 + 0.02 * g.normal();
      for (std::size_t t = 0; t < years; ++t) {
        out[(d * years + t) * series + k] = static_cast<float>(level);
        level *= std::exp(rate + 0.03 * g.normal());
      }
    }
  return out;
}

std::vector<std::int32_t> counts_like(std::size_t draws, std::size_t years, std::uint64_t seed) {
  Gen g{seed};
  std::vector<std::int32_t> out(draws * years);
  for (std::size_t d = 0; d < draws; ++d) {
    int n = 0;
    for (std::size_t t = 0; t < years; ++t) {
      n += static_cast<int>(g.unit() * 4);
      out[d * years + t] = n;
    }
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Best of 3 rounds of >= 0.3 s each: MB/s of input and the compressed size.
template <class F>
std::pair<double, std::size_t> time_it(std::size_t bytes, F&& f) {
  double best = 0;
  std::size_t out = 0;
  for (int round = 0; round < 3; ++round) {
    int reps = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double dt = 0;
    do {
      out = f();
      ++reps;
      dt = seconds_since(t0);
    } while (dt < 0.3);
    best = std::max(best, reps * bytes / dt / 1e6);
  }
  return {best, out};
}

void row(const std::string& data, const std::string& method, std::size_t bytes, double mbs,
         std::size_t out, double inflate_mbs = 0) {
  fmt::print("| {:<28} | {:<26} | {:>8.1f} | {:>6.3f} | {}\n", data, method, mbs,
             static_cast<double>(out) / bytes,
             inflate_mbs > 0 ? fmt::format("{:.0f}", inflate_mbs) : std::string("-"));
}

// Writes `chunks` copies of the chunk through HDF5's own pipeline (szip or
// shuffle+deflate) into an in-memory file; returns (MB/s write, stored bytes, MB/s read).
std::tuple<double, std::size_t, double> through_hdf5(const std::vector<float>& chunk,
                                                     std::size_t draws, std::size_t cols, bool szip,
                                                     unsigned option) {
  const std::size_t chunks = 8;
  h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_core(fapl, 64 << 20, 0);
  static int counter = 0;
  const std::string name = fmt::format("bench-{}.h5", counter++);
  h5::Handle file(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
  const hsize_t dims[2] = {draws * chunks, cols}, cdims[2] = {draws, cols};
  h5::Handle space(H5Screate_simple(2, dims, nullptr));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl, 2, cdims);
  if (szip) {
    H5Pset_szip(dcpl, option, 32);
  } else {
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, option);
  }
  // No chunk cache: every write and read goes through the filters.
  h5::Handle dapl(H5Pcreate(H5P_DATASET_ACCESS));
  H5Pset_chunk_cache(dapl, 101, 0, 1.0);
  h5::Handle ds(H5Dcreate2(file, "x", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, dapl));
  if (!ds.valid()) {
    fmt::print(stderr, "cannot create the dataset (szip encoder missing?)\n");
    std::exit(1);
  }
  h5::Handle mspace(H5Screate_simple(2, cdims, nullptr));
  const std::size_t bytes = chunk.size() * 4;
  for (std::size_t c = 0; c < chunks; ++c) {  // every chunk exists before timing
    const hsize_t start[2] = {c * draws, 0};
    h5::Handle fs(H5Dget_space(ds));
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, cdims, nullptr);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, mspace, fs, H5P_DEFAULT, chunk.data());
  }
  std::size_t next = 0;
  auto [mbs, unused] = time_it(bytes, [&] {
    const hsize_t start[2] = {(next++ % chunks) * draws, 0};
    h5::Handle fs(H5Dget_space(ds));
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, cdims, nullptr);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, mspace, fs, H5P_DEFAULT, chunk.data());
    return std::size_t{0};
  });
  (void)unused;
  H5Dflush(ds);
  const std::size_t stored = H5Dget_storage_size(ds) / chunks;
  std::vector<float> back(chunk.size());
  auto [rmbs, unused2] = time_it(bytes, [&] {
    const hsize_t start[2] = {(next++ % chunks) * draws, 0};
    h5::Handle fs(H5Dget_space(ds));
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, cdims, nullptr);
    H5Dread(ds, H5T_NATIVE_FLOAT, mspace, fs, H5P_DEFAULT, back.data());
    return std::size_t{0};
  });
  (void)unused2;
  if (back != chunk) fmt::print(stderr, "round trip through HDF5 differs\n");
  return {mbs, stored, rmbs};
}

double inflate_speed(const std::vector<unsigned char>& z, std::size_t bytes) {
  std::vector<unsigned char> out(bytes);
  return time_it(bytes,
                 [&] {
                   uLongf n = bytes;
                   uncompress(out.data(), &n, z.data(), z.size());
                   return std::size_t{n};
                 })
      .first;
}

void write_szip_sample(const std::string& path, const std::vector<float>& chunk, std::size_t draws,
                       std::size_t cols) {
  h5::Handle file = h5::create_file(path);
  const hsize_t dims[2] = {draws, cols};
  h5::Handle space(H5Screate_simple(2, dims, nullptr));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl, 2, dims);
  H5Pset_szip(dcpl, H5_SZIP_NN_OPTION_MASK, 32);
  h5::Handle ds(H5Dcreate2(file, "x", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, chunk.data());
  h5::write_attribute(ds, "first", static_cast<double>(chunk[0]));
  h5::write_attribute(ds, "last", static_cast<double>(chunk.back()));
}

}  // namespace

int main(int argc, char** argv) {
  h5::quiet();
  const std::size_t draws = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 8192;
  struct Data {
    std::string name;
    std::vector<float> f;
    std::size_t cols;
  };
  std::vector<Data> sets;
  sets.push_back({fmt::format("output [{}, 4]", draws), output_like(draws, 4, 1, 1), 4});
  sets.push_back({fmt::format("output [{}, 11]", draws), output_like(draws, 11, 1, 2), 11});
  sets.push_back({fmt::format("cluster [{}, 11x8]", draws), output_like(draws, 11, 8, 3), 88});

  fmt::print("| data | method | MB/s in | ratio | inflate MB/s\n|---|---|---|---|---|\n");
  for (const auto& s : sets) {
    const std::size_t bytes = s.f.size() * 4;
    for (int level : {1, 2, 3, 6, 9}) {
      auto [mbs, n] =
          time_it(bytes, [&] { return compress_chunk(s.f.data(), bytes, 4, level).size(); });
      const auto z = compress_chunk(s.f.data(), bytes, 4, level);
      row(s.name, fmt::format("compress_chunk level {}", level), bytes, mbs, n,
          level == 1 ? inflate_speed(z, bytes) : 0);
    }
    auto [mbs0, n0] = time_it(bytes, [&] {
      uLongf n = compressBound(bytes);
      std::vector<unsigned char> out(n);
      compress2(out.data(), &n, reinterpret_cast<const Bytef*>(s.f.data()), bytes, 1);
      return std::size_t{n};
    });
    row(s.name, "deflate 1, no shuffle", bytes, mbs0, n0);
    {
      auto [w, stored, r] = through_hdf5(s.f, draws, s.cols, false, 1);
      row(s.name, "HDF5 shuffle+deflate 1", bytes, w, stored, r);
    }
    {
      auto [w, stored, r] = through_hdf5(s.f, draws, s.cols, true, H5_SZIP_NN_OPTION_MASK);
      row(s.name, "HDF5 szip NN 32", bytes, w, stored, r);
    }
    {
      // EC does not shrink float data: the optional filter gives up, ratio 1.
      auto [w, stored, r] = through_hdf5(s.f, draws, s.cols, true, H5_SZIP_EC_OPTION_MASK);
      row(s.name, "HDF5 szip EC 32", bytes, w, stored, r);
    }
  }
  {
    const auto c = counts_like(draws, 11, 4);
    const std::size_t bytes = c.size() * 4;
    auto [mbs, n] = time_it(bytes, [&] { return compress_chunk(c.data(), bytes, 4, 1).size(); });
    row(fmt::format("counts i32 [{}, 11]", draws), "compress_chunk level 1", bytes, mbs, n);
  }
  if (argc > 2) write_szip_sample(argv[2], sets[0].f, draws, sets[0].cols);
  return 0;
}
