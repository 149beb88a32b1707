#include "countysim/whatif.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "countysim/engine.hpp"
#include "countysim/errors.hpp"
#include "countysim/h5.hpp"
#include "countysim/plan.hpp"
#include "countysim/results_io.hpp"
#include "countysim/stats.hpp"
#include "countysim/svg.hpp"
#include "countysim/output_file.hpp"
#include "countysim/terminal.hpp"

namespace fs = std::filesystem;

namespace countysim {

namespace {

std::string pad(const std::string& s, int width, bool right = false) {
  const int w = display_width(s);
  if (w >= width) return s;
  return right ? std::string(width - w, ' ') + s : s + std::string(width - w, ' ');
}

// Aligned columns; columns flagged in `right` are right-aligned.
std::string format_rows(const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right) {
  std::vector<int> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c)
      width[c] = std::max(width[c], display_width(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c)
      out += pad(row[c], width[c], c < right.size() && right[c]) + (c + 1 < row.size() ? "  " : "");
    out += "\n";
  }
  return out;
}

double unpaired_se(double p1, double n1, double p2, double n2) {
  return std::sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2);
}

// Mean and standard error of the per-draw differences of two 0/1 columns.
void paired_difference(const std::vector<double>& a, std::size_t a_cols, std::size_t a_col,
                       const std::vector<double>& b, std::size_t b_cols, std::size_t b_col,
                       std::size_t draws, double& diff, double& se) {
  Moments m;
  for (std::size_t d = 0; d < draws; ++d) m.add(b[d * b_cols + b_col] - a[d * a_cols + a_col]);
  diff = m.mean;
  se = draws > 1 ? m.sd() / std::sqrt(static_cast<double>(draws)) : 0.0;
}

// Per-draw "all targets met" as a one-column matrix.
std::vector<double> all_met_column(const std::vector<double>& met, std::size_t cols,
                                   std::size_t draws) {
  std::vector<double> out(draws, 1.0);
  for (std::size_t d = 0; d < draws; ++d)
    for (std::size_t c = 0; c < cols; ++c)
      if (met[d * cols + c] < 0.5) {
        out[d] = 0.0;
        break;
      }
  return out;
}

bool read_last_year_quantiles(const ResultsReader& r, const std::string& metric, double out[3],
                              std::string& units, int& year) {
  const auto have = r.summary_metrics();
  if (std::find(have.begin(), have.end(), metric) == have.end()) return false;
  const MetricSummary s = r.summary(metric);
  if (s.dims.size() != 1 || s.shape.empty() || s.shape[0] == 0) return false;
  const auto& qs = r.coords().quantile;
  const std::size_t nq = qs.size(), y = s.shape[0] - 1;
  const double want[3] = {0.05, 0.50, 0.95};
  for (int k = 0; k < 3; ++k) {
    auto it =
        std::find_if(qs.begin(), qs.end(), [&](double q) { return std::abs(q - want[k]) < 1e-9; });
    if (it == qs.end()) return false;
    out[k] = s.quantiles[y * nq + static_cast<std::size_t>(it - qs.begin())];
  }
  units = s.units;
  year = r.info().last_year;
  return true;
}

std::string fmt_value(double x, bool fraction) {
  return fraction ? fmt::format("{:.2f}%", 100 * x) : fmt::format("{:.2f}", x);
}

std::string signed_value(double x, bool fraction) {
  return fraction ? fmt::format("{:+.2f} pt", 100 * x) : fmt::format("{:+.2f}", x);
}

