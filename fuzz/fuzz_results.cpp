// libFuzzer target: the results reader, structure-aware. The input is a small
// program of edits applied through HDF5 to a copy of a valid file
// (fuzz/corpus/results/minimal.h5): delete an object, replace a dataset by one
// of another type, rank, length or content (NaN, inf, huge), set an
// attribute, add an external or soft link, declare a huge unwritten dataset.
// The edited file is then read like `summary`, `report` and `compare` do.
// Every file must be read or refused with an InputError; anything else is a
// bug. Raw-byte fuzzing (fuzz_results_bytes) mostly exercises HDF5's own
// parser; this one exercises countysim's checks. See docs/fuzzing.md.
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "countysim/errors.hpp"
#include "countysim/h5.hpp"
#include "countysim/results_io.hpp"

namespace fs = std::filesystem;
namespace h5 = countysim::h5;

namespace {

const char* const kPaths[] = {"year",
                              "projection_year",
                              "cluster",
                              "cluster_label",
                              "cluster_group",
                              "cluster_manufacturing",
                              "project",
                              "project_label",
                              "project_cluster",
                              "project_planned_start_month",
                              "target",
                              "target_label",
                              "quantile",
                              "targets",
                              "targets/target",
                              "targets/label",
                              "targets/metric",
                              "targets/op",
                              "targets/cluster",
                              "targets/group",
                              "targets/threshold",
                              "targets/group_threshold",
                              "targets/probability",
                              "targets/std_error",
                              "targets/ci_low",
                              "targets/ci_high",
                              "targets/year",
                              "summary",
                              "summary/gdp",
                              "summary/gdp/mean",
                              "summary/gdp/sd",
                              "summary/gdp/quantiles",
                              "summary/gdp/year",
                              "draws",
                              "draws/draw",
                              "draws/target",
                              "draws/target_met",
                              "x"};
const char* const kAttrs[] = {"draws", "base_year", "last_year", "seed", "schema"};
constexpr std::size_t kNPaths = sizeof(kPaths) / sizeof(kPaths[0]);

struct Bytes {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::int64_t i64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    return static_cast<std::int64_t>(v);
  }
  double number() {
    switch (u8() % 8) {
      case 0:
        return std::numeric_limits<double>::quiet_NaN();
      case 1:
        return std::numeric_limits<double>::infinity();
      case 2:
        return -1e308;
      case 3:
        return static_cast<double>(static_cast<std::int8_t>(u8()));
      case 4:
        return u8() / 255.0;
      default:
        return 2000 + static_cast<double>(u8() % 60);
    }
  }
};

void parent_of(const std::string& path, std::string& parent, std::string& name) {
  const std::size_t slash = path.rfind('/');
  parent = slash == std::string::npos ? "." : path.substr(0, slash);
  name = slash == std::string::npos ? path : path.substr(slash + 1);
}

void edit(hid_t file, Bytes& in) {
  const std::string path = kPaths[in.u8() % kNPaths];
  std::string parent, name;
  parent_of(path, parent, name);
  if (parent != "." && !h5::is_group(file, parent)) return;
  h5::Handle loc(H5Gopen2(file, parent.c_str(), H5P_DEFAULT));
  if (!loc.valid()) return;
  const std::uint8_t op = in.u8() % 9;
  if (op == 7) {  // an attribute of the root
    const char* attr = kAttrs[in.u8() % 5];
    if (h5::has_attribute(file, attr)) H5Adelete(file, attr);
    if (std::strcmp(attr, "schema") == 0)
      h5::write_attribute(file, attr, in.u8() % 2 ? "countysim-results/1" : "other");
    else
      h5::write_attribute(file, attr, in.i64());
    return;
  }
  if (h5::exists(loc, name)) H5Ldelete(loc, name.c_str(), H5P_DEFAULT);
  const std::size_t len = in.u8() % 12;
  switch (op) {
    case 0:  // deleted
      return;
    case 1: {
      std::vector<double> v(len);
      for (auto& x : v) x = in.number();
      h5::write_dataset(loc, name, v);
      return;
    }
    case 2: {
      std::vector<int> v(len);
      for (auto& x : v) {
        const double d = in.number();
        x = std::isfinite(d) && std::fabs(d) < 2e9 ? static_cast<int>(d) : -2147483647;
      }
      h5::write_dataset(loc, name, v);
      return;
    }
    case 3: {
      std::vector<std::string> v(len);
      for (auto& s : v) s = std::string(in.u8() % 4, static_cast<char>('a' + in.u8() % 3));
      h5::write_dataset(loc, name, v);
      return;
    }
    case 4: {
      const std::size_t a = in.u8() % 5, b = in.u8() % 9;
      std::vector<double> v(a * b);
      for (auto& x : v) x = in.number();
      h5::write_dataset(loc, name, v, {a, b});
      return;
    }
    case 5:
      H5Lcreate_external(in.u8() % 2 ? "/etc/passwd" : "minimal.h5", "/", loc, name.c_str(),
                         H5P_DEFAULT, H5P_DEFAULT);
      return;
    case 6:
      H5Lcreate_soft(in.u8() % 2 ? "/year" : "/nowhere", loc, name.c_str(), H5P_DEFAULT,
                     H5P_DEFAULT);
      return;
    case 8: {  // huge, never written
      const hsize_t dims[1] = {static_cast<hsize_t>(1) << (20 + in.u8() % 30)};
      const hsize_t chunk[1] = {4096};
      h5::Handle space(H5Screate_simple(1, dims, nullptr));
      h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
      H5Pset_chunk(dcpl, 1, chunk);
      h5::Handle ds(
          H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string seed = COUNTYSIM_FUZZ_SEED;
  static const std::string path = "/tmp/countysim-fuzz-" + std::to_string(::getpid()) + ".h5";
  static const struct Remove {
    ~Remove() { ::unlink(path.c_str()); }
  } remove_at_exit;
  h5::quiet();
  std::error_code ec;
  fs::copy_file(seed, path, fs::copy_options::overwrite_existing, ec);
  if (ec) return 0;
  Bytes in{data, size};
  try {
    h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    if (!file.valid()) return 0;
    for (int k = 0; k < 8 && in.n > 0; ++k) edit(file, in);
  } catch (const countysim::RunError&) {
    return 0;  // an edit HDF5 refused: not the reader's business
  }
  H5Eclear2(H5E_DEFAULT);
  try {
    countysim::ResultsReader r(path);
    (void)r.targets();
    for (const auto& m : r.summary_metrics()) (void)r.summary(m);
    if (r.has_dataset("draws", "target_met")) (void)r.read_dataset("draws", "target_met");
  } catch (const countysim::InputError& e) {
    if (e.kind() != countysim::InputKind::results) __builtin_trap();
  }
  return 0;
}
