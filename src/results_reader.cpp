// Results files, the reading half (layout in docs/results-format.md): behind
// `summary`, `report` and `compare`. Anything wrong with the file is bad input
// (InputError, kind results), never an internal error.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>

#include "countysim/errors.hpp"
#include "countysim/h5.hpp"
#include "countysim/results_io.hpp"
#include "countysim/version.hpp"

namespace countysim {

struct ResultsReader::Impl {
  std::string path;
  RunInfo info;
  Coordinates coords;
  h5::Handle file;

  [[noreturn]] void bad(const std::string& message) const {
    throw InputError({Diagnostic{path, {}, message}}, InputKind::results);
  }
  // HDF5 failures past the schema check mean a damaged or foreign file: bad input.
  template <class F>
  auto guard(F&& f) const {
    h5::quiet();
    try {
      return f();
    } catch (const RunError& e) {
      bad(fmt::format("damaged results file: {}", e.what()));
    }
  }
  void load();
};

void ResultsReader::Impl::load() {
  const hid_t f = file;
  info.countysim_version = h5::read_attribute_string(f, "countysim_version");
  info.schema = h5::read_attribute_string(f, "schema");
  info.scenario_schema = h5::read_attribute_string(f, "scenario_schema");
  info.scenario_name = h5::read_attribute_string(f, "scenario_name");
  info.scenario_file = h5::read_attribute_string(f, "scenario_file");
  info.scenario_yaml = h5::read_attribute_string(f, "scenario_yaml");
  info.created = h5::read_attribute_string(f, "created");
  info.command_line = h5::read_attribute_string(f, "command_line");
  info.seed = h5::read_attribute<std::uint64_t>(f, "seed");
  info.draws = h5::read_attribute<std::uint64_t>(f, "draws");
  info.base_year = h5::read_attribute<int>(f, "base_year");
  info.last_year = h5::read_attribute<int>(f, "last_year");

  auto strings = [&](const char* name) { return h5::read_dataset<std::string>(f, name); };
  coords.year = h5::read_dataset<int>(f, "year");
  coords.projection_year = h5::read_dataset<int>(f, "projection_year");
  coords.cluster = strings("cluster");
  coords.cluster_label = strings("cluster_label");
  coords.cluster_group = strings("cluster_group");
  coords.cluster_manufacturing = h5::read_dataset<std::uint8_t>(f, "cluster_manufacturing");
  coords.project = strings("project");
  coords.project_label = strings("project_label");
  coords.project_cluster = strings("project_cluster");
  coords.project_planned_start_month = h5::read_dataset<int>(f, "project_planned_start_month");
  coords.target = strings("target");
  coords.target_label = strings("target_label");
  coords.quantile = h5::read_dataset<double>(f, "quantile");
}

ResultsReader::ResultsReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  h5::quiet();
  Impl& m = *impl_;
  m.path = path;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    m.bad("no such file; give a results file written by `countysim run`");
  if (std::filesystem::is_directory(path, ec))
    m.bad("is a folder; give a results file written by `countysim run`");
  if (!h5::is_hdf5_file(path)) {
    m.bad("not an HDF5 file; give a results file written by `countysim run`");
  }
  m.guard([&] { m.file = h5::open_file(path); });
  if (!h5::has_attribute(m.file, "schema"))
    m.bad(
        fmt::format("not a countysim results file (no `schema` attribute on the root group); "
                    "expected schema '{}'",
                    results_schema));
  const std::string schema = m.guard([&] { return h5::read_attribute_string(m.file, "schema"); });
  if (schema != results_schema)
    m.bad(fmt::format("results schema '{}' is not supported; this countysim reads '{}'", schema,
                      results_schema));
  m.guard([&] { m.load(); });
}

ResultsReader::~ResultsReader() = default;

const RunInfo& ResultsReader::info() const {
  return impl_->info;
}

const Coordinates& ResultsReader::coords() const {
  return impl_->coords;
}