double parse_number(const std::string& s, const std::string& arg, const char* what) {
  const char* b = s.c_str();
  char* end = nullptr;
  const double v = std::strtod(b, &end);
  if (s.empty() || end == b || *end != '\0' || !std::isfinite(v))
    throw UsageError(fmt::format("{}: '{}' is not a number; {}", arg, s, what));
  return v;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = s.find(sep, start);
    out.push_back(trim(s.substr(start, at == std::string::npos ? std::string::npos : at - start)));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// ---- compare ----------------------------------------------------------------

Comparison compare_results(const std::string& base_path, const std::string& alt_path) {
  const ResultsReader base(base_path), alt(alt_path);
  Comparison c;
  c.base_path = base_path;
  c.alt_path = alt_path;
  c.base_name = base.info().scenario_name;
  c.alt_name = alt.info().scenario_name;
  c.base_seed = base.info().seed;
  c.alt_seed = alt.info().seed;
  c.base_draws = base.info().draws;
  c.alt_draws = alt.info().draws;
  if (c.base_seed != c.alt_seed)
    c.unpaired_reason = fmt::format("the seeds differ ({} and {})", c.base_seed, c.alt_seed);
  else if (c.base_draws != c.alt_draws)
    c.unpaired_reason =
        fmt::format("the draw counts differ ({} and {})", c.base_draws, c.alt_draws);
  c.paired = c.unpaired_reason.empty();

  const TargetTable tb = base.targets(), ta = alt.targets();
  std::vector<std::string> ids_b, ids_a;
  for (const auto& r : tb.rows) ids_b.push_back(r.id);
  for (const auto& r : ta.rows) ids_a.push_back(r.id);
  for (const auto& id : ids_a)
    if (std::find(ids_b.begin(), ids_b.end(), id) == ids_b.end()) c.only_alt.push_back(id);
  for (const auto& id : ids_b)
    if (std::find(ids_a.begin(), ids_a.end(), id) == ids_a.end()) c.only_base.push_back(id);

  std::vector<double> met_b, met_a;
  const std::size_t nb = ids_b.size(), na = ids_a.size(), draws = c.base_draws;
  if (c.paired && nb > 0 && na > 0) {
    met_b = base.read_dataset("draws", "target_met");
    met_a = alt.read_dataset("draws", "target_met");
    if (met_b.size() != draws * nb || met_a.size() != draws * na)
      throw RunError(fmt::format("{} or {}: /draws/target_met does not have draws x targets values",
                                 base_path, alt_path));
  }
  const double n1 = static_cast<double>(c.base_draws), n2 = static_cast<double>(c.alt_draws);
  for (std::size_t i = 0; i < nb; ++i) {
    const auto it = std::find(ids_a.begin(), ids_a.end(), ids_b[i]);
    if (it == ids_a.end()) continue;
    const std::size_t j = static_cast<std::size_t>(it - ids_a.begin());
    CompareRow row;
    row.id = ids_b[i];
    row.label = tb.rows[i].label;
    row.p_base = tb.rows[i].probability;
    row.p_alt = ta.rows[j].probability;
    row.unpaired_std_error = unpaired_se(row.p_base, n1, row.p_alt, n2);
    if (c.paired) {
      paired_difference(met_b, nb, i, met_a, na, j, draws, row.diff, row.std_error);
    } else {
      row.diff = row.p_alt - row.p_base;
      row.std_error = row.unpaired_std_error;
    }
    c.rows.push_back(row);
  }

  c.all_met.id = "all";
  c.all_met.label = "all targets together";
  c.all_met.p_base = tb.all_met_probability;
  c.all_met.p_alt = ta.all_met_probability;
  c.all_met.unpaired_std_error = unpaired_se(c.all_met.p_base, n1, c.all_met.p_alt, n2);
  c.all_met_paired = c.paired && ids_a == ids_b && nb > 0;
  if (c.all_met_paired) {
    const auto ab = all_met_column(met_b, nb, draws), aa = all_met_column(met_a, na, draws);
    paired_difference(ab, 1, 0, aa, 1, 0, draws, c.all_met.diff, c.all_met.std_error);
  } else {
    c.all_met.diff = c.all_met.p_alt - c.all_met.p_base;
    c.all_met.std_error = c.all_met.unpaired_std_error;
  }

  for (const auto& m : headline_metrics()) {
    QuantileShift s;
    s.metric = m;
    std::string units_a;
    if (read_last_year_quantiles(base, m, s.base, s.units, s.year_base) &&
        read_last_year_quantiles(alt, m, s.alt, units_a, s.year_alt))
      c.shifts.push_back(s);
  }
  return c;
}

std::string format_comparison(const Comparison& c) {
  std::string out = fmt::format("base: {} ({})\nalt:  {} ({})\n", c.base_name, c.base_path,
                                c.alt_name, c.alt_path);
  if (c.paired)
    out += fmt::format(
        "Paired draw by draw: both runs share seed {} and {} draws (common random numbers), so "
        "the standard error is that of the per-draw differences.\n",
        c.base_seed, c.base_draws);
  else
    out += fmt::format(
        "Unpaired: {}, so the runs do not share random numbers; the standard error is "
        "sqrt(p1(1-p1)/N1 + p2(1-p2)/N2). Rerun both with the same --seed and --draws to pair "
        "them.\n",
        c.unpaired_reason);
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
      {"target", "label", "base", "alt", "difference", "std.err", c.paired ? "unpaired s.e." : ""});
  auto add = [&](const CompareRow& r, bool paired) {
    rows.push_back({r.id, r.label, fmt::format("{:.3f}", r.p_base), fmt::format("{:.3f}", r.p_alt),
                    fmt::format("{:+.4f}", r.diff), fmt::format("{:.4f}", r.std_error),
                    paired ? fmt::format("{:.4f}", r.unpaired_std_error) : ""});
  };
  for (const auto& r : c.rows) add(r, c.paired);
  add(c.all_met, c.all_met_paired);
  out += "\nTarget probabilities (difference = alt - base)\n";
  out += format_rows(rows, {false, false, true, true, true, true, true});
  if (c.paired && !c.all_met_paired && !c.rows.empty())
    out += "(the 'all' row is unpaired: the files have different targets)\n";
  if (!c.only_base.empty()) {
    out += "only in base:";
    for (const auto& id : c.only_base) out += " " + id;
    out += "\n";
  }
  if (!c.only_alt.empty()) {
    out += "only in alt:";
    for (const auto& id : c.only_alt) out += " " + id;
    out += "\n";
  }
  if (!c.shifts.empty()) {
    const int yb = c.shifts[0].year_base, ya = c.shifts[0].year_alt;
    out += yb == ya
               ? fmt::format("\nHeadline metrics in {}: shift of the quantiles (alt - base)\n", yb)
               : fmt::format(
                     "\nHeadline metrics in the last year ({} base, {} alt): shift of "
                     "the quantiles (alt - base)\n",
                     yb, ya);
    std::vector<std::vector<std::string>> q;
    q.push_back({"metric", "units", "5% base", "5% shift", "50% base", "50% shift", "95% base",
                 "95% shift"});
    for (const auto& s : c.shifts) {
      const bool frac = s.units == "fraction";
      std::vector<std::string> row = {s.metric, frac ? "%" : s.units};
      for (int k = 0; k < 3; ++k) {
        row.push_back(fmt_value(s.base[k], frac));
        row.push_back(signed_value(s.alt[k] - s.base[k], frac));
      }
      q.push_back(row);
    }
    out += format_rows(q, {false, false, true, true, true, true, true, true});
  }
  return out;
}

