#include "countysim/terminal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "countysim/stats.hpp"

namespace countysim {

int display_width(const std::string& s) {
  int width = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    char32_t cp;
    int len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c >> 5) == 6) {
      cp = c & 0x1f;
      len = 2;
    } else if ((c >> 4) == 14) {
      cp = c & 0x0f;
      len = 3;
    } else {
      cp = c & 0x07;
      len = 4;
    }
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3f);
    i += len;
    const bool wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                      (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                      (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                      (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

namespace {

std::string pad(const std::string& s, int width, bool right = false) {
  const int w = display_width(s);
  if (w >= width) return s;
  return right ? std::string(width - w, ' ') + s : s + std::string(width - w, ' ');
}

std::string condition(const TargetRow& r) {
  const char* op = r.op == "at_least" ? ">=" : "<=";
  if (r.metric == "clusters_at_least")
    return fmt::format("#clusters of {} with output >= {:g} {} {:g}", r.group, r.group_threshold,
                       op, r.threshold);
  std::string what = r.metric;
  if (!r.cluster.empty()) what += "[" + r.cluster + "]";
  return fmt::format("{} {} {:g}", what, op, r.threshold);
}

}  // namespace

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string format_target_table(const TargetTable& t, std::uint64_t draws) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
      {"target", "label", "year", "condition", "probability", "std.err", "95% interval"});
  for (const auto& r : t.rows) {
    rows.push_back({r.id, r.label, std::to_string(r.year), condition(r),
                    fmt::format("{:.3f}", r.probability), fmt::format("{:.4f}", r.std_error),
                    fmt::format("[{:.3f}, {:.3f}]", r.ci_low, r.ci_high)});
  }
  std::vector<int> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c)
      width[c] = std::max(width[c], display_width(row[c]));
  std::string out =
      fmt::format("Targets ({} draws; probability = share of draws meeting the target)\n", draws);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t c = 0; c < rows[i].size(); ++c)
      out += pad(rows[i][c], width[c], c >= 4 && c <= 5) + (c + 1 < rows[i].size() ? "  " : "");
    out += "\n";
  }
  const double se = t.all_met_std_error;
  out += fmt::format("All targets together: probability {:.3f} (std.err {:.4f})\n",
                     t.all_met_probability, se);
  return out;
}

std::string format_target_csv(const TargetTable& t) {
  std::string out =
      "target,label,metric,year,op,threshold,cluster,group,group_threshold,probability,std_error,"
      "ci_low,ci_high\n";
  for (const auto& r : t.rows) {
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(r.id), csv_field(r.label), r.metric,
        r.year, r.op, r.threshold, csv_field(r.cluster), csv_field(r.group),
        std::isnan(r.group_threshold) ? std::string() : fmt::format("{}", r.group_threshold),
        r.probability, r.std_error, r.ci_low, r.ci_high);
  }
  out += fmt::format("all,all targets together,,,,,,,,{},{},,\n", t.all_met_probability,
                     t.all_met_std_error);
  return out;
}

std::string format_headline_quantiles(const std::vector<MetricSummary>& summaries, int last_year,
                                      int base_year) {
  const auto& qs = summary_quantiles();
  const auto col = [&](double q) {
    return static_cast<std::size_t>(
        std::find_if(qs.begin(), qs.end(), [&](double x) { return std::abs(x - q) < 1e-12; }) -
        qs.begin());
  };
  const std::size_t q05 = col(0.05), q50 = col(0.50), q95 = col(0.95);
  std::string out = fmt::format("Headline metrics in {} (quantiles over draws)\n", last_year);
  out += fmt::format("{}  {:>12}  {:>12}  {:>12}  {}\n", pad("metric", 24), "5%", "50%", "95%",
                     "units");
  for (const auto& name : headline_metrics()) {
    auto it = std::find_if(summaries.begin(), summaries.end(),
                           [&](const MetricSummary& s) { return s.metric == name; });
    if (it == summaries.end() || it->dims.size() != 1) continue;
    const std::size_t y = static_cast<std::size_t>(last_year - base_year);
    const double* q = it->quantiles.data() + y * qs.size();
    const bool frac = it->units == "fraction";
    auto f = [&](double x) {
      return frac ? fmt::format("{:.2f}%", 100 * x) : fmt::format("{:.2f}", x);
    };
    out += fmt::format("{}  {:>12}  {:>12}  {:>12}  {}\n", pad(name, 24), f(q[q05]), f(q[q50]),
                       f(q[q95]), frac ? "%" : it->units);
  }
  return out;
}

}  // namespace countysim
