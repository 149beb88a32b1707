// Output files: where they go by default, and how they are published. A
// result is written under a temporary name in the destination's folder and
// renamed over the destination only when complete, so no partial file is
// ever seen under the final name and an older result survives every failure.
#pragma once
#include <string>

namespace countysim {

// Default paths: outputs/<stem>.h5, outputs/<stem>-sweep.h5, and the report
// folder <dir>/<results stem>-report beside the results file.
std::string default_results_path(const std::string& scenario_path);
std::string default_sweep_path(const std::string& scenario_path);
std::string default_report_dir(const std::string& results_path);
// <dir>/<results stem>-explain: where `report` looks for explain's file.
std::string default_explain_dir(const std::string& results_path);

// Before any work: UsageError if `path` names a folder (ends in '/' or is
// one), exists and !force, or exists and is not a regular file (a folder,
// device or symlink is never replaced). Creates the parent folder
// (UsageError if it cannot, or cannot be written). Removes the temporary
// files `<path>.tmp.<pid>` of processes that no longer run, with a note on
// stderr for each.
void prepare_output(const std::string& path, bool force);

// A temporary file beside the destination (`<path>.tmp.<pid>`), removed
// unless published.
class TempFile {
 public:
  explicit TempFile(std::string final_path);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  const std::string& final_path() const { return final_path_; }
  // Renames the temporary file to the final path in one atomic step. Without
  // force the rename fails (UsageError) if the destination appeared since
  // prepare_output, e.g. from a concurrent run; with force it replaces it, the
  // old file staying intact until that moment, unless it is no longer a
  // regular file (UsageError).
  void publish(bool force);

 private:
  std::string path_, final_path_;
  bool published_ = false;
};

}  // namespace countysim