std::string format_comparison_csv(const Comparison& c) {
  std::string out = "target,label,p_base,p_alt,difference,std_error,unpaired_std_error,paired\n";
  auto add = [&](const CompareRow& r, bool paired) {
    out += fmt::format("{},{},{},{},{},{},{},{}\n", csv_field(r.id), csv_field(r.label), r.p_base,
                       r.p_alt, r.diff, r.std_error, r.unpaired_std_error, paired ? 1 : 0);
  };
  for (const auto& r : c.rows) add(r, c.paired);
  add(c.all_met, c.all_met_paired);
  return out;
}

// ---- levers -----------------------------------------------------------------

SweepAxis parse_vary(const std::string& arg) {
  const std::size_t eq = arg.find('=');
  if (eq == std::string::npos || trim(arg.substr(0, eq)).empty())
    throw UsageError(fmt::format(
        "--vary '{}': expected PATH=v1,v2,... or PATH=LO:HI:STEP, e.g. land.supply_mu=300:900:150",
        arg));
  SweepAxis axis;
  axis.path = trim(arg.substr(0, eq));
  const std::string rhs = trim(arg.substr(eq + 1));
  if (rhs.find(':') != std::string::npos) {
    const auto parts = split(rhs, ':');
    if (parts.size() != 3)
      throw UsageError(fmt::format("--vary '{}': a range is LO:HI:STEP, e.g. 0.1:0.3:0.05", arg));
    const char* hint = "LO, HI and STEP are numbers";
    const double lo = parse_number(parts[0], "--vary " + arg, hint);
    const double hi = parse_number(parts[1], "--vary " + arg, hint);
    const double step = parse_number(parts[2], "--vary " + arg, hint);
    if (!(step > 0) || hi < lo)
      throw UsageError(fmt::format("--vary '{}': need LO <= HI and STEP > 0", arg));
    const double n = std::floor((hi - lo) / step + 1e-9) + 1;
    if (n > 10000)
      throw UsageError(fmt::format("--vary '{}': {} values; use a larger STEP", arg, n));
    for (int i = 0; i < static_cast<int>(n); ++i)
      // Rounded to 12 digits so that 0.1 + 2 * 0.05 is written 0.2, not 0.20000000000000004.
      axis.values.push_back(std::strtod(fmt::format("{:.12g}", lo + i * step).c_str(), nullptr));
  } else {
    for (const auto& v : split(rhs, ','))
      axis.values.push_back(parse_number(v, "--vary " + arg, "values are numbers, e.g. 0.1,0.2"));
  }
  return axis;
}

std::pair<double, double> parse_range(const std::string& arg) {
  const auto parts = split(arg, ':');
  if (parts.size() != 2)
    throw UsageError(fmt::format("--range '{}': expected LO:HI, e.g. 0.1:0.4", arg));
  const double lo = parse_number(parts[0], "--range " + arg, "LO and HI are numbers");
  const double hi = parse_number(parts[1], "--range " + arg, "LO and HI are numbers");
  if (!(lo < hi)) throw UsageError(fmt::format("--range '{}': LO must be below HI", arg));
  return {lo, hi};
}

std::string lever_override(const std::string& path, double value) {
  return fmt::format("{}={}", path, value);
}

LeverModel::LeverModel(const std::string& path, const WhatIfOptions& options)
    : base_(load_scenario(path, options.overrides)),
      draws_(options.draws ? options.draws : base_.draws),
      seed_(options.seed_given ? options.seed : base_.seed),
      threads_(options.threads) {
  if (draws_ == 0) throw UsageError("--draws must be at least 1");
}

