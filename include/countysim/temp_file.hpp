// A result written under a temporary name and renamed when complete: the
// temporary file is removed unless released, so no partial result survives
// an error or an interruption.
#pragma once
#include <filesystem>
#include <string>
#include <system_error>

namespace countysim {

class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!released_) {
      std::error_code ec;
      std::filesystem::remove(path_, ec);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  void release() { released_ = true; }

 private:
  std::string path_;
  bool released_ = false;
};

}  // namespace countysim