TargetTable ResultsReader::targets() const {
  const Impl& m = *impl_;
  return m.guard([&] {
    TargetTable t;
    if (!h5::is_group(m.file, "targets")) return t;
    h5::Handle g = h5::open_group(m.file, "targets");
    t.all_met_probability = h5::read_attribute<double>(g, "all_met_probability");
    t.all_met_std_error = h5::read_attribute<double>(g, "all_met_std_error");
    auto strings = [&](const char* name) { return h5::read_dataset<std::string>(g, name); };
    auto doubles = [&](const char* name) { return h5::read_dataset<double>(g, name); };
    const auto id = strings("target"), label = strings("label"), metric = strings("metric"),
               op = strings("op"), cluster = strings("cluster"), group = strings("group");
    const auto threshold = doubles("threshold"), group_threshold = doubles("group_threshold"),
               probability = doubles("probability"), std_error = doubles("std_error"),
               ci_low = doubles("ci_low"), ci_high = doubles("ci_high");
    const auto year = h5::read_dataset<int>(g, "year");
    const std::size_t n = id.size();
    for (const std::size_t size :
         {label.size(), metric.size(), op.size(), cluster.size(), group.size(), threshold.size(),
          group_threshold.size(), probability.size(), std_error.size(), ci_low.size(),
          ci_high.size(), year.size()})
      if (size != n) m.bad("damaged results file: /targets datasets differ in length");
    for (std::size_t i = 0; i < n; ++i) {
      TargetRow r;
      r.id = id[i];
      r.label = label[i];
      r.metric = metric[i];
      r.op = op[i];
      r.threshold = threshold[i];
      r.year = year[i];
      r.cluster = cluster[i];
      r.group = group[i];
      r.group_threshold = std::isnan(group_threshold[i]) ? 0.0 : group_threshold[i];
      r.probability = probability[i];
      r.std_error = std_error[i];
      r.ci_low = ci_low[i];
      r.ci_high = ci_high[i];
      t.rows.push_back(std::move(r));
    }
    return t;
  });
}

std::vector<std::string> ResultsReader::summary_metrics() const {
  const Impl& m = *impl_;
  return m.guard([&] {
    std::vector<std::string> out;
    if (!h5::is_group(m.file, "summary")) return out;
    h5::Handle g = h5::open_group(m.file, "summary");
    for (auto& name : h5::member_names(g))
      if (h5::is_group(g, name)) out.push_back(std::move(name));
    return out;
  });
}

MetricSummary ResultsReader::summary(const std::string& metric) const {
  const Impl& m = *impl_;
  return m.guard([&] {
    if (!h5::valid_name(metric) || !h5::is_group(m.file, "summary/" + metric)) {
      const std::vector<std::string> known = summary_metrics();
      m.bad(fmt::format(
          "no summary of metric '{}'; the file has: {}", metric,
          known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "))));
    }
    h5::Handle g = h5::open_group(m.file, "summary/" + metric);
    MetricSummary s;
    s.metric = metric;
    s.units = h5::read_attribute_string(g, "units");
    s.long_name = h5::read_attribute_string(g, "long_name");
    if (h5::has_attribute(g, "label_zh")) s.label_zh = h5::read_attribute_string(g, "label_zh");
    s.mean = h5::read_dataset<double>(g, "mean", &s.shape);
    {
      h5::Handle ds = h5::open_dataset(g, "mean");
      s.dims = h5::dimension_names(ds);
    }
    std::vector<std::size_t> sd_shape, q_shape;
    s.sd = h5::read_dataset<double>(g, "sd", &sd_shape);
    s.quantiles = h5::read_dataset<double>(g, "quantiles", &q_shape);
    std::vector<std::size_t> expect_q = s.shape;
    expect_q.push_back(m.coords.quantile.size());
    if (sd_shape != s.shape || q_shape != expect_q)
      m.bad(fmt::format("damaged results file: /summary/{} datasets differ in shape", metric));
    return s;
  });
}

bool ResultsReader::has_dataset(const std::string& group, const std::string& name) const {
  const Impl& m = *impl_;
  if (!h5::valid_name(group) || !h5::valid_name(name)) return false;
  return m.guard([&] { return h5::is_dataset(m.file, group + "/" + name); });
}

std::vector<double> ResultsReader::read_dataset(const std::string& group, const std::string& name,
                                                std::vector<std::size_t>* shape) const {
  const Impl& m = *impl_;
  if (!has_dataset(group, name))
    m.bad(fmt::format("no dataset /{}/{} in this results file", group, name));
  return m.guard([&] { return h5::read_dataset<double>(m.file, group + "/" + name, shape); });
}

}  // namespace countysim
