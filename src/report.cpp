#include "countysim/report.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <type_traits>

#include "countysim/batch.hpp"
#include "countysim/csv.hpp"
#include "countysim/errors.hpp"
#include "countysim/metrics.hpp"
#include "countysim/utf8.hpp"
#include "report_chart.hpp"
#include "report_explain.hpp"

namespace countysim {

namespace fs = std::filesystem;
using report_detail::Chart;

namespace {
// Project months beyond the horizon (at most 50 years) plus generous delays.
constexpr double kMaxMonth = 12.0 * 200;
}  // namespace

ReportData load_report_data(const ResultsReader& r) {
  ReportData d;
  d.info = r.info();
  d.coords = r.coords();
  d.targets = r.targets();
  for (const auto& m : r.summary_metrics()) d.summaries.emplace(m, r.summary(m));

  auto columns = [&](const std::string& name, auto& out, std::size_t expect_cols) {
    using Col = typename std::decay_t<decltype(out)>::value_type;
    if (!r.has_dataset("draws", name)) return;
    std::vector<std::size_t> shape;
    std::vector<double> v = r.read_dataset("draws", name, &shape);
    if (shape.size() != 2 || shape[1] != expect_cols) return;
    out.assign(shape[1], Col(shape[0]));
    for (std::size_t i = 0; i < shape[0]; ++i)
      for (std::size_t j = 0; j < shape[1]; ++j) {
        double x = v[i * shape[1] + j];
        if constexpr (std::is_same_v<typename Col::value_type, int>) {
          // Months from the first projection year, -1 for none: a file with
          // others is damaged (the timing chart counts months in an array).
          if (std::isfinite(x) && (x < -1 || x > kMaxMonth))
            throw InputError({Diagnostic{r.path(),
                                         {},
                                         fmt::format("damaged results file: /draws/{} holds {}; "
                                                     "expected months from -1 to {}",
                                                     name, x, kMaxMonth)}},
                             InputKind::results);
          out[j][i] = std::isfinite(x) ? static_cast<int>(std::lround(x)) : -1;
        } else
          out[j][i] = x;
      }
  };
  columns("target_value", d.target_values, d.targets.rows.size());
  columns("project_start_month", d.project_start, d.coords.project.size());
  columns("project_production_month", d.project_production, d.coords.project.size());

  // Cluster outputs in the last year: the whole dataset is read, so only when
  // it is of modest size (128 MiB as double).
  if (r.has_dataset("draws", "cluster_output") && d.coords.year.size() > 0 &&
      d.info.draws * d.coords.year.size() * d.coords.cluster.size() <= (16u << 20)) {
    std::vector<std::size_t> shape;
    std::vector<double> v = r.read_dataset("draws", "cluster_output", &shape);
    if (shape.size() == 3) {
      std::size_t nd = shape[0], ny = shape[1], nc = shape[2];
      d.cluster_last_output.assign(nc, std::vector<double>(nd));
      for (std::size_t i = 0; i < nd; ++i)
        for (std::size_t c = 0; c < nc; ++c)
          d.cluster_last_output[c][i] = v[(i * ny + ny - 1) * nc + c];
    }
  }
  return d;
}

namespace {

// Moves the rendered files of `tmp` into `out_dir` (renamed as a whole when
// out_dir does not exist yet), then removes `tmp`.
void publish_report_dir(const fs::path& tmp, const fs::path& out_dir) {
  std::error_code ec;
  if (!fs::exists(out_dir, ec)) {
    if (out_dir.has_parent_path()) fs::create_directories(out_dir.parent_path(), ec);
    fs::rename(tmp, out_dir, ec);
    if (!ec) return;
  }
  for (const auto& entry : fs::directory_iterator(tmp)) {
    fs::rename(entry.path(), out_dir / entry.path().filename(), ec);
    if (ec)
      throw RunError(fmt::format("{}: cannot move {} into the report folder: {}", out_dir.string(),
                                 entry.path().filename().string(), ec.message()));
  }
  fs::remove_all(tmp, ec);
}

// Renders into a fresh folder beside the target and moves it into place only
// when every file succeeded: a failure leaves no partial folder, and an
// existing folder's files stay as they were.
template <class Render>
std::vector<std::string> in_fresh_dir(const std::string& out_dir, Render render) {
  std::string dir = out_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw RunError(
        fmt::format("{}: cannot create the report folder: a file of that name exists", out_dir));
  const fs::path tmp = fmt::format("{}.tmp.{}", dir, ::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec)
    throw RunError(fmt::format("{}: cannot create the report folder: {}", out_dir, ec.message()));
  std::vector<std::string> files;
  try {
    files = render(tmp.string());
    publish_report_dir(tmp, dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  return files;
}

// Saves the charts, the run's tables, index.html and (options.pdf) the handout.
std::vector<std::string> write_pack(const ReportData& d, const std::vector<Chart>& charts,
                                    const std::string& out_dir, Lang lang, const ReportOptions& opt,
                                    const std::vector<report_detail::Link>& extra_links = {}) {
  using namespace report_detail;
  std::vector<std::string> files = save_charts(charts, out_dir, opt);
  auto in_dir = [&](const char* name) { return (fs::path(out_dir) / name).string(); };
  write_targets_csv(d, in_dir("targets.csv"), lang);
  files.push_back("targets.csv");
  write_quantiles_csv(d, in_dir("quantiles.csv"), lang);
  files.push_back("quantiles.csv");
  if (!d.coords.project.empty()) {
    write_timing_csv(d, in_dir("project_timing.csv"), lang);
    files.push_back("project_timing.csv");
  }
  std::vector<Link> links = extra_links;
  if (opt.pdf) {
    std::vector<std::string> svgs;
    for (const auto& c : charts) svgs.push_back((fs::path(out_dir) / (c.stem + ".svg")).string());
    write_pdf(svgs, in_dir("handout.pdf"));
    files.push_back("handout.pdf");
    links.insert(links.begin(), {"handout.pdf", tr(lang, "讲义：全部幻灯片（PDF，会议顺序）",
                                                   "handout: every slide in meeting order (PDF)")});
  }
  write_index(d, charts, in_dir("index.html"), lang, opt, links);
  files.push_back("index.html");
  return files;
}

}  // namespace

namespace report_detail {

std::vector<Chart> run_charts(const ReportData& d, Lang lang) {
  std::vector<Chart> charts = summary_charts(d, lang);
  charts.push_back(dashboard_chart(d, lang));
  // Headline metrics, then any other yearly metric a target uses.
  std::vector<std::string> fans;
  for (const auto& m : headline_metrics())
    if (d.summaries.count(m)) fans.push_back(m);
  for (const auto& t : d.targets.rows) {
    auto it = d.summaries.find(t.metric);
    if (it != d.summaries.end() && it->second.dims.size() == 1 &&
        std::find(fans.begin(), fans.end(), t.metric) == fans.end())
      fans.push_back(t.metric);
  }
  for (const auto& m : fans) charts.push_back(fan_chart(d, m, lang));
  // A target no draw met has no distribution worth a slide: the summary
  // names it instead.
  for (std::size_t i = 0; i < d.targets.rows.size(); ++i)
    if (d.targets.rows[i].probability > 0 || d.info.draws == 0)
      charts.push_back(target_chart(d, i, lang));
  if (d.summaries.count("cluster_output") && !d.coords.cluster.empty())
    charts.push_back(cluster_chart(d, lang));
  // explain's charts when an explain file sits beside the results (docs/explain.md).
  if (const std::string ex = explain_file_beside(d.source); !ex.empty())
    for (auto& c : explain_charts(read_explain_h5(ex), lang)) charts.push_back(std::move(c));
  if (!d.coords.project.empty() && d.project_start.size() == d.coords.project.size())
    for (auto& c : project_charts(d, lang)) charts.push_back(std::move(c));
  return charts;
}

}  // namespace report_detail

std::vector<std::string> render_report(const ReportData& d, const std::string& out_dir, Lang lang,
                                       const ReportOptions& opt) {
  if (d.coords.year.empty()) throw RunError("results file has no years");
  return in_fresh_dir(out_dir, [&](const std::string& tmp) {
    return write_pack(d, report_detail::run_charts(d, lang), tmp, lang, opt);
  });
}

std::vector<std::string> write_study_report(const std::vector<std::string>& paths,
                                            const std::string& out_dir, Lang lang,
                                            const ReportOptions& opt,
                                            const std::vector<std::string>& names) {
  using namespace report_detail;
  if (paths.empty()) throw UsageError("report: no results file given");
  std::vector<ReportData> data(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    {
      ResultsReader reader(paths[i]);
      data[i] = load_report_data(reader);
    }
    data[i].source = paths[i];
    if (data[i].coords.year.empty()) throw RunError(paths[i] + ": results file has no years");
  }
  std::vector<std::string> slide_names;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    std::string n = i < names.size() && !names[i].empty() ? names[i] : data[i].info.scenario_name;
    // English slides name a run with a Chinese scenario name by its file.
    if (lang == Lang::en && !utf8::is_ascii(n)) n = fs::path(paths[i]).stem().string();
    slide_names.push_back(n);
  }
  slide_names = short_run_names(slide_names);
  auto name_of = [&](std::size_t i) { return slide_names[i]; };
  std::vector<CompareRun> alts;
  std::vector<Comparison> comparisons;
  for (std::size_t i = 1; i < paths.size(); ++i) {
    comparisons.push_back(compare_results(paths[0], paths[i]));
    alts.push_back({name_of(i), &data[i], comparisons.back()});
  }
  std::vector<Chart> charts = run_charts(data[0], lang);
  for (auto& c : compare_charts(data[0], name_of(0), alts, lang)) charts.push_back(std::move(c));
  for (std::size_t i = 1; i < paths.size(); ++i)
    for (auto& c : summary_charts(data[i], lang, fmt::format("alt{}-summary", i)))
      charts.push_back(std::move(c));
  std::vector<std::string> run_names;
  for (std::size_t i = 0; i < paths.size(); ++i) run_names.push_back(name_of(i));
  return in_fresh_dir(out_dir, [&](const std::string& tmp) {
    std::vector<Link> links;
    if (!comparisons.empty()) {
      write_text_file((fs::path(tmp) / "comparison.csv").string(),
                      format_study_csv(run_names, comparisons, csv_excel));
      links.push_back({"comparison.csv", tr(lang, "各方案目标概率与配对变化（CSV）",
                                            "every scenario's target probabilities and paired "
                                            "changes (CSV)")});
    }
    auto files = write_pack(data[0], charts, tmp, lang, opt, links);
    if (!comparisons.empty()) files.push_back("comparison.csv");
    return files;
  });
}

void write_report(const std::string& h5_path, const std::string& out_dir, const std::string& lang,
                  bool pdf) {
  Lang l = parse_lang(lang);
  ReportOptions opt;
  opt.pdf = pdf;
  ReportData d;
  {
    ResultsReader reader(h5_path);
    d = load_report_data(reader);
  }
  d.source = h5_path;
  render_report(d, out_dir, l, opt);
}

}  // namespace countysim
