#include "countysim/output_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

std::string default_explain_dir(const std::string& results_path) {
  const fs::path p(results_path);
  return (p.parent_path() / (p.stem().string() + "-explain")).string();
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

namespace {

// Removes `<name>.tmp.<pid>` files in `dir` left by processes that no longer
// exist (killed by SIGKILL, a lost session, `ulimit -f`), with a note each.
void remove_stale_temp_files(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  fs::directory_iterator it(dir.empty() ? fs::path(".") : dir, ec);
  if (ec) return;
  const std::string prefix = name + ".tmp.";
  for (const auto& entry : it) {
    const std::string file = entry.path().filename().string();
    if (file.size() <= prefix.size() || file.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid_text = file.substr(prefix.size());
    if (pid_text.size() > 9 ||
        !std::all_of(pid_text.begin(), pid_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const long pid = std::stol(pid_text);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // still running
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (::unlink(entry.path().c_str()) == 0)
      fmt::print(stderr, "countysim: note: removed {}, left by process {} that no longer runs\n",
                 entry.path().string(), pid);
  }
}

}  // namespace

void prepare_output(const std::string& path, bool force) {
  if (path.empty()) throw UsageError("the output name is empty; give a file name with -o");
  if (path.back() == '/')
    throw UsageError(fmt::format("{} names a folder; give a file name, e.g. {}run.h5", path, path));
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      throw UsageError(fmt::format("{} is a folder; give a file name, e.g. {}/run.h5", path, path));
    if (!force) throw UsageError(exists_message(path));
    if (!S_ISREG(st.st_mode))
      throw UsageError(fmt::format(
          "{} exists and is not a regular file; --force replaces only files, choose another name "
          "with -o",
          path));
  }
  const fs::path out(path);
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  if (out.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec)
      throw UsageError(
          fmt::format("cannot create the folder {}: {}", parent.string(), ec.message()));
  }
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    throw UsageError(
        fmt::format("cannot write in the folder {}: {}", parent.string(), std::strerror(errno)));
  remove_stale_temp_files(out.has_parent_path() ? parent : fs::path(), out.filename().string());
}

TempFile::TempFile(std::string final_path)
    : path_(fmt::format("{}.tmp.{}", final_path, ::getpid())), final_path_(std::move(final_path)) {}

TempFile::~TempFile() {
  if (!published_) ::unlink(path_.c_str());
}

void TempFile::publish(bool force) {
  struct stat st {};
  if (force && ::lstat(final_path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw UsageError(fmt::format(
        "{} appeared meanwhile and is not a regular file; --force replaces only files, the "
        "result was not written",
        final_path_));
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
