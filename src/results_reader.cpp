// Results files, the reading half (layout in docs/results-format.md): behind
// `summary`, `report` and `compare`. Anything wrong with the file is bad input
// (InputError, kind results), never an internal error.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <optional>
#include <utility>

#include "countysim/errors.hpp"
#include "countysim/h5.hpp"
#include "countysim/results_io.hpp"
#include "countysim/scenario_schema.hpp"
#include "countysim/version.hpp"

namespace countysim {

namespace {
// Years as the scenario reader accepts them (horizon.base_year).
constexpr std::int64_t kMinYear = 1000, kMaxYear = 9999;
using schema::kMaxDraws;
using schema::kMaxYears;
}  // namespace

struct ResultsReader::Impl {
  std::string path;
  RunInfo info;
  Coordinates coords;
  TargetTable targets;
  h5::Handle file;

  [[noreturn]] void bad(const std::string& message) const {
    throw InputError({Diagnostic{path, {}, message}}, InputKind::results);
  }
  [[noreturn]] void damaged(const std::string& message) const {
    bad("damaged results file: " + message);
  }
  // HDF5 failures past the schema check mean a damaged or foreign file: bad input.
  template <class F>
  auto guard(F&& f) const {
    h5::quiet();
    try {
      return f();
    } catch (const RunError& e) {
      damaged(e.what());
    }
  }
  // A 1-D dataset below `loc` (path `where` for messages), of `expect` values
  // when expect is given.
  template <class T>
  std::vector<T> read_1d(hid_t loc, const std::string& where, const char* name,
                         std::optional<std::size_t> expect = std::nullopt) const {
    if (!h5::is_dataset(loc, name)) damaged(fmt::format("no dataset {}{}", where, name));
    std::vector<std::size_t> shape;
    std::vector<T> v = h5::read_dataset<T>(loc, name, &shape);
    if (shape.size() != 1)
      damaged(fmt::format("{}{} has {} dimensions; expected 1", where, name, shape.size()));
    if (expect && v.size() != *expect)
      damaged(fmt::format("{}{} has {} values; expected {}", where, name, v.size(), *expect));
    return v;
  }
  // Size of a named dimension in this file's coordinates (nullopt: unknown).
  std::optional<std::size_t> dim_size(const std::string& dim) const {
    if (dim == "year") return coords.year.size();
    if (dim == "projection_year") return coords.projection_year.size();
    if (dim == "cluster") return coords.cluster.size();
    if (dim == "project") return coords.project.size();
    if (dim == "target") return coords.target.size();
    return std::nullopt;
  }
  // Checks that `dims` name known coordinates of sizes `shape`, from index `first`.
  void check_dims(const std::string& what, const std::vector<std::string>& dims,
                  const std::vector<std::size_t>& shape, std::size_t first) const {
    if (dims.size() != shape.size())
      damaged(
          fmt::format("{} has {} dimensions but {} are named", what, shape.size(), dims.size()));
    for (std::size_t k = first; k < dims.size(); ++k) {
      const auto size = dim_size(dims[k]);
      if (!size)
        damaged(
            fmt::format("{}: dimension {} is '{}', not one of year, projection_year, "
                        "cluster, project, target",
                        what, k, dims[k]));
      if (*size != shape[k])
        damaged(fmt::format("{}: dimension '{}' has {} values but the coordinate '{}' has {}", what,
                            dims[k], shape[k], dims[k], *size));
    }
  }
  void load();
  void load_targets();
  void load_conditioning(hid_t targets_group);
};

namespace {
bool probability(double p) {
  return std::isfinite(p) && p >= 0.0 && p <= 1.0;
}
}  // namespace

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
  const auto draws = h5::read_attribute<std::int64_t>(f, "draws");
  if (draws < 1 || draws > kMaxDraws)
    damaged(fmt::format("attribute draws = {}; expected 1 to {}", draws, kMaxDraws));
  info.draws = static_cast<std::uint64_t>(draws);
  const auto base = h5::read_attribute<std::int64_t>(f, "base_year");
  const auto last = h5::read_attribute<std::int64_t>(f, "last_year");
  if (base < kMinYear || base > kMaxYear || last <= base || last - base > kMaxYears)
    damaged(fmt::format(
        "base_year = {}, last_year = {}; expected years in {}..{}, base_year < last_year and at "
        "most {} years between them",
        base, last, kMinYear, kMaxYear, kMaxYears));
  info.base_year = static_cast<int>(base);
  info.last_year = static_cast<int>(last);

