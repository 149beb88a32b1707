#include "countysim/sweep_io.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <utility>
#include <vector>

#include "countysim/errors.hpp"
#include "countysim/h5.hpp"
#include "countysim/output_file.hpp"
#include "countysim/scenario_schema.hpp"
#include "countysim/version.hpp"

namespace countysim {

void write_sweep(const SweepResult& r, const std::string& path, bool force,
                 const std::string& command_line) {
  prepare_output(path, force);
  TempFile tmp(path);
  {
    h5::quiet();
    h5::Handle file = h5::create_file(tmp.path());
    h5::write_attribute(file, "schema", sweep_schema);
    h5::write_attribute(file, "scenario_name", r.scenario_name);
    h5::write_attribute(file, "scenario_file", r.scenario_path);
    h5::write_attribute(file, "scenario_yaml", r.scenario_yaml);
    h5::write_attribute(file, "command_line", command_line);
    h5::write_attribute(file, "seed", r.seed);
    h5::write_attribute(file, "draws", r.draws);
    h5::write_attribute(file, "common_random_numbers", "every grid point uses the same seed");

    std::vector<h5::Handle> scales;
    std::vector<std::size_t> shape;
    for (std::size_t a = 0; a < r.axes.size(); ++a) {
      h5::Handle s = h5::make_dimension_scale(file, fmt::format("vary_{}", a), r.axes[a].values);
      h5::write_attribute(s, "path", r.axes[a].path);
      h5::write_attribute(s, "long_name", r.axes[a].path);
      scales.push_back(std::move(s));
      shape.push_back(r.axes[a].values.size());
    }
    h5::Handle target = h5::make_dimension_scale(file, "target", r.target_ids);
    h5::Handle label = h5::write_dataset(file, "target_label", r.target_labels);
    h5::attach_scales(label, {target.get()});

    std::vector<hid_t> grid_ids;
    for (const auto& s : scales) grid_ids.push_back(s.get());
    std::vector<hid_t> full_ids = grid_ids;
    full_ids.push_back(target.get());
    std::vector<std::size_t> full_shape = shape;
    full_shape.push_back(r.target_ids.size());

    auto put = [&](const std::string& name, const std::vector<double>& data,
                   const std::vector<std::size_t>& shp, const std::vector<hid_t>& ids,
                   const std::string& long_name) {
      h5::Handle d = h5::write_dataset(file, name, data, shp);
      h5::write_attribute(d, "units", "1");
      h5::write_attribute(d, "long_name", long_name);
      h5::attach_scales(d, ids);
    };
    put("probability", r.probability, full_shape, full_ids,
        "probability that the target is met at the grid point");
    put("std_error", r.std_error, full_shape, full_ids, "binomial standard error of probability");
    put("all_met_probability", r.all_met, shape, grid_ids,
        "probability that all targets are met together");
    put("all_met_std_error", r.all_met_std_error, shape, grid_ids,
        "binomial standard error of all_met_probability");
    label.reset();
    target.reset();
    scales.clear();
    file.close(tmp.path());
  }
  tmp.publish(force);
}

bool is_sweep_file(const std::string& path) {
  if (!h5::is_hdf5_file(path)) return false;
  try {
    h5::Handle f = h5::open_file(path);
    return h5::has_attribute(f, "schema") && h5::read_attribute_string(f, "schema") == sweep_schema;
  } catch (const RunError&) {
    return false;
  }
}

namespace {

[[noreturn]] void bad_sweep(const std::string& path, const std::string& message) {
  throw InputError({Diagnostic{path, {}, message}}, InputKind::sweep);
}

bool is_probability(double p) {
  return std::isfinite(p) && p >= 0.0 && p <= 1.0;
}

SweepResult load_sweep(const std::string& path, hid_t f) {
  auto damaged = [&](const std::string& m) { bad_sweep(path, "damaged sweep file: " + m); };
  const std::string link = h5::non_hard_link(f);
  if (!link.empty())
    bad_sweep(path, fmt::format("{} (refused: a sweep file is self-contained); give a sweep file "
                                "written by `countysim sweep`",
                                link));
  SweepResult r;
  r.scenario_path = h5::read_attribute_string(f, "scenario_file");
  r.scenario_name = h5::read_attribute_string(f, "scenario_name");
  r.scenario_yaml = h5::read_attribute_string(f, "scenario_yaml");
  r.seed = h5::read_attribute<std::uint64_t>(f, "seed");
  const auto draws = h5::read_attribute<std::int64_t>(f, "draws");
  if (draws < 1 || draws > schema::kMaxDraws)
    damaged(fmt::format("attribute draws = {}; expected 1 to {}", draws, schema::kMaxDraws));
  r.draws = static_cast<std::uint64_t>(draws);
  auto read_1d = [&](const std::string& name) {
    if (!h5::is_dataset(f, name)) damaged(fmt::format("no dataset /{}", name));
    std::vector<std::size_t> shape;
    auto v = h5::read_dataset<double>(f, name, &shape);
    if (shape.size() != 1)
      damaged(fmt::format("/{} has {} dimensions; expected 1", name, shape.size()));
    return v;
  };
  std::vector<std::size_t> grid;
  for (int a = 0; a < 2; ++a) {
    const std::string name = fmt::format("vary_{}", a);
    if (!h5::exists(f, name)) break;
    h5::Handle d = h5::open_dataset(f, name);
    SweepAxis axis{h5::read_attribute_string(d, "path"), read_1d(name)};
    if (axis.values.empty())
      damaged(fmt::format("/{} (the values of {}) is empty", name, axis.path));
    for (const double v : axis.values)
      if (!std::isfinite(v)) damaged(fmt::format("/{} holds {}; expected finite numbers", name, v));
    grid.push_back(axis.values.size());
    r.axes.push_back(std::move(axis));
  }
  if (r.axes.empty()) damaged("no dataset /vary_0 (the varied lever)");
  if (!h5::is_dataset(f, "target")) damaged("no dataset /target");
  std::vector<std::size_t> shape;
  r.target_ids = h5::read_dataset<std::string>(f, "target", &shape);
  if (shape.size() != 1) damaged("/target is not a list");
  r.target_labels = h5::read_dataset<std::string>(f, "target_label", &shape);
  if (shape.size() != 1 || r.target_labels.size() != r.target_ids.size())
    damaged(fmt::format("/target_label has {} labels for {} targets", r.target_labels.size(),
                        r.target_ids.size()));
  std::vector<std::size_t> full = grid;
  full.push_back(r.target_ids.size());
  auto values = [&](const char* name, const std::vector<std::size_t>& expect) {
    if (!h5::is_dataset(f, name)) damaged(fmt::format("no dataset /{}", name));
    std::vector<std::size_t> got;
    auto v = h5::read_dataset<double>(f, name, &got);
    if (got != expect)
      damaged(fmt::format("/{} has shape [{}]; expected [{}] (the grid, then targets)", name,
                          fmt::join(got, ", "), fmt::join(expect, ", ")));
    for (const double p : v)
      if (!is_probability(p))
        damaged(fmt::format("/{} holds {}; expected numbers in [0, 1]", name, p));
    return v;
  };
  r.probability = values("probability", full);
  r.std_error = values("std_error", full);
  r.all_met = values("all_met_probability", grid);
  r.all_met_std_error = values("all_met_std_error", grid);
  return r;
}

}  // namespace

SweepResult read_sweep(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    bad_sweep(path, "not a regular file; give a sweep file written by `countysim sweep`");
  if (!is_sweep_file(path))
    bad_sweep(path, fmt::format("not a countysim sweep file (schema {}); write one with countysim "
                                "sweep",
                                sweep_schema));
  h5::quiet();
  try {
    h5::Handle f = h5::open_file(path);
    return load_sweep(path, f);
  } catch (const RunError& e) {
    bad_sweep(path, fmt::format("damaged sweep file: {}", e.what()));
  }
}

}  // namespace countysim
