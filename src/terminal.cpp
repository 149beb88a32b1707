// Terminal output of `run` and `summary` (terminal.hpp).
#include "countysim/terminal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "countysim/conditioning.hpp"
#include "countysim/csv.hpp"
#include "countysim/text_columns.hpp"

namespace countysim {

namespace {

std::string condition(const TargetRow& r) {
  const char* op = r.op == "at_least" ? ">=" : "<=";
  if (r.metric == "clusters_at_least")
    return fmt::format("#clusters of {} with output >= {:g} {} {:g}", r.group, r.group_threshold,
                       op, r.threshold);
  std::string what = r.metric;
  if (!r.cluster.empty()) what += "[" + r.cluster + "]";
  return fmt::format("{} {} {:g}", what, op, r.threshold);
}

// v2: prior and conditioned side by side, the ESS, where each outturn fell,
// and the warnings (model.md "Conditioning on outturns").
std::string format_conditioned_table(const TargetTable& t, std::uint64_t draws) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
      {"target", "label", "year", "condition", "prior", "conditioned", "std.err", "95% interval"});
  for (const auto& r : t.rows)
    rows.push_back({r.id, r.label, std::to_string(r.year), condition(r),
                    fmt::format("{:.3f}", r.prior_probability),
                    fmt::format("{:.3f}", r.probability), fmt::format("{:.4f}", r.std_error),
                    fmt::format("[{:.3f}, {:.3f}]", r.ci_low, r.ci_high)});
  std::string out = fmt::format(
      "Targets ({} draws conditioned on {} observation{}: effective sample size {:.0f}; prior = "
      "share of draws meeting the target, conditioned = the same with each draw weighted by the "
      "likelihood of the observations)\n",
      draws, t.observations.size(), t.observations.size() == 1 ? "" : "s", t.effective_sample_size);
  out += format_columns(rows, {false, false, false, false, true, true, true, false});
  out += fmt::format(
      "All targets together: probability {:.3f} (std.err {:.4f}); before conditioning {:.3f} "
      "(std.err {:.4f})\n",
      t.all_met_probability, t.all_met_std_error, t.prior_all_met_probability,
      t.prior_all_met_std_error);
  std::vector<std::vector<std::string>> obs;
  obs.push_back({"observation", "metric", "year", "value", "sd", "prior quantile",
                 "conditioned median", "ESS alone"});
  for (const auto& o : t.observations)
    obs.push_back({o.id, o.cluster.empty() ? o.metric : o.metric + "[" + o.cluster + "]",
                   std::to_string(o.year), fmt::format("{:g}", o.value), fmt::format("{:g}", o.sd),
                   fmt::format("{:.1f}%", 100 * o.prior_quantile),
                   fmt::format("{:g}", o.conditioned_median),
                   fmt::format("{:.0f}", o.effective_sample_size)});
  out += "\nObservations (prior quantile: share of unconditioned draws at or below the value)\n";
  out += format_columns(obs, {false, false, false, true, true, true, true, true});
  for (const auto& w : conditioning_warnings(t, draws)) out += "warning: " + w + "\n";
  return out;
}

}  // namespace

std::string format_target_table(const TargetTable& t, std::uint64_t draws) {
  if (t.conditioned) return format_conditioned_table(t, draws);
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
      {"target", "label", "year", "condition", "probability", "std.err", "95% interval"});
  for (const auto& r : t.rows) {
    rows.push_back({r.id, r.label, std::to_string(r.year), condition(r),
                    fmt::format("{:.3f}", r.probability), fmt::format("{:.4f}", r.std_error),
                    fmt::format("[{:.3f}, {:.3f}]", r.ci_low, r.ci_high)});
  }
  std::string out =
      fmt::format("Targets ({} draws; probability = share of draws meeting the target)\n", draws);
  out += format_columns(rows, {false, false, false, false, true, true, false});
  const double se = t.all_met_std_error;
  out += fmt::format("All targets together: probability {:.3f} (std.err {:.4f})\n",
                     t.all_met_probability, se);
  return out;
}

std::string format_target_csv(const TargetTable& t) {
  CsvWriter csv(csv_plain);
  std::vector<std::string> head = {
      "target", "label",           "metric",      "year",      "op",     "threshold", "cluster",
      "group",  "group_threshold", "probability", "std_error", "ci_low", "ci_high"};
  // Conditioned runs add the prior columns (probability etc. are conditioned).
  if (t.conditioned) {
    head.push_back("prior_probability");
    head.push_back("prior_std_error");
  }
  csv.row(head);
  const auto num = [](double x) { return fmt::format("{}", x); };
  for (const auto& r : t.rows) {
    std::vector<std::string> row = {r.id,
                                    r.label,
                                    r.metric,
                                    std::to_string(r.year),
                                    r.op,
                                    num(r.threshold),
                                    r.cluster,
                                    r.group,
                                    csv_number(r.group_threshold),
                                    num(r.probability),
                                    num(r.std_error),
                                    num(r.ci_low),
                                    num(r.ci_high)};
    if (t.conditioned) {
      row.push_back(num(r.prior_probability));
      row.push_back(num(r.prior_std_error));
    }
    csv.row(row);
  }
  std::vector<std::string> all = {"all",
                                  "all targets together",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  num(t.all_met_probability),
                                  num(t.all_met_std_error),
                                  "",
                                  ""};
  if (t.conditioned) {
    all.push_back(num(t.prior_all_met_probability));
    all.push_back(num(t.prior_all_met_std_error));
  }
  csv.row(all);
  return csv.text();
}

std::string format_headline_quantiles(const std::vector<MetricSummary>& summaries,
                                      const std::vector<double>& quantiles, int last_year,
                                      int base_year, bool conditioned) {
  const std::size_t nq = quantiles.size();
  const auto q05 = find_quantile(quantiles, 0.05), q50 = find_quantile(quantiles, 0.50),
             q95 = find_quantile(quantiles, 0.95);
  std::string out = fmt::format(
      "Headline metrics in {} ({})\n", last_year,
      conditioned ? "weighted quantiles: conditioned on the observations" : "quantiles over draws");
  out += fmt::format("{}  {:>12}  {:>12}  {:>12}  {}\n", pad_to_width("metric", 24), "5%", "50%",
                     "95%", "units");
  const std::size_t y = static_cast<std::size_t>(last_year - base_year);
  for (const auto& name : headline_metrics()) {
    auto it = std::find_if(summaries.begin(), summaries.end(),
                           [&](const MetricSummary& s) { return s.metric == name; });
    if (it == summaries.end() || it->dims.size() != 1 || it->shape.size() != 1 ||
        last_year < base_year || y >= it->shape[0] || it->quantiles.size() < it->shape[0] * nq)
      continue;
    const double* q = it->quantiles.data() + y * nq;
    const bool frac = it->units == "fraction";
    auto f = [&](const std::optional<std::size_t>& i) {
      if (!i) return std::string("n/a");
      return frac ? fmt::format("{:.2f}%", 100 * q[*i]) : fmt::format("{:.2f}", q[*i]);
    };
    out += fmt::format("{}  {:>12}  {:>12}  {:>12}  {}\n", pad_to_width(name, 24), f(q05), f(q50),
                       f(q95), frac ? "%" : it->units);
  }
  return out;
}

}  // namespace countysim