  const std::size_t years = static_cast<std::size_t>(last - base);
  coords.year = read_1d<int>(f, "/", "year", years + 1);
  coords.projection_year = read_1d<int>(f, "/", "projection_year", years);
  for (std::size_t i = 0; i <= years; ++i)
    if (coords.year[i] != info.base_year + static_cast<int>(i))
      damaged(fmt::format("/year[{}] is {}; expected {} (base_year {} + {})", i, coords.year[i],
                          info.base_year + static_cast<int>(i), info.base_year, i));
  for (std::size_t i = 0; i < years; ++i)
    if (coords.projection_year[i] != info.base_year + 1 + static_cast<int>(i))
      damaged(fmt::format("/projection_year[{}] is {}; expected {}", i, coords.projection_year[i],
                          info.base_year + 1 + static_cast<int>(i)));

  coords.cluster = read_1d<std::string>(f, "/", "cluster");
  const std::size_t nc = coords.cluster.size();
  coords.cluster_label = read_1d<std::string>(f, "/", "cluster_label", nc);
  coords.cluster_group = read_1d<std::string>(f, "/", "cluster_group", nc);
  coords.cluster_manufacturing = read_1d<std::uint8_t>(f, "/", "cluster_manufacturing", nc);
  coords.project = read_1d<std::string>(f, "/", "project");
  const std::size_t np = coords.project.size();
  coords.project_label = read_1d<std::string>(f, "/", "project_label", np);
  coords.project_cluster = read_1d<std::string>(f, "/", "project_cluster", np);
  coords.project_planned_start_month = read_1d<int>(f, "/", "project_planned_start_month", np);
  coords.target = read_1d<std::string>(f, "/", "target");
  coords.target_label = read_1d<std::string>(f, "/", "target_label", coords.target.size());
  coords.quantile = read_1d<double>(f, "/", "quantile");
  if (coords.quantile.empty()) damaged("/quantile has no values");
  for (std::size_t i = 0; i < coords.quantile.size(); ++i)
    if (!probability(coords.quantile[i]) || (i > 0 && coords.quantile[i] <= coords.quantile[i - 1]))
      damaged(fmt::format("/quantile[{}] is {}; expected increasing levels in [0, 1]", i,
                          coords.quantile[i]));
  // Every per-draw dataset has one row per draw (shapes only: nothing is read).
  for (const char* group : {"draws", "inputs"}) {
    if (!h5::is_group(f, group)) continue;
    h5::Handle g = h5::open_group(f, group);
    for (const auto& name : h5::member_names(g)) {
      // Coordinates other than draw, copied into the group for netCDF readers.
      if (name != "draw" && dim_size(name)) continue;
      if (name == "quantile" || !h5::is_dataset(g, name)) continue;
      h5::Handle ds = h5::open_dataset(g, name);
      const auto shape = h5::dataset_shape(ds);
      if (shape.empty() || shape[0] != info.draws)
        damaged(fmt::format("/{}/{} has {} rows but the attribute draws says {}", group, name,
                            shape.empty() ? 0 : shape[0], info.draws));
    }
  }
  load_targets();
  // Every summary's shapes (nothing read): a reader may trust them.
  if (h5::is_group(f, "summary")) {
    h5::Handle g = h5::open_group(f, "summary");
    for (const auto& metric : h5::member_names(g)) {
      if (!h5::is_group(g, metric)) continue;
      const std::string where = "/summary/" + metric;
      h5::Handle mg = h5::open_group(g, metric);
      std::vector<std::size_t> shape;
      for (const char* name : {"mean", "sd", "quantiles"}) {
        if (!h5::is_dataset(mg, name)) damaged(fmt::format("no dataset {}/{}", where, name));
        h5::Handle ds = h5::open_dataset(mg, name);
        std::vector<std::size_t> s = h5::dataset_shape(ds);
        if (std::string(name) == "mean") {
          check_dims(where + "/mean", h5::dimension_names(ds), s, 0);
          shape = s;
        } else {
          std::vector<std::size_t> expect = shape;
          if (std::string(name) == "quantiles") expect.push_back(coords.quantile.size());
          if (s != expect)
            damaged(fmt::format("{}/{} has shape [{}]; expected [{}]", where, name,
                                fmt::join(s, ", "), fmt::join(expect, ", ")));
        }
      }
    }
  }
}

