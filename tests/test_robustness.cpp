// Robustness (issue 13): special and oversized scenario files are refused
// before they are read; results files that are not regular files are refused
// before HDF5 opens them.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "countysim/errors.hpp"
#include "countysim/model.hpp"
#include "countysim/plan.hpp"
#include "countysim/results_io.hpp"
#include "countysim/scenario.hpp"
#include "temp_dir.hpp"

using namespace countysim;
using countysim::testing::TempDir;

namespace {

const std::string kSpecial =
    "it is not a regular file (a device, FIFO or socket); give a scenario file";

}  // namespace

TEST_CASE("devices, FIFOs and folders are refused as scenario files", "[robustness]") {
  TempDir dir;
  const std::string fifo = dir.file("fifo.yaml");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_AS(load_scenario("/dev/zero"), InputError);
  CHECK_THROWS_WITH(load_scenario("/dev/zero"),
                    "/dev/zero: cannot read the scenario file: " + kSpecial);
  CHECK_THROWS_WITH(load_scenario(fifo), fifo + ": cannot read the scenario file: " + kSpecial);
  CHECK_THROWS_WITH(load_scenario(dir.file("")),
                    dir.file("") + ": cannot read the scenario file: it is a directory");
}

TEST_CASE("extends: naming a device or a FIFO is refused at its position", "[robustness]") {
  TempDir dir;
  const std::string fifo = dir.file("parent.yaml");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string child = dir.file("child.yaml");
  std::ofstream(child) << "schema: countysim/1\nextends: parent.yaml\n";
  CHECK_THROWS_WITH(load_scenario(child), child + ":2:10: extends: cannot read 'parent.yaml' (" +
                                              fifo + "): " + kSpecial);
  std::ofstream(child) << "schema: countysim/1\nextends: /dev/zero\n";
  CHECK_THROWS_WITH(load_scenario(child),
                    child + ":2:10: extends: cannot read '/dev/zero' (/dev/zero): " + kSpecial);
}

TEST_CASE("a scenario file over 16 MiB is refused before it is read", "[robustness]") {
  TempDir dir;
  const std::string big = dir.file("big.yaml");
  { std::ofstream(big) << "schema: countysim/1\n"; }
  std::filesystem::resize_file(big, (16u << 20) + 1);  // sparse: nothing is written
  CHECK_THROWS_WITH(load_scenario(big),
                    big +
                        ": cannot read the scenario file: it has 16777217 bytes, more than the "
                        "16777216 a scenario may have");
}

TEST_CASE("a results file that is not a regular file is refused before HDF5 opens it",
          "[robustness]") {
  TempDir dir;
  const std::string fifo = dir.file("r.h5");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string msg = ": not a regular file; give a results file written by `countysim run`";
  CHECK_THROWS_WITH(ResultsReader(fifo), fifo + msg);
  CHECK_THROWS_WITH(ResultsReader("/dev/zero"), "/dev/zero" + msg);
  try {
    ResultsReader r("/dev/null");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.kind() == InputKind::results);
  }
}

namespace {
const std::string kExample = std::string(COUNTYSIM_TEST_DATA) + "/example.yaml";
}  // namespace

TEST_CASE("counts and sizes beyond 1e7 are refused by the reader", "[robustness]") {
  CHECK_THROWS_WITH(load_scenario(kExample, {"firms.above_scale.base=3000000000"}),
                    "--set:1:24: firms.above_scale.base: 3000000000 is beyond 10000000, the "
                    "largest size countysim accepts (money in 亿元, counts, mu, months); check "
                    "the units");
  CHECK_THROWS_WITH(load_scenario(kExample, {"macro.gdp_base=1e30"}),
                    "--set:1:16: macro.gdp_base: 1e+30 is beyond 10000000, the largest size "
                    "countysim accepts (money in 亿元, counts, mu, months); check the units");
  CHECK_THROWS_WITH(
      load_scenario(kExample, {"clusters.textiles.growth={dist: normal, mean: 0.05, sd: 1e300}"}),
      "--set:1:26: clusters[0].growth: values reach -4.753424308822899e+300, beyond 10000000, "
      "the largest size countysim accepts (money in 亿元, counts, mu, months); check the units");
  CHECK_NOTHROW(load_scenario(kExample, {"firms.above_scale.base=10000000"}));
}

TEST_CASE("percent typos in spreads are warned about", "[robustness]") {
  Scenario s = load_scenario(kExample, {"macro.common_shock.sd=2"});
  REQUIRE(s.warnings.size() == 1);
  CHECK(s.warnings[0].to_string() ==
        "--set:1:23: macro.common_shock.sd: 2 is a yearly shock of 200%; if you meant 2%, write "
        "0.02");
  s = load_scenario(kExample, {"clusters.textiles.growth={dist: normal, mean: 0.05, sd: 4}"});
  REQUIRE(s.warnings.size() == 1);
  CHECK(s.warnings[0].to_string() ==
        "--set:1:26: clusters[0].growth: 39.6% of the draws fall below -1 (a fall of more than "
        "100%) and 40.6% lie above 1 (growth above 100%); a growth rate is a fraction (0.05 for "
        "5%): check the spread");
  CHECK(load_scenario(kExample, {"macro.common_shock.sd=0.5"}).warnings.empty());
  CHECK(load_scenario(kExample).warnings.empty());
}

TEST_CASE("a draw whose output turns negative stops with the draw, year and inputs",
          "[robustness]") {
  const Scenario s = load_scenario(kExample, {"macro.common_shock.sd=2"});
  const Plan plan = compile_plan(s);
  DrawWorkspace ws;
  DrawOutput out;
  out.resize(plan);
  simulate_draw(plan, s.seed, 0, ws, out);  // draw 0 stays positive
  CHECK_THROWS_AS(simulate_draw(plan, s.seed, 1, ws, out), RunError);
  CHECK_THROWS_WITH(simulate_draw(plan, s.seed, 1, ws, out),
                    "draw 1: the output of cluster textiles in 2022 is -57.5632 亿元; incumbent "
                    "output -57.5632 from growth 0.0165034 (clusters.textiles.growth) + "
                    "shock_loading 1 x common shock -1.95548 (macro.common_shock); check the "
                    "spreads of the growth rates and macro.common_shock.sd (fractions: 0.02 for "
                    "2%)");
}