LeverModel::Counts LeverModel::evaluate(
    const std::vector<std::pair<std::string, double>>& levers) const {
  std::vector<std::string> ovs;
  for (const auto& [p, v] : levers) ovs.push_back(lever_override(p, v));
  // The merged text already holds the parents and the --set overrides.
  const Scenario sc = load_scenario_text(base_.merged_yaml, base_.path, ovs);
  const Plan plan = compile_plan(sc);
  const TargetCounts tc = count_targets(plan, seed_, draws_, threads_);
  // count_targets stops early on SIGINT; its counts are then partial.
  if (interrupt_flag()) throw Interrupted();
  return {tc.met, tc.all_met};
}

// ---- sweep ------------------------------------------------------------------

std::size_t SweepResult::points() const {
  std::size_t n = 1;
  for (const auto& a : axes) n *= a.values.size();
  return n;
}

SweepResult run_sweep(const std::string& scenario_path, const std::vector<SweepAxis>& axes,
                      const WhatIfOptions& options) {
  if (axes.empty()) throw UsageError("sweep needs at least one --vary PATH=VALUES");
  if (axes.size() > 2)
    throw UsageError("sweep varies at most two paths (--vary given 3 or more times)");
  for (std::size_t i = 0; i < axes.size(); ++i) {
    if (axes[i].values.empty()) throw UsageError(fmt::format("--vary {}: no values", axes[i].path));
    for (std::size_t j = 0; j < i; ++j)
      if (axes[i].path == axes[j].path)
        throw UsageError(fmt::format("--vary {} is given twice", axes[i].path));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const LeverModel model(scenario_path, options);
  SweepResult r;
  r.scenario_path = scenario_path;
  r.scenario_name = model.base().name;
  r.scenario_yaml = model.base().merged_yaml;
  r.seed = model.seed();
  r.draws = model.draws();
  r.axes = axes;
  for (const auto& t : model.base().targets) {
    r.target_ids.push_back(t.id);
    r.target_labels.push_back(t.label);
  }
  const std::size_t np = r.points(), nt = r.target_ids.size();
  r.probability.resize(np * nt);
  r.std_error.resize(np * nt);
  r.all_met.resize(np);
  r.all_met_std_error.resize(np);
  for (std::size_t p = 0; p < np; ++p) {
    std::vector<std::pair<std::string, double>> levers;
    std::size_t rest = p;
    for (std::size_t a = axes.size(); a-- > 0;) {
      const std::size_t n = axes[a].values.size();
      levers.insert(levers.begin(), {axes[a].path, axes[a].values[rest % n]});
      rest /= n;
    }
    const auto counts = model.evaluate(levers);
    if (counts.met.size() != nt)
      throw RunError(fmt::format("sweep point {}: the scenario's targets changed", p));
    for (std::size_t k = 0; k < nt; ++k) {
      const Proportion pr = proportion(counts.met[k], r.draws);
      r.probability[p * nt + k] = pr.p;
      r.std_error[p * nt + k] = pr.std_error;
    }
    const Proportion all = proportion(counts.all_met, r.draws);
    r.all_met[p] = all.p;
    r.all_met_std_error[p] = all.std_error;
  }
  r.seconds = seconds_since(t0);
  return r;
}

void write_sweep(const SweepResult& r, const std::string& path, bool force,
                 const std::string& command_line) {
  prepare_output(path, force);
  TempFile tmp(path);
  {
    h5::quiet();
    h5::Handle file = h5::create_file(tmp.path());
    h5::write_attribute(file, "schema", "countysim-sweep/1");
    h5::write_attribute(file, "scenario_name", r.scenario_name);
    h5::write_attribute(file, "scenario_file", r.scenario_path);
    h5::write_attribute(file, "scenario_yaml", r.scenario_yaml);
    h5::write_attribute(file, "command_line", command_line);
    h5::write_attribute(file, "seed", r.seed);
    h5::write_attribute(file, "draws", r.draws);
    h5::write_attribute(file, "common_random_numbers", "every grid point uses the same seed");

    std::vector<h5::Handle> scales;
    std::vector<std::size_t> shape;
    for (std::size_t a = 0; a < r.axes.size(); ++a) {
      h5::Handle s = h5::make_dimension_scale(file, fmt::format("vary_{}", a), r.axes[a].values);
      h5::write_attribute(s, "path", r.axes[a].path);
      h5::write_attribute(s, "long_name", r.axes[a].path);
      scales.push_back(std::move(s));
      shape.push_back(r.axes[a].values.size());
    }
    h5::Handle target = h5::make_dimension_scale(file, "target", r.target_ids);
    h5::Handle label = h5::write_dataset(file, "target_label", r.target_labels);
    h5::attach_scales(label, {target.get()});

    std::vector<hid_t> grid_ids;
    for (const auto& s : scales) grid_ids.push_back(s.get());
    std::vector<hid_t> full_ids = grid_ids;
    full_ids.push_back(target.get());
    std::vector<std::size_t> full_shape = shape;
    full_shape.push_back(r.target_ids.size());

    auto put = [&](const std::string& name, const std::vector<double>& data,
                   const std::vector<std::size_t>& shp, const std::vector<hid_t>& ids,
                   const std::string& long_name) {
      h5::Handle d = h5::write_dataset(file, name, data, shp);
      h5::write_attribute(d, "units", "1");
      h5::write_attribute(d, "long_name", long_name);
      h5::attach_scales(d, ids);
    };
    put("probability", r.probability, full_shape, full_ids,
        "probability that the target is met at the grid point");
    put("std_error", r.std_error, full_shape, full_ids, "binomial standard error of probability");
    put("all_met_probability", r.all_met, shape, grid_ids,
        "probability that all targets are met together");
    put("all_met_std_error", r.all_met_std_error, shape, grid_ids,
        "binomial standard error of all_met_probability");
    label.reset();
    target.reset();
    scales.clear();
    file.close(tmp.path());
  }
  tmp.publish(force);
}

std::string format_sweep(const SweepResult& r) {
  std::string out = fmt::format(
      "Sweep of {} ({} points, {} draws each, seed {}, common random numbers across points)\n",
      r.scenario_name, r.points(), r.draws, r.seed);
  for (std::size_t a = 0; a < r.axes.size(); ++a)
    out += fmt::format("  vary_{}: {}\n", a, r.axes[a].path);
  out += "Probability that each target is met\n";
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head;
  std::vector<bool> right;
  for (const auto& a : r.axes) {
    head.push_back(a.path);
    right.push_back(true);
  }
  for (const auto& id : r.target_ids) {
    head.push_back(id);
    right.push_back(true);
  }
  head.push_back("all");
  right.push_back(true);
  rows.push_back(head);
  const std::size_t nt = r.target_ids.size();
  for (std::size_t p = 0; p < r.points(); ++p) {
    std::vector<std::string> row;
    std::size_t rest = p;
    std::vector<std::string> lv;
    for (std::size_t a = r.axes.size(); a-- > 0;) {
      const std::size_t n = r.axes[a].values.size();
      lv.insert(lv.begin(), fmt::format("{:g}", r.axes[a].values[rest % n]));
      rest /= n;
    }
    row = lv;
    for (std::size_t k = 0; k < nt; ++k)
      row.push_back(fmt::format("{:.3f}", r.probability[p * nt + k]));
    row.push_back(fmt::format("{:.3f}", r.all_met[p]));
    rows.push_back(row);
  }
  out += format_rows(rows, right);
  double max_se = 0;
  for (double s : r.std_error) max_se = std::max(max_se, s);
  out += fmt::format("(standard error of each probability at most {:.4f}; {:.1f} s)\n", max_se,
                     r.seconds);
  return out;
}

// ---- sweep files and charts ---------------------------------------------------

bool is_sweep_file(const std::string& path) {
  h5::quiet();
  if (H5Fis_hdf5(path.c_str()) <= 0) return false;
  try {
    h5::Handle f = h5::open_file(path);
    return h5::has_attribute(f, "schema") &&
           h5::read_attribute_string(f, "schema") == "countysim-sweep/1";
  } catch (const RunError&) {
    return false;
  }
}

SweepResult read_sweep(const std::string& path) {
  if (!is_sweep_file(path))
    throw InputError({Diagnostic{
        path,
        {},
        "not a countysim sweep file (schema countysim-sweep/1); write one with countysim sweep"}},
        InputKind::sweep);
  h5::Handle f = h5::open_file(path);
  SweepResult r;
  r.scenario_path = h5::read_attribute_string(f, "scenario_file");
  r.scenario_name = h5::read_attribute_string(f, "scenario_name");
  r.scenario_yaml = h5::read_attribute_string(f, "scenario_yaml");
  r.seed = h5::read_attribute<std::uint64_t>(f, "seed");
  r.draws = h5::read_attribute<std::uint64_t>(f, "draws");
  for (int a = 0; a < 2; ++a) {
    const std::string name = fmt::format("vary_{}", a);
    if (!h5::exists(f, name)) break;
    h5::Handle d = h5::open_dataset(f, name);
    r.axes.push_back({h5::read_attribute_string(d, "path"), h5::read_dataset<double>(f, name)});
  }
  r.target_ids = h5::read_dataset<std::string>(f, "target");
  r.target_labels = h5::read_dataset<std::string>(f, "target_label");
  r.probability = h5::read_dataset<double>(f, "probability");
  r.std_error = h5::read_dataset<double>(f, "std_error");
  r.all_met = h5::read_dataset<double>(f, "all_met_probability");
  r.all_met_std_error = h5::read_dataset<double>(f, "all_met_std_error");
  if (r.axes.empty() || r.probability.size() != r.points() * r.target_ids.size() ||
      r.all_met.size() != r.points())
    throw InputError({Diagnostic{path, {}, "sweep file with inconsistent dataset shapes"}},
                     InputKind::sweep);
  return r;
}

namespace {

const char* const kLineColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// White (0) to dark blue (1).
std::string heat_colour(double p) {
  p = std::clamp(p, 0.0, 1.0);
  const int r = static_cast<int>(std::lround(247 + (8 - 247) * p));
  const int g = static_cast<int>(std::lround(251 + (48 - 251) * p));
  const int b = static_cast<int>(std::lround(255 + (107 - 255) * p));
  return fmt::format("#{:02x}{:02x}{:02x}", r, g, b);
}

}  // namespace

std::string sweep_line_chart(const SweepResult& r, bool zh) {
  const SweepAxis& ax = r.axes.at(0);
  const std::size_t nt = r.target_ids.size();
  double x_lo = *std::min_element(ax.values.begin(), ax.values.end());
  double x_hi = *std::max_element(ax.values.begin(), ax.values.end());
  if (x_lo == x_hi) {
    x_lo -= 1;
    x_hi += 1;
  }
  const svg::Ticks xt = svg::nice_ticks(x_lo, x_hi);
  svg::Document doc(800, 450 + 18.0 * ((nt + 2) / 3));
  doc.title(zh ? "达标概率随 " + ax.path + " 的变化" : "Target probabilities against " + ax.path);
  const svg::Frame fr(70, 50, 690, 320, x_lo, x_hi, 0, 1);
  doc.text(70, 28, zh ? "各目标达成概率 × " + ax.path : "Probability of each target by " + ax.path,
           {16, svg::Anchor::start, "#222", true});
  fr.y_axis(doc, {0, 0.2, 0.4, 0.6, 0.8, 1.0},
            [](double v) { return fmt::format("{:.0f}%", 100 * v); });
  std::vector<double> xs;
  for (double v : xt.values)
    if (v >= x_lo - 1e-9 * (x_hi - x_lo) && v <= x_hi + 1e-9 * (x_hi - x_lo)) xs.push_back(v);
  fr.x_axis(
      doc, xs, [&](double v) { return svg::fixed(v, xt.decimals); }, true);
  doc.text((fr.left() + fr.right()) / 2, fr.bottom() + 38, ax.path,
           {13, svg::Anchor::middle, "#444"});
  std::vector<std::size_t> order(ax.values.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return ax.values[a] < ax.values[b]; });
  for (std::size_t k = 0; k < nt; ++k) {
    const char* colour = kLineColours[k % 10];
    std::vector<svg::Point> pts;
    for (std::size_t i : order)
      pts.emplace_back(fr.px(ax.values[i]), fr.py(r.probability[i * nt + k]));
    doc.polyline(pts, {"none", colour, 2, 1, k >= 10 ? "6 4" : ""});
    for (const auto& p : pts) doc.circle(p.first, p.second, 3, {colour, "none", 1, 1, ""});
    const double lx = 70 + 240.0 * (k % 3), ly = fr.bottom() + 62 + 18.0 * (k / 3);
    doc.line(lx, ly - 4, lx + 18, ly - 4, {"none", colour, 2, 1, ""});
    doc.text(lx + 24, ly, r.target_ids[k], {12, svg::Anchor::start, "#222"});
  }
  fr.border(doc);
  return doc.str();
}