void ResultsReader::Impl::load_targets() {
  if (!h5::is_group(file, "targets")) damaged("no /targets group");
  h5::Handle g = h5::open_group(file, "targets");
  const std::size_t n = coords.target.size();
  TargetTable& t = targets;
  t.all_met_probability = h5::read_attribute<double>(g, "all_met_probability");
  t.all_met_std_error = h5::read_attribute<double>(g, "all_met_std_error");
  if (!probability(t.all_met_probability) || !probability(t.all_met_std_error))
    damaged(
        fmt::format("/targets: all_met_probability = {}, all_met_std_error = {}; expected "
                    "numbers in [0, 1]",
                    t.all_met_probability, t.all_met_std_error));
  auto strings = [&](const char* name) { return read_1d<std::string>(g, "/targets/", name, n); };
  auto doubles = [&](const char* name) { return read_1d<double>(g, "/targets/", name, n); };
  const auto id = strings("target"), label = strings("label"), metric = strings("metric"),
             op = strings("op"), cluster = strings("cluster"), group = strings("group");
  const auto threshold = doubles("threshold"), group_threshold = doubles("group_threshold"),
             prob = doubles("probability"), std_error = doubles("std_error"),
             ci_low = doubles("ci_low"), ci_high = doubles("ci_high");
  const auto year = read_1d<int>(g, "/targets/", "year", n);
  for (std::size_t i = 0; i < n; ++i) {
    if (id[i] != coords.target[i])
      damaged(fmt::format("/targets/target[{}] is '{}' but /target[{}] is '{}'", i, id[i], i,
                          coords.target[i]));
    if (op[i] != "at_least" && op[i] != "at_most")
      damaged(fmt::format("/targets/op[{}] is '{}'; expected at_least or at_most", i, op[i]));
    if (year[i] < info.base_year || year[i] > info.last_year)
      damaged(fmt::format("/targets/year[{}] is {}; expected {}..{}", i, year[i], info.base_year,
                          info.last_year));
    if (!std::isfinite(threshold[i]))
      damaged(
          fmt::format("/targets/threshold[{}] is {}; expected a finite number", i, threshold[i]));
    for (const auto& [name, v] : {std::pair{"probability", prob[i]},
                                  {"std_error", std_error[i]},
                                  {"ci_low", ci_low[i]},
                                  {"ci_high", ci_high[i]}})
      if (!probability(v))
        damaged(fmt::format("/targets/{}[{}] is {}; expected a number in [0, 1]", name, i, v));
    TargetRow r;
    r.id = id[i];
    r.label = label[i];
    r.metric = metric[i];
    r.op = op[i];
    r.threshold = threshold[i];
    r.year = year[i];
    r.cluster = cluster[i];
    r.group = group[i];
    r.group_threshold = std::isfinite(group_threshold[i]) ? group_threshold[i] : 0.0;
    r.probability = prob[i];
    r.std_error = std_error[i];
    r.ci_low = ci_low[i];
    r.ci_high = ci_high[i];
    t.rows.push_back(std::move(r));
  }
  if (h5::exists(g, "prior_probability")) load_conditioning(g);
}

