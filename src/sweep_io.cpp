#include "countysim/sweep_io.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "countysim/errors.hpp"
#include "countysim/h5.hpp"
#include "countysim/output_file.hpp"
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

SweepResult read_sweep(const std::string& path) {
  if (!is_sweep_file(path))
    throw InputError(
        {Diagnostic{path,
                    {},
                    fmt::format("not a countysim sweep file (schema {}); write one with countysim "
                                "sweep",
                                sweep_schema)}},
        InputKind::sweep);
  h5::Handle f = h5::open_file(path);
  SweepResult r;
  r.scenario_path = h5::read_attribute_string(f, "scenario_file");
  r.scenario_name = h5::read_attribute_string(f, "scenario_name");
  r.scenario_yaml = h5::read_attribute_string(f, "scenario_yaml");
  r.seed = h5::read_attribute<std::uint64_t>(f, "seed");
  r.draws = h5::read_attribute<std::uint64_t>(f, "draws");
  for (int a = 0; a < 2; ++a) {
    const std::string name = fmt::format("vary_{}", a);
    if (!h5::exists(f, name)) break;
    h5::Handle d = h5::open_dataset(f, name);
    r.axes.push_back({h5::read_attribute_string(d, "path"), h5::read_dataset<double>(f, name)});
  }
  r.target_ids = h5::read_dataset<std::string>(f, "target");
  r.target_labels = h5::read_dataset<std::string>(f, "target_label");
  r.probability = h5::read_dataset<double>(f, "probability");
  r.std_error = h5::read_dataset<double>(f, "std_error");
  r.all_met = h5::read_dataset<double>(f, "all_met_probability");
  r.all_met_std_error = h5::read_dataset<double>(f, "all_met_std_error");
  if (r.axes.empty() || r.probability.size() != r.points() * r.target_ids.size() ||
      r.all_met.size() != r.points())
    throw InputError({Diagnostic{path, {}, "sweep file with inconsistent dataset shapes"}},
                     InputKind::sweep);
  return r;
}

}  // namespace countysim
