// Publishing results: an older result survives every failure, and a result
// that appeared meanwhile is never clobbered without --force.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "countysim/errors.hpp"
#include "countysim/output_file.hpp"
#include "temp_dir.hpp"

using namespace countysim;
using countysim::testing::TempDir;

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  return std::filesystem::exists(path);
}

}  // namespace

TEST_CASE("default output paths", "[output]") {
  CHECK(default_results_path("scenarios/what-if/land-cut-30.yaml") == "outputs/land-cut-30.h5");
  CHECK(default_sweep_path("a/b.yaml") == "outputs/b-sweep.h5");
  CHECK(default_report_dir("outputs/tj.h5") == "outputs/tj-report");
  CHECK(default_report_dir("tj.h5") == "tj-report");
}

TEST_CASE("--force keeps the old result until the new one replaces it", "[output]") {
  TempDir dir;
  const std::string out = dir.file("r.h5");
  write_text(out, "old");
  prepare_output(out, true);
  TempFile tmp(out);
  write_text(tmp.path(), "new");
  CHECK(read_text(out) == "old");  // no window in which neither exists
  tmp.publish(true);
  CHECK(read_text(out) == "new");
  CHECK_FALSE(exists(tmp.path()));
}

TEST_CASE("without --force a result that appeared meanwhile is not replaced", "[output]") {
  TempDir dir;
  const std::string out = dir.file("r.h5");
  prepare_output(out, false);  // nothing there yet
  std::string tmp_path;
  {
    TempFile tmp(out);
    tmp_path = tmp.path();
    write_text(tmp.path(), "mine");
    write_text(out, "theirs");  // a concurrent run published first
    CHECK_THROWS_WITH(tmp.publish(false),
                      out +
                          " already exists; choose another name with -o, or pass --force to "
                          "replace it");
  }
  CHECK(read_text(out) == "theirs");
  CHECK_FALSE(exists(tmp_path));  // the unpublished temporary file is gone
}

TEST_CASE("an existing output is refused before any work", "[output]") {
  TempDir dir;
  const std::string out = dir.file("r.h5");
  write_text(out, "old");
  CHECK_THROWS_AS(prepare_output(out, false), UsageError);
  CHECK_THROWS_WITH(prepare_output(out, false),
                    out +
                        " already exists; choose another name with -o, or pass --force to "
                        "replace it");
  const std::string folder = dir.file("folder");
  std::filesystem::create_directory(folder);
  CHECK_THROWS_WITH(prepare_output(folder, true),
                    folder +
                        " exists and is not a regular file; --force replaces only files, "
                        "choose another name with -o");
  CHECK(std::filesystem::is_directory(folder));
}

TEST_CASE("prepare_output creates the parent folder", "[output]") {
  TempDir dir;
  const std::string out = dir.file("a/b/r.h5");
  prepare_output(out, false);
  CHECK(std::filesystem::is_directory(dir.file("a/b")));
}