// v2: a conditioned run (results.md "Additions for outturns").
void ResultsReader::Impl::load_conditioning(hid_t g) {
  TargetTable& t = targets;
  const std::size_t n = t.rows.size();
  const auto prior = read_1d<double>(g, "/targets/", "prior_probability", n);
  const auto prior_se = read_1d<double>(g, "/targets/", "prior_std_error", n);
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& [name, v] :
         {std::pair{"prior_probability", prior[i]}, {"prior_std_error", prior_se[i]}})
      if (!probability(v))
        damaged(fmt::format("/targets/{}[{}] is {}; expected a number in [0, 1]", name, i, v));
    t.rows[i].prior_probability = prior[i];
    t.rows[i].prior_std_error = prior_se[i];
  }
  t.conditioned = true;
  t.prior_all_met_probability = h5::read_attribute<double>(g, "prior_all_met_probability");
  t.prior_all_met_std_error = h5::read_attribute<double>(g, "prior_all_met_std_error");
  if (!probability(t.prior_all_met_probability) || !probability(t.prior_all_met_std_error))
    damaged(
        fmt::format("/targets: prior_all_met_probability = {}, prior_all_met_std_error = {}; "
                    "expected numbers in [0, 1]",
                    t.prior_all_met_probability, t.prior_all_met_std_error));
  const double draws = static_cast<double>(info.draws);
  t.effective_sample_size = h5::read_attribute<double>(file, "effective_sample_size");
  // ESS <= draws (Cauchy-Schwarz), up to rounding.
  auto ess_ok = [&](double e) { return std::isfinite(e) && e >= 0 && e <= draws * (1 + 1e-9); };
  if (!ess_ok(t.effective_sample_size))
    damaged(fmt::format("attribute effective_sample_size = {}; expected a number in 0..{}",
                        t.effective_sample_size, info.draws));
  if (!h5::is_group(file, "observed")) damaged("no /observed group in a conditioned run");
  h5::Handle og = h5::open_group(file, "observed");
  const auto id = read_1d<std::string>(og, "/observed/", "observation");
  const std::size_t no = id.size();
  auto strings = [&](const char* name) { return read_1d<std::string>(og, "/observed/", name, no); };
  auto doubles = [&](const char* name) { return read_1d<double>(og, "/observed/", name, no); };
  const auto metric = strings("metric"), cluster = strings("cluster"), source = strings("source");
  const auto year = read_1d<int>(og, "/observed/", "year", no);
  const auto value = doubles("value"), sd = doubles("sd"), quantile = doubles("prior_quantile"),
             median = doubles("conditioned_median"), ess = doubles("effective_sample_size");
  for (std::size_t i = 0; i < no; ++i) {
    if (year[i] <= info.base_year || year[i] > info.last_year)
      damaged(fmt::format("/observed/year[{}] is {}; expected {}..{}", i, year[i],
                          info.base_year + 1, info.last_year));
    if (!std::isfinite(value[i]) || !std::isfinite(sd[i]) || !(sd[i] > 0))
      damaged(fmt::format(
          "/observed: value[{}] = {}, sd[{}] = {}; expected a finite value and a positive sd", i,
          value[i], i, sd[i]));
    if (!probability(quantile[i]))
      damaged(fmt::format("/observed/prior_quantile[{}] is {}; expected a number in [0, 1]", i,
                          quantile[i]));
    if (!ess_ok(ess[i]))
      damaged(fmt::format("/observed/effective_sample_size[{}] is {}; expected a number in 0..{}",
                          i, ess[i], info.draws));
    ObservationRow o;
    o.id = id[i];
    o.metric = metric[i];
    o.year = year[i];
    o.cluster = cluster[i];
    o.value = value[i];
    o.sd = sd[i];
    o.source = source[i];
    o.prior_quantile = quantile[i];
    o.conditioned_median = median[i];  // NaN allowed (a metric with NaN draws)
    o.effective_sample_size = ess[i];
    t.observations.push_back(std::move(o));
  }
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
  if (!std::filesystem::is_regular_file(path, ec))
    m.bad("not a regular file; give a results file written by `countysim run`");
  if (!h5::is_hdf5_file(path)) {
    m.bad("not an HDF5 file; give a results file written by `countysim run`");
  }
  m.guard([&] { m.file = h5::open_file(path); });
  const std::string link = m.guard([&] { return h5::non_hard_link(m.file); });
  if (!link.empty())
    m.bad(
        fmt::format("{} (refused: a results file is self-contained); give a results file "
                    "written by `countysim run`",
                    link));
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

const std::string& ResultsReader::path() const {
  return impl_->path;
}

const RunInfo& ResultsReader::info() const {
  return impl_->info;
}

const Coordinates& ResultsReader::coords() const {
  return impl_->coords;
}

TargetTable ResultsReader::targets() const {
  return impl_->targets;
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
    m.check_dims(fmt::format("/summary/{}/mean", metric), s.dims, s.shape, 0);
    std::vector<std::size_t> sd_shape, q_shape;
    s.sd = h5::read_dataset<double>(g, "sd", &sd_shape);
    s.quantiles = h5::read_dataset<double>(g, "quantiles", &q_shape);
    std::vector<std::size_t> expect_q = s.shape;
    expect_q.push_back(m.coords.quantile.size());
    if (sd_shape != s.shape || q_shape != expect_q)
      m.damaged(fmt::format("/summary/{} datasets differ in shape", metric));
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
  return m.guard([&] {
    const std::string where = fmt::format("/{}/{}", group, name);
    std::vector<std::size_t> dims;
    std::vector<double> v = h5::read_dataset<double>(m.file, group + "/" + name, &dims);
    if (dims.empty() || dims[0] != m.info.draws)
      m.damaged(fmt::format("{} has {} rows; expected one per draw ({})", where,
                            dims.empty() ? 0 : dims[0], m.info.draws));
    {
      h5::Handle ds = h5::open_dataset(m.file, group + "/" + name);
      m.check_dims(where, h5::dimension_names(ds), dims, 1);
    }
    if (shape) *shape = dims;
    return v;
  });
}

}  // namespace countysim
