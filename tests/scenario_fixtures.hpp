// Helpers shared by the scenario reader tests: a small valid scenario to
// edit, and positions computed from the text itself, so that a test states
// "the error points at this token" rather than a hand-counted line. Also the
// repository's scenario files, which the model tests run one by one.
#pragma once
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "countysim/scenario.hpp"

namespace countysim::testing {

// Paths from the source root.
inline const std::vector<const char*> kRepositoryScenarios = {
    "scenarios/taojiang-2022.yaml",
    "scenarios/taojiang-2024-update.yaml",
    "scenarios/what-if/chemical-park-rejected.yaml",
    "scenarios/what-if/downturn.yaml",
    "scenarios/what-if/guochen-late.yaml",
    "scenarios/what-if/land-cut-30.yaml",
    "scenarios/what-if/loan-share-up.yaml",
    "tests/data/example.yaml",
    "tests/data/explain/projects.yaml",
    "tests/data/explain/linear.yaml"};

inline const std::string kBase = R"(schema: countysim/1
name: 测试县 test
horizon: {base_year: 2021, last_year: 2024}
simulation: {draws: 1000, seed: 7}
macro:
  gdp_base: 200
  rest_growth: {dist: normal, mean: 0.06, sd: 0.015}
  common_shock: {sd: 0.02, persistence: 0.5}
  digital_share_of_rest: 0.03
finance:
  new_loans: {dist: normal, mean: 15, sd: 2, min: 5}
  manufacturing_loan_share: 0.2
  reference_share: 0.2
  project_credit_fraction: 0.3
land:
  initial_stock_mu: 100
  supply_mu: 200
clusters:
  - id: textiles
    name: 纺织服装
    group: main
    base_output: 60
    growth: {dist: normal, mean: 0.05, sd: 0.04}
    value_added_ratio: {dist: uniform, min: 0.22, max: 0.28}
    tax_rate: 0.01
    output_per_worker: 80
    productivity_growth: 0.04
  - id: solar
    name: 光伏
    group: main
    manufacturing: false
    base_output: 8
    growth: 0.04
    value_added_ratio: 0.5
    tax_rate: 0.02
    output_per_worker: 400
    productivity_growth: 0.02
projects:
  - id: dyeing
    name: 印染园
    cluster: textiles
    planned_start: 2022-04
    construction_months: 12
    ramp_months: 6
    capacity_output: 10
    land_mu: 150
    investment: 5
targets:
  - {id: output-100, label: 过百亿, metric: industrial_output, at_least: 100}
)";

// kBase as schema countysim/2 (v2): two price indices (ppi with fixed
// changes, cpi random), textiles priced by ppi (solar keeps price 1), a
// deflator for the rest of the economy, and two observations.
inline std::string make_base_v2() {
  std::string t = kBase;
  auto put = [&t](const std::string& from, const std::string& to) {
    t.replace(t.find(from), from.size(), to);
  };
  put("schema: countysim/1", "schema: countysim/2");
  put("  digital_share_of_rest: 0.03\n",
      "  digital_share_of_rest: 0.03\n  rest_price_change: 0.02\n");
  put("    productivity_growth: 0.04\n", "    productivity_growth: 0.04\n    price_index: ppi\n");
  put("clusters:\n",
      "prices:\n"
      "  - id: ppi\n"
      "    name: 工业生产者出厂价格\n"
      "    change: {2022: 0.041, 2023: -0.03, 2024: 0}\n"
      "  - id: cpi\n"
      "    name: 居民消费价格\n"
      "    change: {dist: normal, mean: 0.02, sd: 0.01, min: -0.1}\n"
      "clusters:\n");
  t += "observed:\n"
       "  - {id: gdp-2022, metric: gdp, year: 2022, value: 215, rel_sd: 0.01, source: 统计公报}\n"
       "  - {id: textiles-2022, metric: cluster_output, cluster: textiles, year: 2022, value: 63, "
       "sd: 2}\n";
  return t;
}
inline const std::string kBaseV2 = make_base_v2();

// `text` with the one occurrence of `from` replaced by `to`.
inline std::string edit(std::string text, const std::string& from, const std::string& to) {
  std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(from, at + 1) == std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

// "file:line:column" of occurrence number `skip` (0 = first) of `token`;
// columns count characters, as the reader's messages do.
inline std::string at(const std::string& text, const std::string& token, int skip = 0,
                      const std::string& file = "t.yaml") {
  std::size_t pos = text.find(token);
  for (int i = 0; i < skip && pos != std::string::npos; ++i) pos = text.find(token, pos + 1);
  REQUIRE(pos != std::string::npos);
  int line = 1, col = 1;
  for (std::size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

// Position of `token` inside the one occurrence of `context`.
inline std::string at(const std::string& text, const std::string& context, const std::string& token,
                      const std::string& file = "t.yaml") {
  std::size_t c = text.find(context);
  REQUIRE(c != std::string::npos);
  REQUIRE(text.find(context, c + 1) == std::string::npos);
  std::size_t t = context.find(token);
  REQUIRE(t != std::string::npos);
  std::string head = text.substr(0, c + t);
  int line = 1 + static_cast<int>(std::count(head.begin(), head.end(), '\n'));
  std::size_t bol = head.rfind('\n');
  std::string last = head.substr(bol == std::string::npos ? 0 : bol + 1);
  int col = 1;
  for (char ch : last)
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++col;
  return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

inline std::string where(const Diagnostic& d) {
  return d.file + ":" + std::to_string(d.pos.line) + ":" + std::to_string(d.pos.column);
}

inline std::string listing(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += d.to_string() + "\n";
  return out;
}

// The diagnostics of a scenario that must fail to load.
inline std::vector<Diagnostic> errors(const std::string& text,
                                      const std::vector<std::string>& overrides = {},
                                      const std::string& path = "t.yaml") {
  try {
    load_scenario_text(text, path, overrides);
  } catch (const InputError& e) {
    REQUIRE(!e.diagnostics().empty());
    return e.diagnostics();
  }
  FAIL("the scenario loaded, but an error was expected");
  return {};
}

inline std::vector<Diagnostic> file_errors(const std::string& path,
                                           const std::vector<std::string>& overrides = {}) {
  try {
    load_scenario(path, overrides);
  } catch (const InputError& e) {
    REQUIRE(!e.diagnostics().empty());
    return e.diagnostics();
  }
  FAIL("the scenario loaded, but an error was expected");
  return {};
}

// The message of the diagnostic at `pos` ("file:line:column").
inline std::string message_at(const std::vector<Diagnostic>& ds, const std::string& pos) {
  for (const auto& d : ds)
    if (where(d) == pos) return d.message;
  INFO("diagnostics:\n" << listing(ds));
  FAIL("no diagnostic at " << pos);
  return {};
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace countysim::testing
