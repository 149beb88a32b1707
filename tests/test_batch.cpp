// `countysim batch`: scenario files from folders, validation of every file
// before anything runs, common random numbers across the runs (an unchanged
// what-if differs by exactly 0), --resume, and the comparison table and CSV.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "countysim/batch.hpp"
#include "countysim/errors.hpp"
#include "countysim/results_io.hpp"
#include "temp_dir.hpp"

using namespace countysim;
using countysim::testing::TempDir;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << text;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// base.yaml (the example) and a folder of what-ifs that extend it.
struct Study {
  TempDir tmp{"countysim-batch"};
  fs::path base, whatif;
  Study() {
    base = tmp.path / "base.yaml";
    fs::copy_file(fs::path(COUNTYSIM_TEST_DATA) / "example.yaml", base);
    whatif = tmp.path / "what-if";
    // The same scenario under another name: every draw identical.
    write(whatif / "same.yaml", "schema: countysim/1\nextends: ../base.yaml\nname: 原样\n");
    // More manufacturing loans: the loan-share target moves.
    write(whatif / "loans.yaml",
          "schema: countysim/1\nextends: ../base.yaml\nname: 贷款占比提高\n"
          "finance:\n  manufacturing_loan_share: {dist: beta, alpha: 12, beta: 28}\n");
  }
  BatchOptions options(const std::string& out) const {
    BatchOptions o;
    o.base = base.string();
    o.alternatives = {whatif.string()};
    o.out_dir = (tmp.path / out).string();
    o.draws = 2048;
    o.seed = 11;
    o.seed_given = true;
    o.threads = 2;
    o.report = false;  // the report and PDF: tests/e2e/test_batch.py
    return o;
  }
};

}  // namespace

TEST_CASE("batch: folders expand to their YAML files, base first, names distinct", "[batch]") {
  Study s;
  write(s.whatif / "notes.txt", "not a scenario");
  const auto files = batch_scenario_files(s.base.string(), {s.whatif.string()});
  REQUIRE(files.size() == 3);
  CHECK(files[0] == s.base.string());
  CHECK(fs::path(files[1]).filename() == "loans.yaml");
  CHECK(fs::path(files[2]).filename() == "same.yaml");

  // The base inside a folder it is listed with is not run twice.
  CHECK_THROWS_WITH(batch_scenario_files(s.base.string(), {s.tmp.path.string()}),
                    s.tmp.path.string() + ": no .yaml scenario files in this folder");
  CHECK_THROWS_WITH(batch_scenario_files(s.base.string(), {s.tmp.file("empty")}),
                    s.tmp.file("empty") + ": no such scenario file or folder");
  fs::create_directories(s.tmp.path / "empty");
  CHECK_THROWS_WITH(batch_scenario_files(s.base.string(), {s.tmp.file("empty")}),
                    s.tmp.file("empty") + ": no .yaml scenario files in this folder");
  write(s.tmp.path / "other" / "same.yaml", "schema: countysim/1\nextends: ../base.yaml\n");
  const std::string other = (s.tmp.path / "other" / "same.yaml").string();
  CHECK_THROWS_WITH(batch_scenario_files(s.base.string(), {s.whatif.string(), other}),
                    (s.whatif / "same.yaml").string() + " and " + other +
                        " would both be written to results/same.h5; rename one of them");
}

TEST_CASE("batch: every bad file is listed before anything runs", "[batch]") {
  Study s;
  write(s.whatif / "bad-a.yaml",
        "schema: countysim/1\nextends: ../base.yaml\nfinance:\n  reference_share: 2\n");
  write(s.whatif / "bad-b.yaml", "schema: countysim/1\nextends: ../base.yaml\nnmae: typo\n");
  const BatchOptions o = s.options("study");
  try {
    run_batch(o);
    FAIL("no InputError");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 2);
    CHECK(e.kind() == InputKind::scenario);
    CHECK(e.diagnostics()[0].to_string() ==
          (s.whatif / "bad-a.yaml").string() +
              ":4:20: finance.reference_share: 2 looks like a percentage; write 0.02 for 2%");
    CHECK(e.diagnostics()[1].to_string() ==
          (s.whatif / "bad-b.yaml").string() + ":3:1: unknown key 'nmae'; did you mean 'name'?");
  }
  CHECK_FALSE(fs::exists(o.out_dir));  // nothing written
}