std::string sweep_heat_map(const SweepResult& r, std::size_t target, bool zh) {
  const SweepAxis &a0 = r.axes.at(0), &a1 = r.axes.at(1);
  const std::size_t n0 = a0.values.size(), n1 = a1.values.size(), nt = r.target_ids.size();
  const double left = 120, top = 60, width = 600, height = 320;
  const double cw = width / static_cast<double>(n1), ch = height / static_cast<double>(n0);
  svg::Document doc(800, 450);
  const std::string& label = r.target_labels.at(target);
  doc.title(r.target_ids.at(target) + " " + label);
  doc.text(left, 28, (zh ? "达标概率: " : "Probability: ") + r.target_ids[target] + "  " + label,
           {15, svg::Anchor::start, "#222", true});
  for (std::size_t i = 0; i < n0; ++i)
    for (std::size_t j = 0; j < n1; ++j) {
      const double p = r.probability[(i * n1 + j) * nt + target];
      // vary_0 runs down the rows, first value at the top.
      const double x = left + cw * j, y = top + ch * i;
      doc.rect(x, y, cw, ch, {heat_colour(p), "#ffffff", 1, 1, ""});
      doc.text(x + cw / 2, y + ch / 2 + 5, fmt::format("{:.0f}%", 100 * p),
               {12, svg::Anchor::middle, p > 0.55 ? "#ffffff" : "#222"});
    }
  for (std::size_t j = 0; j < n1; ++j)
    doc.text(left + cw * (j + 0.5), top + height + 18, fmt::format("{:g}", a1.values[j]),
             {12, svg::Anchor::middle, "#444"});
  for (std::size_t i = 0; i < n0; ++i)
    doc.text(left - 8, top + ch * (i + 0.5) + 4, fmt::format("{:g}", a0.values[i]),
             {12, svg::Anchor::end, "#444"});
  doc.text(left + width / 2, top + height + 42, a1.path, {13, svg::Anchor::middle, "#444"});
  svg::TextStyle vertical{13, svg::Anchor::middle, "#444"};
  vertical.rotate = -90;
  doc.text(24, top + height / 2, a0.path, vertical);
  return doc.str();
}

