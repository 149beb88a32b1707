// libFuzzer target: the results reader on raw bytes. The bytes are written to a temporary
// file and opened as a results file; every accessor a verb uses is called.
// Any input must be read or refused with an InputError (kind results);
// anything else is a bug. See docs/fuzzing.md.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "countysim/errors.hpp"
#include "countysim/results_io.hpp"

namespace {

std::string temp_path() {
  static const std::string path =
      "/tmp/countysim-fuzz-results-" + std::to_string(::getpid()) + ".h5";
  static const struct Remove {
    ~Remove() { ::unlink(path.c_str()); }
  } remove_at_exit;
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = temp_path();
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    if (size > 0) std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return 0;
  }
  try {
    countysim::ResultsReader r(path);
    (void)r.info();
    (void)r.coords();
    (void)r.targets();
    for (const auto& m : r.summary_metrics()) (void)r.summary(m);
    if (r.has_dataset("draws", "target_met")) (void)r.read_dataset("draws", "target_met");
  } catch (const countysim::InputError&) {
  }
  return 0;
}
