// explain's charts (report_explain.hpp) on the report's chart base.
//
// Tornado: per input (ten largest swings), a bar from P(met) when the input is
// in its lowest tenth to P(met) in its highest tenth, around the target's
// probability: the inputs at the top move the odds most.
// Project criticality: per project (largest swings first), P(target) if it
// fails (red), if it is 12 months late (amber) and if it starts on time
// (green), with the base probability as a vertical line.
#include "report_explain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "countysim/output_file.hpp"
#include "report_chart.hpp"

namespace countysim {

namespace {

using namespace report_detail;

// Width of the label column: the longest label, within a fifth and a half of
// the chart (names are cut only beyond that).
double label_column(const std::vector<std::string>& labels) {
  double w = 0;
  for (const auto& l : labels) w = std::max(w, svg::text_width(l, 12));
  return std::clamp(w + 20, chart_w / 5, chart_w / 2);
}

constexpr const char* red = "#c0392b";
constexpr const char* amber = "#e0a030";
constexpr const char* green = "#2e8b57";
constexpr const char* blue = "#5f9bd1";

std::string pct_label(double p) {
  return fmt::format("{:.0f}%", 100 * p);
}

std::string safe_stem(const std::string& id) {
  std::string s;
  for (char c : id)
    s += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return s;
}

Chart tornado_chart(const ExplainResult& r, std::size_t k, Lang lang) {
  const TargetImportance& t = r.targets[k];
  std::vector<const InputImportance*> in;
  for (const auto& g : t.groups) in.push_back(&g);
  // A per-year key only where it swings the odds more than its whole path.
  auto swing_of = [](const InputImportance& i) { return std::abs(i.p_met_high - i.p_met_low); };
  for (const auto& i : t.keys) {
    const auto at = i.key.find('@');
    const auto g = at == std::string::npos
                       ? t.groups.end()
                       : std::find_if(t.groups.begin(), t.groups.end(),
                                      [&](const auto& x) { return x.key == i.key.substr(0, at); });
    if (g == t.groups.end() || swing_of(i) > swing_of(*g)) in.push_back(&i);
  }
  in.erase(std::remove_if(
               in.begin(), in.end(),
               [](const auto* i) { return std::isnan(i->p_met_low) || std::isnan(i->p_met_high); }),
           in.end());
  std::stable_sort(in.begin(), in.end(), [](const auto* a, const auto* b) {
    return std::abs(a->p_met_high - a->p_met_low) > std::abs(b->p_met_high - b->p_met_low);
  });
  if (in.size() > 10) in.resize(10);
  std::vector<std::string> labels;
  for (const auto* ii : in)
    labels.push_back(ii->key + (ii->group ? tr(lang, "（各年）", " (all years)") : std::string()));
  const double row_h = 30, top = 100, label_w = label_column(labels);
  const double h = std::max(260.0, top + row_h * static_cast<double>(in.size()) + 70);
  Chart ch{"explain-tornado-" + safe_stem(t.target), "", Document(chart_w, h)};
  const std::string name = t.label.empty() ? t.target : t.label;
  const std::string title = lang == Lang::zh ? fmt::format("哪些因素决定「{}」", name)
                                             : fmt::format("What decides “{}”", name);
  const std::string sub =
      lang == Lang::zh
          ? fmt::format(
                "条形：该因素处于最低 10%（○）与最高 10%（●）时的达标概率；竖线为总体概率 {} · {} "
                "次模拟",
                pct_label(t.probability), r.draws)
          : fmt::format(
                "chance of the target with the input in its lowest (○) or highest (●) tenth; "
                "dashed: overall {} · {} draws",
                pct_label(t.probability), r.draws);
  header(ch.doc, title, sub);
  ch.caption = title;
  Frame f(24 + label_w, top, chart_w - 48 - label_w, row_h * static_cast<double>(in.size()), 0, 1,
          0, 1);
  f.x_axis(
      ch.doc, {0, 0.25, 0.5, 0.75, 1}, [](double v) { return pct_label(v); }, true);
  f.border(ch.doc);
  ch.doc.line(f.px(t.probability), f.top(), f.px(t.probability), f.bottom(),
              {"none", "#444", 1.5, 1, "5 3"});
  for (std::size_t i = 0; i < in.size(); ++i) {
    const InputImportance& ii = *in[i];
    const double y = f.top() + row_h * (static_cast<double>(i) + 0.5);
    const double lo = std::min(ii.p_met_low, ii.p_met_high),
                 hi = std::max(ii.p_met_low, ii.p_met_high);
    ch.doc.rect(f.px(lo), y - 9, std::max(1.0, f.px(hi) - f.px(lo)), 18,
                {ii.p_met_high >= ii.p_met_low ? blue : amber, "none", 1, 0.85, ""});
    ch.doc.circle(f.px(ii.p_met_low), y, 4, {"white", "#222", 1.5, 1, ""});
    ch.doc.circle(f.px(ii.p_met_high), y, 4, {"#222", "#222", 1.5, 1, ""});
    ch.doc.text(f.left() - 8, y + 4, fit(labels[i], 12, label_w - 12), {12, Anchor::end});
  }
  if (in.empty())
    ch.doc.text(chart_w / 2, top + 40, tr(lang, "没有随机输入", "no random inputs"),
                {14, Anchor::middle, grey_text});
  return ch;
}

Chart projects_chart(const ExplainResult& r, std::size_t k, Lang lang) {
  const TargetImportance& t = r.targets[k];
  std::vector<const ProjectCriticality*> ps;
  for (const auto& p : r.projects) ps.push_back(&p);
  auto swing = [&](const ProjectCriticality* p) {
    return std::abs(p->on_time[k].probability - p->fail[k].probability);
  };
  std::stable_sort(ps.begin(), ps.end(),
                   [&](const auto* a, const auto* b) { return swing(a) > swing(b); });
  if (ps.size() > 15) ps.resize(15);
  std::vector<std::string> labels;
  for (const auto* p : ps) labels.push_back(p->label.empty() ? p->project : p->label);
  const double row_h = 26, top = 110, label_w = label_column(labels);
  const double h = std::max(260.0, top + row_h * static_cast<double>(ps.size()) + 70);
  Chart ch{"explain-projects-" + safe_stem(t.target), "", Document(chart_w, h)};
  const std::string name = t.label.empty() ? t.target : t.label;
  const std::string title = lang == Lang::zh ? fmt::format("重点项目对「{}」的影响", name)
                                             : fmt::format("Projects and “{}”", name);
  const std::string sub =
      lang == Lang::zh
          ? fmt::format(
                "达标概率：项目失败（红）、推迟 12 个月（黄）、按期开工（绿）；竖线为基准 {} · "
                "配对模拟 {} 次",
                pct_label(r.base_probability[k]), r.counterfactual_draws)
          : fmt::format(
                "if the project fails (red), is 12 months late (amber) or on time (green); "
                "dashed: base {} · {} paired draws",
                pct_label(r.base_probability[k]), r.counterfactual_draws);
  header(ch.doc, title, sub);
  ch.caption = title;
  Frame f(24 + label_w, top, chart_w - 48 - label_w, row_h * static_cast<double>(ps.size()), 0, 1,
          0, 1);
  f.x_axis(
      ch.doc, {0, 0.25, 0.5, 0.75, 1}, [](double v) { return pct_label(v); }, true);
  f.border(ch.doc);
  ch.doc.line(f.px(r.base_probability[k]), f.top(), f.px(r.base_probability[k]), f.bottom(),
              {"none", "#444", 1.5, 1, "5 3"});
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const ProjectCriticality& p = *ps[i];
    const double y = f.top() + row_h * (static_cast<double>(i) + 0.5);
    const double a = p.fail[k].probability, b = p.on_time[k].probability, c = p.late[k].probability;
    ch.doc.line(f.px(std::min({a, b, c})), y, f.px(std::max({a, b, c})), y,
                {"none", "#bbb", 3, 1, ""});
    ch.doc.circle(f.px(a), y, 5, {red, "white", 1, 1, ""});
    ch.doc.circle(f.px(c), y, 5, {amber, "white", 1, 1, ""});
    ch.doc.circle(f.px(b), y, 5, {green, "white", 1, 1, ""});
    ch.doc.text(f.left() - 8, y + 4, fit(labels[i], 12, label_w - 12), {12, Anchor::end});
  }
  if (ps.empty())
    ch.doc.text(chart_w / 2, top + 40, tr(lang, "没有项目", "no projects"),
                {14, Anchor::middle, grey_text});
  return ch;
}

}  // namespace

std::vector<report_detail::Chart> explain_charts(const ExplainResult& r, Lang lang) {
  std::vector<Chart> charts;
  for (std::size_t k = 0; k < r.targets.size(); ++k) {
    charts.push_back(tornado_chart(r, k, lang));
    if (!r.projects.empty() && k < r.base_probability.size())
      charts.push_back(projects_chart(r, k, lang));
  }
  return charts;
}

std::vector<std::string> write_explain_charts(const ExplainResult& r, const std::string& out_dir,
                                              Lang lang, const ReportOptions& options) {
  make_report_dir(out_dir);
  return save_charts(explain_charts(r, lang), out_dir, options);
}

std::string explain_file_beside(const std::string& results_path) {
  namespace fs = std::filesystem;
  const fs::path p(results_path);
  std::error_code ec;
  for (const fs::path& c :
       {fs::path(default_explain_dir(results_path)) / "explain.h5", p.parent_path() / "explain.h5"})
    if (fs::is_regular_file(c, ec)) return c.string();
  return "";
}

}  // namespace countysim
