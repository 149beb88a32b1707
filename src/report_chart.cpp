#include "report_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "countysim/errors.hpp"
#include "countysim/metrics.hpp"
#include "countysim/utf8.hpp"

namespace countysim {

Lang parse_lang(const std::string& s) {
  if (s == "zh") return Lang::zh;
  if (s == "en") return Lang::en;
  throw UsageError(fmt::format("--lang {}: unknown language; use zh or en", s));
}

DisplayUnit display_unit(const std::string& units, Lang lang) {
  DisplayUnit u;
  bool zh = lang == Lang::zh;
  if (units == "亿元") {
    u.unit = zh ? "亿元" : "100m yuan";
  } else if (units == "persons") {
    u.scale = 1e-4;
    u.unit = zh ? "万人" : "10k persons";
  } else if (units == "fraction") {
    u.scale = 100;
    u.unit = "%";
    u.percent = true;
  } else if (units == "mu") {
    u.unit = zh ? "亩" : "mu";
    u.integer = true;
  } else if (units == "count") {
    u.integer = true;
  } else if (units == "month") {
    u.unit = zh ? "月" : "months";
    u.integer = true;
  } else {
    u.unit = units;
  }
  return u;
}

int display_decimals(double v, const DisplayUnit& u) {
  if (u.integer) return 0;
  if (u.percent) return 1;
  double a = std::fabs(v);
  if (u.scale == 1e-4) return a < 10 ? 2 : 1;  // 万人
  return a >= 1000 ? 0 : a >= 1 ? 1 : 2;
}

namespace {

std::string trim_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string with_unit(const std::string& num, const DisplayUnit& u, Lang lang) {
  if (u.percent) return num + "%";
  if (u.unit.empty()) return num;
  if (lang == Lang::zh) return num + " " + u.unit;
  return u.unit == "mu" ? num + " mu" : num + " (" + u.unit + ")";
}

// A threshold as written in a plan: no trailing zeros ("12%", "100 亿元").
std::string format_threshold(double stored, const std::string& units, Lang lang) {
  DisplayUnit u = display_unit(units, lang);
  double v = stored * u.scale;
  return with_unit(trim_zeros(svg::fixed(v, 4)), u, lang);
}

// A target's "≥" or "≤".
std::string op_symbol(const TargetRow& t) {
  return t.op == "at_most" ? "≤" : "≥";
}

std::string count_noun(const std::string& metric, Lang lang) {
  if (lang != Lang::zh) return "";
  if (metric.find("firms") != std::string::npos) return " 家";
  if (metric.find("projects") != std::string::npos || metric == "clusters_at_least") return " 个";
  return "";
}

// Names in the file are Chinese; in English use them only if they are ASCII.
std::string pick_label(const std::string& label, const std::string& id, Lang lang) {
  if (lang == Lang::zh) return label.empty() ? id : label;
  return !label.empty() && utf8::is_ascii(label) ? label : id;
}

}  // namespace

std::string format_value(double stored, const std::string& units, Lang lang) {
  if (!std::isfinite(stored)) return "–";
  DisplayUnit u = display_unit(units, lang);
  double v = stored * u.scale;
  return with_unit(svg::fixed(v, display_decimals(v, u)), u, lang);
}

std::string format_probability(double p) {
  if (!std::isfinite(p)) return "–";
  if (p > 0 && p < 0.005) return "<1%";
  if (p < 1 && p > 0.995) return ">99%";
  return fmt::format("{:.0f}%", p * 100);
}

std::string format_chance(double p) {
  if (!std::isfinite(p)) return "–";
  if (p < 0.001) return "<0.1%";
  if (p > 0.999) return ">99.9%";
  if (p < 0.1 || p > 0.9) {
    // One decimal near the ends, never rounding into "0.0%" or "100.0%".
    const std::string s = fmt::format("{:.1f}%", p * 100);
    return s == "100.0%" ? ">99.9%" : s;
  }
  return fmt::format("{:.0f}%", p * 100);
}

std::string chance_words(double p, Lang lang) {
  const bool zh = lang == Lang::zh;
  if (p >= 0.99) return zh ? "几乎肯定" : "virtually certain";
  if (p >= 0.9) return zh ? "很可能" : "very likely";
  if (p >= 2.0 / 3.0) return zh ? "可能" : "likely";
  if (p > 1.0 / 3.0) return zh ? "可能性约一半" : "about even";
  if (p > 0.1) return zh ? "不太可能" : "unlikely";
  if (p > 0.01) return zh ? "很不可能" : "very unlikely";
  return zh ? "几乎不可能" : "exceptionally unlikely";
}

std::string month_label(int base_year, int month) {
  int y = base_year + 1 + (month >= 0 ? month / 12 : -((-month + 11) / 12));
  int m = month - 12 * (y - base_year - 1) + 1;
  return fmt::format("{}-{:02d}", y, m);
}

Likelihood classify_probability(double p) {
  if (p >= 2.0 / 3.0) return Likelihood::likely;
  if (p <= 1.0 / 3.0) return Likelihood::unlikely;
  return Likelihood::about_even;
}

const char* likelihood_label(Likelihood l, Lang lang) {
  bool zh = lang == Lang::zh;
  switch (l) {
    case Likelihood::likely:
      return zh ? "可能" : "likely";
    case Likelihood::about_even:
      return zh ? "可能性约一半" : "about even";
    case Likelihood::unlikely:
      return zh ? "不太可能" : "unlikely";
  }
  return "";
}

const char* likelihood_color(Likelihood l) {
  switch (l) {
    case Likelihood::likely:
      return "#2e7d32";
    case Likelihood::about_even:
      return "#e69f00";
    case Likelihood::unlikely:
      return "#c62828";
  }
  return "#777";
}

namespace report_detail {

// Text in the likelihood colours: the amber darkened to read on white.
const char* ink(Likelihood l) {
  return l == Likelihood::about_even ? "#a86f00" : likelihood_color(l);
}

std::string at(const std::vector<std::string>& v, std::size_t i) {
  return i < v.size() ? v[i] : std::string();
}

// Names in the file are Chinese; in English use them only if they are ASCII.
std::size_t index_of(const std::vector<std::string>& v, const std::string& s) {
  auto it = std::find(v.begin(), v.end(), s);
  return it == v.end() ? v.size() : static_cast<std::size_t>(it - v.begin());
}

std::string tr(Lang lang, const char* zh, const char* en) {
  return lang == Lang::zh ? zh : en;
}

std::string metric_label(const ReportData& d, const std::string& metric, Lang lang) {
  if (auto m = metric_from_name(metric)) {
    const MetricInfo& info = metric_info(*m);
    if (lang == Lang::zh) return info.label_zh;
    std::string s = info.long_name;
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
  }
  auto it = d.summaries.find(metric);
  if (it != d.summaries.end()) {
    if (lang == Lang::zh && !it->second.label_zh.empty()) return it->second.label_zh;
    if (!it->second.long_name.empty()) return it->second.long_name;
  }
  return metric;
}

std::string metric_units(const ReportData& d, const std::string& metric) {
  if (auto m = metric_from_name(metric)) return metric_info(*m).units;
  auto it = d.summaries.find(metric);
  return it != d.summaries.end() ? it->second.units : "";
}

bool metric_is_integer(const std::string& metric) {
  auto m = metric_from_name(metric);
  return m && metric_info(*m).integer;
}

std::string cluster_name(const ReportData& d, std::size_t c, Lang lang) {
  return pick_label(at(d.coords.cluster_label, c), at(d.coords.cluster, c), lang);
}

std::string project_name(const ReportData& d, std::size_t p, Lang lang) {
  return pick_label(at(d.coords.project_label, p), at(d.coords.project, p), lang);
}

std::string target_name(const TargetRow& t, Lang lang) {
  return pick_label(t.label, t.id, lang);
}

// What a target measures, e.g. "纺织服装总产值", "clusters in group main ≥ 10 (100m yuan)".
std::string target_subject(const ReportData& d, const TargetRow& t, Lang lang) {
  if (t.metric == "cluster_output" && !t.cluster.empty()) {
    std::string c = t.cluster;
    std::size_t i = index_of(d.coords.cluster, t.cluster);
    if (i < d.coords.cluster.size()) c = cluster_name(d, i, lang);
    return lang == Lang::zh ? c + "总产值" : "Gross output of " + c;
  }
  if (t.metric == "clusters_at_least") {
    std::string gt = format_threshold(t.group_threshold, "亿元", lang);
    return lang == Lang::zh ? fmt::format("{} 组中产值 ≥ {}的集群数", t.group, gt)
                            : fmt::format("Clusters in group {} with output ≥ {}", t.group, gt);
  }
  return metric_label(d, t.metric, lang);
}

std::string target_condition(const ReportData& d, const TargetRow& t, Lang lang) {
  return fmt::format("{} {}{}", op_symbol(t),
                     format_threshold(t.threshold, metric_units(d, t.metric), lang),
                     count_noun(t.metric, lang));
}

std::string target_units(const ReportData& d, const TargetRow& t) {
  return t.metric == "clusters_at_least" ? "count" : metric_units(d, t.metric);
}

std::string target_value_text(const ReportData& d, const TargetRow& t, double stored, Lang lang) {
  if (!std::isfinite(stored)) return "–";
  return format_value(stored, target_units(d, t), lang) + count_noun(t.metric, lang);
}

// "工业总产值 ≥ 100 亿元（2024 年）"
std::string target_sentence(const ReportData& d, const TargetRow& t, Lang lang) {
  std::string s = target_subject(d, t, lang) + " " + target_condition(d, t, lang);
  return lang == Lang::zh ? fmt::format("{}（{} 年）", s, t.year)
                          : fmt::format("{} in {}", s, t.year);
}

// Cuts text to fit a width, ending in "…".
std::string fit(const std::string& s, double size, double max_width) {
  if (svg::text_width(s, size) <= max_width) return s;
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t end = i;
    utf8::next(s, end);  // whole characters only
    std::string next = out + s.substr(i, end - i);
    if (svg::text_width(next + "…", size) > max_width) break;
    out = next;
    i = end;
  }
  return out + "…";
}

std::vector<std::string> wrap(const std::string& s, double size, double max_width) {
  std::vector<std::string> lines;
  std::string line, word;  // word: a run of Latin characters, kept whole
  auto flush_word = [&] {
    if (word.empty()) return;
    std::string trial = line + word;
    if (!line.empty() && svg::text_width(trial, size) > max_width) {
      while (!line.empty() && line.back() == ' ') line.pop_back();
      lines.push_back(line);
      line.clear();
      std::size_t k = 0;
      while (k < word.size() && word[k] == ' ') ++k;
      line = word.substr(k);
    } else {
      line = trial;
    }
    word.clear();
  };
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    const std::uint32_t c = utf8::next(s, i);
    const std::string ch = s.substr(start, i - start);
    if (c < 0x800 && c != ' ') {
      word += ch;  // Latin letters and digits stay together
      continue;
    }
    flush_word();
    if (c == ' ') {
      word = " ";
      continue;
    }
    // A CJK character: a break is allowed before it, but not before closing
    // punctuation.
    const bool closing = ch == "，" || ch == "。" || ch == "）" || ch == "、" || ch == "：" ||
                         ch == "”" || ch == "；";
    if (!closing && !line.empty() && svg::text_width(line + ch, size) > max_width) {
      // Opening quotes and brackets go to the next line with what they open.
      std::string carry;
      for (const char* open : {"“", "（", "(", "《"}) {
        const std::size_t n = std::strlen(open);
        if (line.size() > n && line.compare(line.size() - n, n, open) == 0) {
          carry = open;
          line.erase(line.size() - n);
        }
      }
      lines.push_back(line);
      line = carry;
    }
    line += ch;
  }
  flush_word();
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

void wrapped_text(Document& doc, double x, double y, const std::string& s, double max_width,
                  std::size_t max_lines, TextStyle style) {
  const double size0 = style.size;
  std::vector<std::string> lines = wrap(s, style.size, max_width);
  // Shrink a little before wrapping further; below 60% wrap into as many
  // lines as it takes (never cut).
  while (lines.size() > max_lines && style.size > size0 * 0.6) {
    style.size = std::max(size0 * 0.6, style.size - 0.5);
    lines = wrap(s, style.size, max_width);
  }
  const double lh = style.size * 1.15;
  double yy = y - lh * (static_cast<double>(lines.size()) - 1) / 2;
  for (const auto& l : lines) {
    doc.text(x, yy, l, style);
    yy += lh;
  }
}

// Moves label positions apart by at least `gap`, keeping their order, within [lo, hi].
std::vector<double> spread(std::vector<double> ys, double gap, double lo, double hi) {
  std::vector<std::size_t> order(ys.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return ys[a] < ys[b]; });
  for (std::size_t k = 1; k < order.size(); ++k)
    ys[order[k]] = std::max(ys[order[k]], ys[order[k - 1]] + gap);
  if (!order.empty() && ys[order.back()] > hi) {
    ys[order.back()] = hi;
    for (std::size_t k = order.size() - 1; k-- > 0;)
      ys[order[k]] = std::min(ys[order[k]], ys[order[k + 1]] - gap);
  }
  for (auto& y : ys) y = std::max(y, lo);
  return ys;
}

