// The report's index.html: for a results file the targets table and every
// chart with its PNG and SVG links; for a sweep file its charts.
#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "countysim/errors.hpp"
#include "report_chart.hpp"

namespace countysim::report_detail {

namespace {

std::string h(const std::string& s) {
  return svg::escape(s);
}

void write_html(const std::string& path, const std::string& text) {
  write_text_file(path, text);
}

}  // namespace

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) throw RunError(fmt::format("{}: cannot write", path));
}

std::string county_time(const std::string& iso, Lang lang) {
  std::tm tm{};
  int y, mo, da, h, mi, se;
  char z = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &da, &h, &mi, &se, &z) != 7 ||
      z != 'Z')
    return iso;
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = da;
  tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = se;
  const std::time_t t = timegm(&tm) + 8 * 3600;  // CST: UTC+8 all year
  std::tm local{};
  gmtime_r(&t, &local);
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d} {}", local.tm_year + 1900,
                     local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min,
                     lang == Lang::zh ? "北京时间" : "China Standard Time");
}

void write_index(const ReportData& d, const std::vector<Chart>& charts, const std::string& path,
                 Lang lang, const ReportOptions& opt, const std::vector<Link>& links) {
  bool zh = lang == Lang::zh;
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"" << (zh ? "zh-CN" : "en")
    << "\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>" << h(d.info.scenario_name) << " · " << tr(lang, "模拟报告", "simulation report")
    << "</title>\n"
    << "<style>\n"
       "body{font-family:\"Noto Sans CJK SC\",\"Noto Sans CJK\",\"Source Han Sans SC\",\"Microsoft "
       "YaHei\",\"PingFang SC\",sans-serif;margin:2em auto;max-width:860px;color:#222;padding:0 "
       "1em}\n"
       "h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}\n"
       "table{border-collapse:collapse;font-size:.92em;margin:1em 0}\n"
       "th,td{border-bottom:1px solid #e4e4e4;padding:.35em .6em;text-align:left}\n"
       "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
       "figure{margin:1.5em 0}img{max-width:100%;height:auto;border:1px solid #eee}\n"
       "figcaption{font-size:.85em;color:#666}.meta{color:#555;font-size:.9em}\n"
       ".likely{color:#2e7d32;font-weight:bold}.about_even{color:#b07800;font-weight:bold}"
       ".unlikely{color:#c62828;font-weight:bold}\n"
       "</style>\n</head>\n<body>\n";
  o << "<h1>" << h(d.info.scenario_name) << "</h1>\n";
  o << "<p class=\"meta\">" << tr(lang, "模拟次数", "Draws") << " " << d.info.draws << " · "
    << tr(lang, "随机种子", "seed") << " " << d.info.seed << " · "
    << tr(lang, "生成时间", "created") << " " << h(county_time(d.info.created, lang))
    << " · countysim " << h(d.info.countysim_version) << "</p>\n";

  o << "<h2>" << tr(lang, "目标", "Targets") << "</h2>\n";
  o << "<p>"
    << tr(lang,
          "概率为达到目标的模拟所占比例，括号内为 95% "
          "置信区间（Wilson），反映模拟次数有限带来的误差。"
          "可能性用语：<span class=\"likely\">可能</span>（≥ 2/3）、<span "
          "class=\"about_even\">可能性约一半"
          "</span>（1/3–2/3）、<span class=\"unlikely\">不太可能</span>（≤ 1/3）。",
          "Probability: the share of draws that meet the target; the 95% interval (Wilson) shows "
          "the Monte-Carlo error of a finite run. Scale: <span class=\"likely\">likely</span> (≥ "
          "2/3), "
          "<span class=\"about_even\">about even</span> (1/3–2/3), <span "
          "class=\"unlikely\">unlikely"
          "</span> (≤ 1/3).")
    << "</p>\n<table>\n<thead><tr><th>" << tr(lang, "目标", "Target") << "</th><th>"
    << tr(lang, "条件", "Condition") << "</th><th>" << tr(lang, "概率", "Probability")
    << "</th><th>" << tr(lang, "95% 区间", "95% interval") << "</th><th>"
    << tr(lang, "标准误", "Std. error") << "</th><th>" << tr(lang, "判断", "Reading")
    << "</th></tr></thead>\n<tbody>\n";
  auto cls = [](Likelihood l) {
    return l == Likelihood::likely       ? "likely"
           : l == Likelihood::about_even ? "about_even"
                                         : "unlikely";
  };
  for (const auto& t : d.targets.rows) {
    Likelihood l = classify_probability(t.probability);
    o << "<tr><td>" << h(target_name(t, lang)) << "</td><td>" << h(target_sentence(d, t, lang))
      << "</td><td class=\"num " << cls(l) << "\">" << format_probability(t.probability)
      << "</td><td class=\"num\">" << interval_text(t.ci_low, t.ci_high)
      << "</td><td class=\"num\">" << fmt::format("{:.1f}", t.std_error * 100)
      << "%</td><td class=\"" << cls(l) << "\">" << likelihood_label(l, lang) << "</td></tr>\n";
  }
  {
    Likelihood l = classify_probability(d.targets.all_met_probability);
    o << "<tr><td><b>" << tr(lang, "全部目标同时实现", "All targets together")
      << "</b></td><td></td>"
      << "<td class=\"num " << cls(l) << "\">" << format_probability(d.targets.all_met_probability)
      << "</td><td></td><td class=\"num\">"
      << fmt::format("{:.1f}", d.targets.all_met_std_error * 100) << "%</td><td class=\"" << cls(l)
      << "\">" << likelihood_label(l, lang) << "</td></tr>\n";
  }
  o << "</tbody>\n</table>\n";

  auto figure = [&](const Chart& c) {
    o << "<figure><img src=\"" << h(c.stem) << ".svg\" alt=\"" << h(c.caption) << "\" width=\""
      << c.doc.width() << "\" height=\"" << c.doc.height() << "\"><figcaption>" << h(c.caption);
    if (opt.png) o << " · <a href=\"" << h(c.stem) << ".png\">PNG</a>";
    o << " · <a href=\"" << h(c.stem) << ".svg\">SVG</a></figcaption></figure>\n";
  };
  auto section = [&](const std::string& title, const std::string& prefix, bool exact) {
    bool any = false;
    for (const auto& c : charts) {
      bool match = exact ? c.stem == prefix : c.stem.rfind(prefix, 0) == 0;
      if (!match) continue;
      if (!any) o << "<h2>" << title << "</h2>\n";
      any = true;
      figure(c);
    }
  };
  section(tr(lang, "一页纸", "One-page summary"), "summary", false);
  section(tr(lang, "目标实现概率", "Probability of each target"), "targets", true);
  section(tr(lang, "主要指标预测（扇形图）", "Headline metrics (fan charts)"), "fan_", false);
  section(tr(lang, "各目标指标的分布", "Distribution of each target's metric"), "target_", false);
  section(tr(lang, "产业集群", "Clusters"), "clusters", true);
  section(tr(lang, "哪些因素和项目决定目标（explain）", "What decides each target (explain)"),
          "explain-", false);
  section(tr(lang, "重点项目进度", "Project timing"), "projects", false);
  section(tr(lang, "方案比较", "Scenarios compared"), "compare-", false);
  section(tr(lang, "各方案一页纸", "Each scenario on one page"), "alt", false);

  o << "<h2>" << tr(lang, "数据表（CSV，UTF-8）", "Tables (CSV, UTF-8)") << "</h2>\n<ul>\n";
  for (const auto& l : links)
    o << "<li><a href=\"" << h(l.href) << "\">" << h(l.href) << "</a> — " << h(l.text) << "</li>\n";
  o << "<li><a href=\"targets.csv\">targets.csv</a> — "
    << tr(lang, "目标概率", "target probabilities") << "</li>\n"
    << "<li><a href=\"quantiles.csv\">quantiles.csv</a> — "
    << tr(lang, "各指标各年均值、标准差与分位数（图中所用单位：亿元、万人、%）",
          "mean, sd and quantiles per metric and year (in the charts' units: 100m yuan, 10k "
          "persons, %)")
    << "</li>\n";
  if (!d.coords.project.empty())
    o << "<li><a href=\"project_timing.csv\">project_timing.csv</a> — "
      << tr(lang,
            "项目开工与投产月份的分位数（月序号：0 为预测首年 1 月；只计开工、投产的模拟，"
            "投产可晚于预测期末）及预测期内开工、投产的比例",
            "quantiles of project start and production months (month 0 = January of the first "
            "projection year; over the draws where it happens, production possibly after the "
            "horizon) and the shares within the horizon")
      << "</li>\n";
  o << "</ul>\n";
  // Lets a headless browser check that every chart loaded.
  o << "<script>\nwindow.addEventListener('load', function () {\n"
       "  var imgs = document.images, ok = 0;\n"
       "  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) "
       "ok++;\n"
       "  document.body.setAttribute('data-images-loaded', ok + '/' + imgs.length);\n"
       "});\n</script>\n</body>\n</html>\n";
  write_html(path, o.str());
}

void write_sweep_index(const SweepResult& r, const std::vector<Chart>& charts,
                       const std::string& path, Lang lang) {
  const bool zh = lang == Lang::zh;
  std::string figures;
  for (const auto& c : charts)
    figures +=
        fmt::format("<figure><img src=\"{}.svg\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
                    c.stem, h(c.caption), h(c.caption));
  write_html(
      path,
      fmt::format("<!DOCTYPE html>\n<html lang=\"{}\"><head><meta "
                  "charset=\"utf-8\"><title>{}</title></head>\n"
                  "<body style=\"font-family:{};max-width:860px;margin:2em "
                  "auto\">\n<h1>{}</h1>\n<p>{}</p>\n{}"
                  "</body></html>\n",
                  zh ? "zh" : "en", h(r.scenario_name), h(svg::font_family), h(r.scenario_name),
                  h(fmt::format(zh ? "参数扫描: 每个网格点 {} 次抽样, 种子 {} (各点共用随机数)"
                                   : "Sweep: {} draws per grid point, seed {} (common random "
                                     "numbers across points)",
                                r.draws, r.seed)),
                  figures));
}

}  // namespace countysim::report_detail