std::vector<std::string> write_sweep_report(const std::string& path, const std::string& out_dir,
                                            const std::string& lang) {
  const SweepResult r = read_sweep(path);
  const bool zh = lang != "en";
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw RunError(fmt::format("cannot create the folder {}: {}", out_dir, ec.message()));
  std::vector<std::string> files;
  std::string figures;
  auto save = [&](const std::string& name, const std::string& text, const std::string& caption) {
    const std::string full = (fs::path(out_dir) / name).string();
    std::ofstream out(full, std::ios::binary);
    out << text;
    if (!out) throw RunError(fmt::format("cannot write {}", full));
    files.push_back(name);
    figures +=
        fmt::format("<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
                    name, svg::escape(caption), svg::escape(caption));
  };
  if (r.axes.size() == 1) {
    save("sweep-lines.svg", sweep_line_chart(r, zh), r.axes[0].path);
  } else {
    for (std::size_t k = 0; k < r.target_ids.size(); ++k)
      save(fmt::format("sweep-heat-{}.svg", r.target_ids[k]), sweep_heat_map(r, k, zh),
           r.target_ids[k] + " " + r.target_labels[k]);
  }
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n"
      "<body style=\"font-family:{};max-width:860px;margin:2em auto\">\n<h1>{}</h1>\n<p>{}</p>\n{}"
      "</body></html>\n",
      zh ? "zh" : "en", svg::escape(r.scenario_name), svg::escape(svg::font_family),
      svg::escape(r.scenario_name),
      svg::escape(fmt::format(zh ? "参数扫描: 每个网格点 {} 次抽样, 种子 {} (各点共用随机数)"
                                 : "Sweep: {} draws per grid point, seed {} (common random "
                                   "numbers across points)",
                              r.draws, r.seed)),
      figures);
  {
    const std::string full = (fs::path(out_dir) / "index.html").string();
    std::ofstream out(full, std::ios::binary);
    out << html;
    if (!out) throw RunError(fmt::format("cannot write {}", full));
    files.push_back("index.html");
  }
  return files;
}

