#include "countysim/compare.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "countysim/conditioning.hpp"
#include "countysim/csv.hpp"
#include "countysim/errors.hpp"
#include "countysim/metrics.hpp"
#include "countysim/results_io.hpp"
#include "countysim/stats.hpp"
#include "countysim/text_columns.hpp"

namespace countysim {

namespace {

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

// A run's weights: normalised from /draws/log_weight when conditioned, else 1.
std::vector<double> run_weights(const ResultsReader& r, bool conditioned, std::size_t draws) {
  if (!conditioned) return std::vector<double>(draws, 1.0);
  std::vector<double> w = normalised_weights(r.read_dataset("draws", "log_weight"));
  if (w.size() != draws)
    throw RunError(fmt::format("{}: /draws/log_weight does not have one value per draw", r.path()));
  return w;
}

// Influence of each draw on a self-normalised probability, u_d = w_d (1_d - p) / Σ w,
// of column `col` of a [draw, cols] 0/1 matrix; p is returned too.
std::vector<double> influence(const std::vector<double>& met, std::size_t cols, std::size_t col,
                              const std::vector<double>& w, double& p) {
  const std::size_t draws = w.size();
  double sw = 0, swm = 0;
  for (std::size_t d = 0; d < draws; ++d) {
    sw += w[d];
    swm += w[d] * met[d * cols + col];
  }
  p = swm / sw;
  std::vector<double> u(draws);
  for (std::size_t d = 0; d < draws; ++d) u[d] = w[d] * (met[d * cols + col] - p) / sw;
  return u;
}

// Paired difference of two self-normalised probabilities and its delta-method SE.
void weighted_paired_difference(const std::vector<double>& a, std::size_t a_cols, std::size_t a_col,
                                const std::vector<double>& wa, const std::vector<double>& b,
                                std::size_t b_cols, std::size_t b_col,
                                const std::vector<double>& wb, double& diff, double& se) {
  double pa = 0, pb = 0;
  const auto ua = influence(a, a_cols, a_col, wa, pa), ub = influence(b, b_cols, b_col, wb, pb);
  double ss = 0;
  for (std::size_t d = 0; d < ua.size(); ++d) ss += (ub[d] - ua[d]) * (ub[d] - ua[d]);
  diff = pb - pa;
  se = std::sqrt(ss);
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
    // A file without this quantile has no shift to show for the metric.
    const auto q = find_quantile(qs, want[k]);
    if (!q) return false;
    out[k] = s.quantiles[y * nq + *q];
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
}  // namespace

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
  c.base_conditioned = tb.conditioned;
  c.alt_conditioned = ta.conditioned;
  c.base_ess = tb.effective_sample_size;
  c.alt_ess = ta.effective_sample_size;
  const bool weighted = c.conditioned();
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
  std::vector<double> w_b, w_a;
  if (weighted && c.paired) {
    w_b = run_weights(base, tb.conditioned, draws);
    w_a = run_weights(alt, ta.conditioned, draws);
  }
  const double n1 = static_cast<double>(c.base_draws), n2 = static_cast<double>(c.alt_draws);
  // Conditioned: the runs' own (self-normalised) standard errors, unpaired.
  auto unpaired = [&](double p1, double se1, double p2, double se2) {
    return weighted ? std::sqrt(se1 * se1 + se2 * se2) : unpaired_se(p1, n1, p2, n2);
  };
  auto prior = [](const TargetTable& t, double p, double prior_p) {
    return t.conditioned ? prior_p : p;
  };
  for (std::size_t i = 0; i < nb; ++i) {
    const auto it = std::find(ids_a.begin(), ids_a.end(), ids_b[i]);
    if (it == ids_a.end()) continue;
    const std::size_t j = static_cast<std::size_t>(it - ids_a.begin());
    CompareRow row;
    row.id = ids_b[i];
    row.label = tb.rows[i].label;
    row.p_base = tb.rows[i].probability;
    row.p_alt = ta.rows[j].probability;
    row.unpaired_std_error =
        unpaired(row.p_base, tb.rows[i].std_error, row.p_alt, ta.rows[j].std_error);
    row.prior_base = prior(tb, row.p_base, tb.rows[i].prior_probability);
    row.prior_alt = prior(ta, row.p_alt, ta.rows[j].prior_probability);
    if (c.paired && weighted) {
      weighted_paired_difference(met_b, nb, i, w_b, met_a, na, j, w_a, row.diff, row.std_error);
    } else if (c.paired) {
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
  c.all_met.unpaired_std_error =
      unpaired(c.all_met.p_base, tb.all_met_std_error, c.all_met.p_alt, ta.all_met_std_error);
  c.all_met.prior_base = prior(tb, c.all_met.p_base, tb.prior_all_met_probability);
  c.all_met.prior_alt = prior(ta, c.all_met.p_alt, ta.prior_all_met_probability);
  c.all_met_paired = c.paired && ids_a == ids_b && nb > 0;
  if (c.all_met_paired) {
    const auto ab = all_met_column(met_b, nb, draws), aa = all_met_column(met_a, na, draws);
    if (weighted)
      weighted_paired_difference(ab, 1, 0, w_b, aa, 1, 0, w_a, c.all_met.diff, c.all_met.std_error);
    else
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

namespace {
// What a comparison with conditioned runs means, and how its s.e. is taken.
std::string conditioning_note(const Comparison& c) {
  std::string out;
  if (c.base_conditioned && c.alt_conditioned)
    out += fmt::format(
        "Both runs are conditioned on observations (effective sample size base {:.0f}, alt "
        "{:.0f}): probabilities are self-normalised weighted shares.\n",
        c.base_ess, c.alt_ess);
  else
    out += fmt::format(
        "Only the {} run is conditioned on observations (effective sample size {:.0f}): the "
        "difference mixes the change between the scenarios with the effect of the observations; "
        "the prior columns compare the two before conditioning.\n",
        c.base_conditioned ? "base" : "alt", c.base_conditioned ? c.base_ess : c.alt_ess);
  if (c.paired)
    out +=
        "The paired standard error is the delta-method one: sqrt(sum over draws of (u_alt - "
        "u_base)^2), u = w (met - p) / sum w, w = 1 for an unconditioned run.\n";
  else
    out += "The unpaired standard error is sqrt(se_base^2 + se_alt^2) from the runs' own ones.\n";
  return out;
}
}  // namespace

std::string format_comparison(const Comparison& c) {
  std::string out = fmt::format("base: {} ({})\nalt:  {} ({})\n", c.base_name, c.base_path,
                                c.alt_name, c.alt_path);
  if (c.paired && c.conditioned())
    out += fmt::format(
        "Paired draw by draw: both runs share seed {} and {} draws (common random numbers).\n",
        c.base_seed, c.base_draws);
  else if (c.paired)
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
  if (c.conditioned()) out += conditioning_note(c);
  std::vector<std::vector<std::string>> rows;
  const bool cond = c.conditioned();
  if (cond)
    rows.push_back({"target", "label", "prior base", "prior alt", "base", "alt", "difference",
                    "std.err", c.paired ? "unpaired s.e." : ""});
  else
    rows.push_back({"target", "label", "base", "alt", "difference", "std.err",
                    c.paired ? "unpaired s.e." : ""});
  auto add = [&](const CompareRow& r, bool paired) {
    std::vector<std::string> row = {r.id, r.label};
    if (cond) {
      row.push_back(fmt::format("{:.3f}", r.prior_base));
      row.push_back(fmt::format("{:.3f}", r.prior_alt));
    }
    for (auto s : {fmt::format("{:.3f}", r.p_base), fmt::format("{:.3f}", r.p_alt),
                   fmt::format("{:+.4f}", r.diff), fmt::format("{:.4f}", r.std_error),
                   paired ? fmt::format("{:.4f}", r.unpaired_std_error) : std::string()})
      row.push_back(std::move(s));
    rows.push_back(std::move(row));
  };
  for (const auto& r : c.rows) add(r, c.paired);
  add(c.all_met, c.all_met_paired);
  out += cond ? "\nTarget probabilities (base, alt and difference = alt - base conditioned on "
                "each run's observations; prior = before conditioning)\n"
              : "\nTarget probabilities (difference = alt - base)\n";
  std::vector<bool> right = {false, false, true, true, true, true, true};
  if (cond) right.insert(right.end(), {true, true});
  out += format_columns(rows, right);
  if (c.paired && !c.all_met_paired && !c.rows.empty())
    out += "(the 'all' row is unpaired: the files have different targets)\n";
  if (!c.only_base.empty()) out += fmt::format("only in base: {}\n", fmt::join(c.only_base, " "));
  if (!c.only_alt.empty()) out += fmt::format("only in alt: {}\n", fmt::join(c.only_alt, " "));
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
    out += format_columns(q, {false, false, true, true, true, true, true, true});
  }
  return out;
}

std::string format_comparison_csv(const Comparison& c) {
  CsvWriter out(csv_plain);
  std::vector<std::string> head = {
      "target", "label", "p_base", "p_alt", "difference", "std_error", "unpaired_std_error",
      "paired"};
  if (c.conditioned()) {
    head.push_back("prior_base");
    head.push_back("prior_alt");
  }
  out.row(head);
  // Numbers as fmt writes them (shortest round trip), "nan" included.
  auto num = [](double v) { return fmt::format("{}", v); };
  auto add = [&](const CompareRow& r, bool paired) {
    std::vector<std::string> row = {r.id,
                                    r.label,
                                    num(r.p_base),
                                    num(r.p_alt),
                                    num(r.diff),
                                    num(r.std_error),
                                    num(r.unpaired_std_error),
                                    paired ? "1" : "0"};
    if (c.conditioned()) {
      row.push_back(num(r.prior_base));
      row.push_back(num(r.prior_alt));
    }
    out.row(row);
  };
  for (const auto& r : c.rows) add(r, c.paired);
  add(c.all_met, c.all_met_paired);
  return out.text();
}
}  // namespace countysim
