// Publishing results: an older result survives every failure, and a result
// that appeared meanwhile is never clobbered without --force.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
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

TEST_CASE("with force the old result stays until the new one replaces it", "[output]") {
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
                    folder + " is a folder; give a file name, e.g. " + folder + "/run.h5");
  CHECK(std::filesystem::is_directory(folder));
  const std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(prepare_output(fifo, true),
                    fifo +
                        " exists and is not a regular file; --force replaces only files, "
                        "choose another name with -o");
}

TEST_CASE("an output name ending in / is refused before any work", "[output]") {
  TempDir dir;
  const std::string out = dir.file("newdir/");
  CHECK_THROWS_AS(prepare_output(out, false), UsageError);
  CHECK_THROWS_WITH(prepare_output(out, false),
                    out + " names a folder; give a file name, e.g. " + out + "run.h5");
  CHECK_FALSE(std::filesystem::exists(dir.file("newdir")));
}

TEST_CASE("a dangling symlink is not replaced without --force", "[output]") {
  TempDir dir;
  const std::string out = dir.file("r.h5");
  std::filesystem::create_symlink(dir.file("nowhere"), out);
  CHECK_THROWS_WITH(prepare_output(out, false),
                    out +
                        " already exists; choose another name with -o, or pass --force to "
                        "replace it");
  CHECK_THROWS_WITH(prepare_output(out, true),
                    out +
                        " exists and is not a regular file; --force replaces only files, "
                        "choose another name with -o");
  CHECK(std::filesystem::is_symlink(out));
}

TEST_CASE("temporary files of dead processes are removed, of live ones kept", "[output]") {
  TempDir dir;
  const std::string out = dir.file("r.h5");
  const std::string dead = out + ".tmp.999999999";  // above any pid_max
  const std::string live = out + ".tmp.1";          // init: always running
  const std::string other = dir.file("other.h5.tmp.999999999");
  write_text(dead, "stale");
  write_text(live, "busy");
  write_text(other, "another output's");
  prepare_output(out, false);
  CHECK_FALSE(exists(dead));
  CHECK(exists(live));
  CHECK(exists(other));
}

TEST_CASE("prepare_output creates the parent folder", "[output]") {
  TempDir dir;
  const std::string out = dir.file("a/b/r.h5");
  prepare_output(out, false);
  CHECK(std::filesystem::is_directory(dir.file("a/b")));
}

TEST_CASE("publish with --force refuses a destination that became a folder", "[output]") {
  TempDir dir;
  const std::string out = dir.file("r.h5");
  std::string tmp_path;
  {
    TempFile tmp(out);
    tmp_path = tmp.path();
    write_text(tmp.path(), "mine");
    std::filesystem::create_directory(out);  // appeared meanwhile
    CHECK_THROWS_AS(tmp.publish(true), UsageError);
    CHECK_THROWS_WITH(tmp.publish(true),
                      out +
                          " appeared meanwhile and is not a regular file; --force replaces only "
                          "files, the result was not written");
  }
  CHECK(std::filesystem::is_directory(out));
  CHECK_FALSE(exists(tmp_path));
}