TEST_CASE("batch: common random numbers, comparison table and CSV, --resume", "[batch]") {
  Study s;
  BatchOptions o = s.options("study");
  std::vector<std::string> log;
  o.log = [&](const std::string& line) { log.push_back(line); };
  const BatchResult r = run_batch(o);
  REQUIRE(r.runs.size() == 3);
  CHECK(r.runs[0].name == "base");
  CHECK(r.runs[1].name == "loans");
  CHECK(r.runs[2].name == "same");
  CHECK(r.draws == 2048);
  CHECK(r.seed == 11);
  for (const auto& run : r.runs) {
    CHECK_FALSE(run.skipped);
    ResultsReader rd(run.results);
    CHECK(rd.info().seed == 11);
    CHECK(rd.info().draws == 2048);
  }
  REQUIRE(r.comparisons.size() == 2);
  for (const auto& c : r.comparisons) CHECK(c.paired);
  // The unchanged what-if: the same draws, so every change is exactly 0.
  for (const auto& row : r.comparisons[1].rows) {
    CHECK(row.diff == 0);
    CHECK(row.std_error == 0);
    CHECK(row.p_alt == row.p_base);
  }
  // More loans: the loan-share target's chance rises by more than 4 SE.
  const auto& rows = r.comparisons[0].rows;
  const auto loan = std::find_if(rows.begin(), rows.end(),
                                 [](const CompareRow& x) { return x.id == "loan-share"; });
  REQUIRE(loan != rows.end());
  CHECK(loan->diff > 4 * loan->std_error);
  CHECK(loan->diff == Approx(loan->p_alt - loan->p_base).margin(1e-12));
  CHECK(log.front() ==
        "batch: 3 scenarios valid; each runs 2,048 draws with seed 11 (common random numbers)");
  CHECK(std::count_if(log.begin(), log.end(), [](const std::string& l) {
          return l.find(": running 2,048 draws") != std::string::npos;
        }) == 3);

  const fs::path study = o.out_dir;
  CHECK(slurp(study / "comparison.txt") == r.table);
  CHECK(r.table.find("base") != std::string::npos);
  CHECK(r.table.find("(+0.00 ± 0.00)") != std::string::npos);  // the unchanged what-if
  CHECK(slurp(study / "batch.txt") ==
        "base\tresults/base.h5\nloans\tresults/loans.h5\nsame\tresults/same.h5\n");
  const std::string csv = slurp(study / "comparison.csv");
  CHECK(
      csv.rfind("\xEF\xBB\xBFkind,scenario,id,label,units,base,alt,difference,std_error,paired\r\n",
                0) == 0);
  CHECK(csv.find("target,same,") != std::string::npos);
  CHECK(csv.find("median,loans,industrial_output,") != std::string::npos);

  // --resume: nothing changed, nothing runs.
  BatchOptions again = o;
  again.resume = true;
  log.clear();
  const BatchResult r2 = run_batch(again);
  for (const auto& run : r2.runs) CHECK(run.skipped);
  CHECK(r2.table == r.table);
  // A changed what-if runs again; the others stay.
  write(s.whatif / "same.yaml", "schema: countysim/1\nextends: ../base.yaml\nname: 原样（改名）\n");
  const BatchResult r3 = run_batch(again);
  CHECK(r3.runs[0].skipped);
  CHECK(r3.runs[1].skipped);
  CHECK_FALSE(r3.runs[2].skipped);
  // Another seed: the stored results no longer match.
  again.seed = 12;
  const BatchResult r4 = run_batch(again);
  for (const auto& run : r4.runs) CHECK_FALSE(run.skipped);
}

TEST_CASE("batch: report STUDY/ reads batch.txt", "[batch]") {
  TempDir tmp;
  CHECK_THROWS_WITH(read_batch_manifest(tmp.path.string()),
                    (tmp.path / "batch.txt").string() +
                        ": not found: not a folder written by countysim batch; give the "
                        "results files instead (report BASE.h5 ALT.h5 ...)");
  write(tmp.path / "batch.txt", "base results/base.h5\n");
  try {
    read_batch_manifest(tmp.path.string());
    FAIL("no InputError");
  } catch (const InputError& e) {
    CHECK(e.diagnostics()[0].to_string() ==
          (tmp.path / "batch.txt").string() +
              ":1:1: expected NAME<tab>RESULTS, as countysim batch writes it");
  }
  write(tmp.path / "batch.txt", "base\tresults/base.h5\nalt\tresults/alt.h5\n");
  const auto runs = read_batch_manifest(tmp.path.string());
  REQUIRE(runs.size() == 2);
  CHECK(runs[1].first == "alt");
  CHECK(runs[1].second == (tmp.path / "results/alt.h5").string());
}
