#include "countysim/report.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <type_traits>

#include "countysim/errors.hpp"
#include "countysim/metrics.hpp"
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

std::vector<std::string> render_into(const ReportData& d, const std::string& out_dir, Lang lang,
                                     const ReportOptions& opt);

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

}  // namespace

std::vector<std::string> render_report(const ReportData& d, const std::string& out_dir, Lang lang,
                                       const ReportOptions& opt) {
  if (d.coords.year.empty()) throw RunError("results file has no years");
  // Rendered into a fresh folder beside the target and moved into place only
  // when every file succeeded: a failure leaves no partial folder, and an
  // existing folder's files stay as they were.
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
    files = render_into(d, tmp.string(), lang, opt);
    publish_report_dir(tmp, dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  return files;
}

namespace {

std::vector<std::string> render_into(const ReportData& d, const std::string& out_dir, Lang lang,
                                     const ReportOptions& opt) {
  using namespace report_detail;

  std::vector<Chart> charts;
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
  for (std::size_t i = 0; i < d.targets.rows.size(); ++i)
    charts.push_back(target_chart(d, i, lang));
  if (d.summaries.count("cluster_output") && !d.coords.cluster.empty())
    charts.push_back(cluster_chart(d, lang));
  if (!d.coords.project.empty() && d.project_start.size() == d.coords.project.size())
    for (auto& c : project_charts(d, lang)) charts.push_back(std::move(c));
  // explain's charts when an explain file sits beside the results (docs/explain.md).
  if (const std::string ex = explain_file_beside(d.source); !ex.empty())
    for (auto& c : explain_charts(read_explain_h5(ex), lang)) charts.push_back(std::move(c));

  std::vector<std::string> files = save_charts(charts, out_dir, opt);
  auto in_dir = [&](const char* name) { return (fs::path(out_dir) / name).string(); };
  write_targets_csv(d, in_dir("targets.csv"));
  files.push_back("targets.csv");
  write_quantiles_csv(d, in_dir("quantiles.csv"));
  files.push_back("quantiles.csv");
  if (!d.coords.project.empty()) {
    write_timing_csv(d, in_dir("project_timing.csv"));
    files.push_back("project_timing.csv");
  }
  write_index(d, charts, in_dir("index.html"), lang, opt);
  files.push_back("index.html");
  return files;
}

}  // namespace

void write_report(const std::string& h5_path, const std::string& out_dir, const std::string& lang) {
  Lang l = parse_lang(lang);
  ReportData d;
  {
    ResultsReader reader(h5_path);
    d = load_report_data(reader);
  }
  d.source = h5_path;
  render_report(d, out_dir, l);
}

}  // namespace countysim
