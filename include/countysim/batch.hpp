// `countysim batch`: a base scenario and its what-ifs run with common random
// numbers (one seed and draw count for all), then one comparison table and
// CSV, and the meeting pack (docs/meeting-pack.md). Layout of STUDY/:
//   results/<name>.h5      one results file per scenario (name = file stem)
//   comparison.txt         the table batch prints
//   comparison.csv         the same in long form (UTF-8 with BOM, for Excel)
//   batch.txt              the runs, base first: "<name>\t<results file>"
//   report/                slides (SVG, PNG), index.html, handout.pdf
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "countysim/cancel.hpp"
#include "countysim/compare.hpp"
#include "countysim/csv.hpp"

namespace countysim {

struct BatchOptions {
  std::string base;                       // base scenario (YAML)
  std::vector<std::string> alternatives;  // YAML files, or folders: every *.yaml in them
  std::string out_dir;                    // STUDY/
  std::uint64_t draws = 0;                // 0: the base scenario's
  std::uint64_t seed = 0;
  bool seed_given = false;  // false: the base scenario's
  int threads = 0;          // 0: all (OpenMP's default)
  bool resume = false;      // keep results whose scenario text, seed and draws match
  bool report = true;       // report/ (slides, index.html)
  bool pdf = true;          // report/handout.pdf
  std::string lang = "zh";
  bool progress_bar = false;  // the engine's bar on stderr, per scenario
  const CancelToken* cancel = nullptr;
  std::string command_line;
  // One line per event (validated, started, finished, skipped); stderr in main.
  std::function<void(const std::string&)> log;
};

struct BatchRun {
  std::string name;      // the file stem: results/<name>.h5
  std::string scenario;  // the YAML file
  std::string results;   // its results file
  bool skipped = false;  // --resume found it up to date
  double seconds = 0;
};

struct BatchResult {
  std::uint64_t draws = 0, seed = 0;
  std::vector<BatchRun> runs;           // base first
  std::vector<Comparison> comparisons;  // [alternative] against the base
  std::string table;                    // comparison.txt
  double seconds_runs = 0, seconds_report = 0;
};

// The scenario files of a batch, base first: folders expand to their *.yaml
// files in name order (the base itself left out). UsageError for a missing
// path, a folder without YAML files, or two scenarios with the same name.
std::vector<std::string> batch_scenario_files(const std::string& base,
                                              const std::vector<std::string>& alternatives);

// Validates every scenario first (InputError listing every bad file's
// problems; nothing is run or written), then runs, compares and reports.
BatchResult run_batch(const BatchOptions& options);

// The comparison table: per target the base's chance and each alternative's
// with the paired change ± standard error; the headline medians in the last
// year. `names`: base first.
std::string format_study_table(const std::vector<std::string>& names,
                               const std::vector<Comparison>& comparisons);
// Long form: kind (target | median), scenario, id, label, units, base, alt,
// difference, std_error, paired.
std::string format_study_csv(const std::vector<std::string>& names,
                             const std::vector<Comparison>& comparisons, CsvDialect dialect);

// `report STUDY/`: the results files batch.txt lists, base first, and their
// names. InputError (results) when batch.txt is missing or names a missing file.
std::vector<std::pair<std::string, std::string>> read_batch_manifest(const std::string& study_dir);

}  // namespace countysim