// Quantile (numpy's default, type 7) of sorted data.
double sorted_quantile(const std::vector<double>& s, double q) {
  if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
  double h = (static_cast<double>(s.size()) - 1) * q;
  auto lo = static_cast<std::size_t>(std::floor(h));
  double b = lo + 1 < s.size() ? s[lo + 1] : s[lo];
  return s[lo] + (h - static_cast<double>(lo)) * (b - s[lo]);
}

std::string draws_text(const ReportData& d, Lang lang) {
  std::string n = fmt::format("{}", d.info.draws);
  // Thousands separators, as in statistical yearbooks.
  for (int i = static_cast<int>(n.size()) - 3; i > 0; i -= 3)
    n.insert(static_cast<std::size_t>(i), ",");
  return lang == Lang::zh ? n + " 次模拟" : n + " draws";
}

// "P = 37%", "P > 99%", "P < 1%".
std::string p_equals(double p) {
  std::string f = format_chance(p);
  return f[0] == '<' || f[0] == '>' ? "P " + f.substr(0, 1) + " " + f.substr(1) : "P = " + f;
}

std::string interval_text(double lo, double hi) {
  return fmt::format("[{}, {}]", format_probability(lo), format_probability(hi));
}

void header(Document& doc, const std::string& title, const std::string& subtitle) {
  doc.title(title);
  // Long titles (English target names) shrink a little before they are cut.
  double size = 20;
  while (size > 15 && svg::text_width(title, size) * 1.05 > chart_w - 48) size -= 1;
  doc.text(24, 32, fit(title, size, chart_w - 48), {size, Anchor::start, "#111", true});
  // A long subtitle shrinks (to 10 px) before anything is cut.
  double sub = 12;
  while (sub > 10 && svg::text_width(subtitle, sub) > chart_w - 48) sub -= 0.5;
  doc.text(24, 54, fit(subtitle, sub, chart_w - 48), {sub, Anchor::start, grey_text});
}

std::size_t quantile_column(const ReportData& d, double q) {
  return quantile_index(d.coords.quantile, q, d.source);
}

}  // namespace report_detail

}  // namespace countysim
