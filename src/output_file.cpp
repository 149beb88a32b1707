#include "countysim/output_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "countysim/errors.hpp"

namespace fs = std::filesystem;

namespace countysim {

std::string default_results_path(const std::string& scenario_path) {
  return (fs::path("outputs") / (fs::path(scenario_path).stem().string() + ".h5")).string();
}

std::string default_sweep_path(const std::string& scenario_path) {
  return (fs::path("outputs") / (fs::path(scenario_path).stem().string() + "-sweep.h5")).string();
}

std::string default_report_dir(const std::string& results_path) {
  const fs::path p(results_path);
  return (p.parent_path() / (p.stem().string() + "-report")).string();
}

namespace {

std::string exists_message(const std::string& path) {
  return fmt::format(
      "{} already exists; choose another name with -o, or pass --force to replace it", path);
}

}  // namespace

void prepare_output(const std::string& path, bool force) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!force) throw UsageError(exists_message(path));
    if (!S_ISREG(st.st_mode))
      throw UsageError(fmt::format(
          "{} exists and is not a regular file; --force replaces only files, choose another name "
          "with -o",
          path));
  }
  const fs::path out(path);
  if (out.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(out.parent_path(), ec);
    if (ec)
      throw RunError(
          fmt::format("cannot create the folder {}: {}", out.parent_path().string(), ec.message()));
  }
}

TempFile::TempFile(std::string final_path)
    : path_(fmt::format("{}.tmp.{}", final_path, ::getpid())), final_path_(std::move(final_path)) {}

TempFile::~TempFile() {
  if (!published_) ::unlink(path_.c_str());
}

void TempFile::publish(bool force) {
  if (force) {
    if (::rename(path_.c_str(), final_path_.c_str()) != 0)
      throw RunError(
          fmt::format("cannot move {} to {}: {}", path_, final_path_, std::strerror(errno)));
  } else if (::renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, final_path_.c_str(),
                         RENAME_NOREPLACE) != 0) {
    // Filesystems without RENAME_NOREPLACE: link() also refuses to replace.
    if ((errno == EINVAL || errno == ENOSYS) && ::link(path_.c_str(), final_path_.c_str()) == 0) {
      ::unlink(path_.c_str());
    } else {
      if (errno == EEXIST) throw UsageError(exists_message(final_path_));
      throw RunError(
          fmt::format("cannot move {} to {}: {}", path_, final_path_, std::strerror(errno)));
    }
  }
  published_ = true;
}

}  // namespace countysim