// ---- solve ------------------------------------------------------------------

SolveResult solve_lever(const std::string& scenario_path, const SolveOptions& so,
                        const WhatIfOptions& options) {
  if (!(so.probability > 0 && so.probability < 1))
    throw UsageError(fmt::format("--probability {}: give a probability strictly between 0 and 1",
                                 so.probability));
  if (!(so.lo < so.hi)) throw UsageError("--range: LO must be below HI");
  const LeverModel model(scenario_path, options);
  const auto& targets = model.base().targets;
  std::size_t k = targets.size();
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    ids.push_back(targets[i].id);
    if (targets[i].id == so.target) k = i;
  }
  if (k == targets.size()) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    throw UsageError(fmt::format("--target {}: the scenario has no such target; its targets are {}",
                                 so.target, list));
  }

  SolveResult r;
  r.target = so.target;
  r.path = so.path;
  r.goal = so.probability;
  r.lo = so.lo;
  r.hi = so.hi;
  r.draws = model.draws();
  r.seed = model.seed();
  const double n = static_cast<double>(r.draws);
  r.std_error = std::sqrt(r.goal * (1 - r.goal) / n);

  std::map<double, double> seen;  // lever value -> probability
  auto f = [&](double x) {
    auto it = seen.find(x);
    if (it != seen.end()) return it->second;
    const auto c = model.evaluate({{so.path, x}});
    const double p = static_cast<double>(c.met[k]) / n;
    seen[x] = p;
    return p;
  };
  r.p_lo = f(so.lo);
  r.p_hi = f(so.hi);
  r.increasing = r.p_hi >= r.p_lo;
  const bool reach_lo = r.p_lo >= r.goal, reach_hi = r.p_hi >= r.goal;

  // The lever value where the (assumed monotone) probability crosses g,
  // starting from the tightest bracket the evaluations so far give.
  const double tol = (so.hi - so.lo) * 1e-6;
  auto crossing = [&](double g, bool& clipped) {
    // meets(x): x lies on the side of the crossing where P >= g.
    auto meets = [&](double p) { return p >= g; };
    double a = so.lo, b = so.hi;  // increasing: meets(b), !meets(a); decreasing: the reverse
    const bool ma = meets(f(a)), mb = meets(f(b));
    clipped = false;
    if (ma == mb) {
      clipped = true;
      // Every value meets g (the crossing is beyond the far end) or none does.
      if (r.increasing) return ma ? so.lo : so.hi;
      return ma ? so.hi : so.lo;
    }
    // The first evaluated value on the far side, then the last one before it on the near side.
    for (const auto& [x, p] : seen)
      if (meets(p) == mb) {
        b = x;
        break;
      }
    for (const auto& [x, p] : seen)
      if (x < b && meets(p) == ma) a = x;
    for (int s = 0; s < so.steps && b - a > tol; ++s) {
      const double m = 0.5 * (a + b);
      (meets(f(m)) == ma ? a : b) = m;
    }
    // The bracket's end on the side where P >= g: a value shown to reach it.
    return meets(f(a)) ? a : b;
  };

  if (!reach_lo && !reach_hi) {
    r.outcome = SolveResult::Outcome::none;
  } else if (reach_lo && reach_hi) {
    r.outcome = SolveResult::Outcome::all;
  } else {
    r.outcome = SolveResult::Outcome::found;
    bool clipped = false;  // cannot be: the ends bracket the goal
    r.value = crossing(r.goal, clipped);
    bool c1 = false, c2 = false;
    const double x_minus = crossing(std::max(0.0, r.goal - 2 * r.std_error), c1);
    const double x_plus = crossing(std::min(1.0, r.goal + 2 * r.std_error), c2);
    r.interval_lo = std::min(x_minus, x_plus);
    r.interval_hi = std::max(x_minus, x_plus);
    r.lo_clipped = (c1 || c2) && r.interval_lo <= so.lo;
    r.hi_clipped = (c1 || c2) && r.interval_hi >= so.hi;
  }
  for (const auto& [x, p] : seen) r.evaluations.emplace_back(x, p);
  // With common random numbers a monotone response wobbles far less than one
  // standard error between points; flag reversals beyond 4 worst-case ones.
  const double slack = 4 * std::sqrt(0.25 / n);
  bool reversal = false;
  for (std::size_t i = 1; i < r.evaluations.size(); ++i) {
    const double dp = r.evaluations[i].second - r.evaluations[i - 1].second;
    if ((r.increasing && dp < -slack) || (!r.increasing && dp > slack)) reversal = true;
  }
  if (reversal)
    r.warnings.push_back(
        "the probability does not move in one direction across the range; bisection assumes it "
        "does, so the answer may be one of several crossings: try a narrower --range");
  if (r.p_lo == r.p_hi && r.outcome != SolveResult::Outcome::found)
    r.warnings.push_back(fmt::format(
        "the probability is the same ({:.4f}) at both ends of the range: does {} affect target {}?",
        r.p_lo, so.path, so.target));
  return r;
}

