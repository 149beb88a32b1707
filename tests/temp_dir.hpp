// A fresh folder for one test's files, removed when the test ends.
#pragma once
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace countysim::testing {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "countysim-test") {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           fmt::format("{}-{}-{}", prefix, ::getpid(), counter++);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

}  // namespace countysim::testing