std::string format_solve(const SolveResult& r) {
  std::string out = fmt::format(
      "Solve: {} for P({}) >= {:g} over [{:g}, {:g}] ({} draws a point, seed {}, common random "
      "numbers across points)\n",
      r.path, r.target, r.goal, r.lo, r.hi, r.draws, r.seed);
  out += fmt::format("at {:g}: P = {:.4f}; at {:g}: P = {:.4f}\n", r.lo, r.p_lo, r.hi, r.p_hi);
  switch (r.outcome) {
    case SolveResult::Outcome::none:
      out += fmt::format(
          "no value in [{:g}, {:g}] reaches P >= {:g}; at {:g}: {:.4f}, at {:g}: {:.4f}\n", r.lo,
          r.hi, r.goal, r.lo, r.p_lo, r.hi, r.p_hi);
      break;
    case SolveResult::Outcome::all:
      out += fmt::format(
          "every value in [{:g}, {:g}] already reaches P >= {:g} (at {:g}: {:.4f}, at {:g}: "
          "{:.4f}); widen the range to find where it stops\n",
          r.lo, r.hi, r.goal, r.lo, r.p_lo, r.hi, r.p_hi);
      break;
    case SolveResult::Outcome::found: {
      const std::string side = r.increasing ? "at least" : "at most";
      out += fmt::format("{} = {:.6g}: P({}) reaches {:g} with {} {} {:.6g}\n", r.path, r.value,
                         r.target, r.goal, r.path, side, r.value);
      out += fmt::format(
          "Monte-Carlo interval: [{}{:.6g}, {:.6g}{}] (lever values where the estimated "
          "probability is within 2 standard errors, ±{:.4f}, of {:g})\n",
          r.lo_clipped ? "<= " : "", r.interval_lo, r.interval_hi, r.hi_clipped ? " or more" : "",
          2 * r.std_error, r.goal);
      break;
    }
  }
  for (const auto& w : r.warnings) out += "warning: " + w + "\n";
  return out;
}

}  // namespace countysim
