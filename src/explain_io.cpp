// explain.h5 (explain.hpp, docs/explain.md): the indices labelled for xarray
// (dimension scales on every axis), written through h5.hpp under a temporary
// name and published by output_file.
#include <fmt/format.h>

#include <filesystem>

#include "countysim/errors.hpp"
#include "countysim/explain.hpp"
#include "countysim/h5.hpp"
#include "countysim/output_file.hpp"
#include "countysim/version.hpp"

namespace countysim {

void write_explain_h5(const ExplainResult& r, const std::string& path, bool force) {
  prepare_output(path, force);
  TempFile tmp(path);
  {
    h5::quiet();
    h5::Handle file = h5::create_file(tmp.path());
    h5::write_attribute(file, "schema", explain_schema);
    h5::write_attribute(file, "countysim_version", version);
    h5::write_attribute(file, "results_file", r.results);
    h5::write_attribute(file, "scenario_name", r.scenario_name);
    h5::write_attribute(file, "seed", r.seed);
    h5::write_attribute(file, "draws", r.draws);
    h5::write_attribute(file, "counterfactual_draws", r.counterfactual_draws);
    h5::write_attribute(file, "weighted", static_cast<int>(r.weighted));

    const std::size_t nt = r.targets.size();
    std::vector<std::string> ids, labels, inputs;
    std::vector<std::uint8_t> is_group;
    for (const auto& t : r.targets) {
      ids.push_back(t.target);
      labels.push_back(t.label);
    }
    for (const auto& i : r.targets.front().keys) {
      inputs.push_back(i.key);
      is_group.push_back(0);
    }
    for (const auto& i : r.targets.front().groups) {
      inputs.push_back(i.key);
      is_group.push_back(1);
    }
    const std::size_t ni = inputs.size();
    h5::Handle target = h5::make_dimension_scale(file, "target", ids);
    h5::Handle input = h5::make_dimension_scale(file, "input", inputs);
    h5::Handle output =
        h5::make_dimension_scale(file, "output", std::vector<std::string>{"value", "met"});
    auto put = [&](const std::string& name, const auto& data, const std::vector<std::size_t>& shp,
                   const std::vector<hid_t>& dims, const char* units,
                   const std::string& long_name) {
      h5::Handle d = h5::write_dataset(file, name, data, shp);
      h5::write_attribute(d, "units", units);
      h5::write_attribute(d, "long_name", long_name);
      h5::attach_scales(d, dims);
    };
    put("target_label", labels, {nt}, {target.get()}, "", "target name");
    put("input_is_group", is_group, {ni}, {input.get()}, "",
        "1: a per-year input grouped by path (sum of normal scores of its years)");

    // [target, input, output] and [target, input].
    auto each = [&](auto get) {
      std::vector<double> v;
      for (const auto& t : r.targets) {
        for (const auto& i : t.keys) get(i, v);
        for (const auto& i : t.groups) get(i, v);
      }
      return v;
    };
    const std::vector<hid_t> tio{target.get(), input.get(), output.get()},
        ti{target.get(), input.get()};
    auto by_output = [&](auto field) {
      return each([&](const InputImportance& i, std::vector<double>& v) {
        v.push_back(field(i.value));
        v.push_back(field(i.met));
      });
    };
    put("spearman", by_output([](const IndexSet& s) { return s.spearman; }), {nt, ni, 2}, tio, "1",
        "Spearman rank correlation of the input with the output");
    put("contribution_to_variance", by_output([](const IndexSet& s) { return s.contribution; }),
        {nt, ni, 2}, tio, "1", "squared rank correlation normalised over the inputs");
    put("first_order", by_output([](const IndexSet& s) { return s.first_order.index; }),
        {nt, ni, 2}, tio, "1", "first-order variance-based index (conditional means on ranks)");
    put("first_order_std_error",
        by_output([](const IndexSet& s) { return s.first_order.std_error; }), {nt, ni, 2}, tio, "1",
        "standard error of first_order (20 interleaved batches)");
    auto scalar = [&](double InputImportance::*m) {
      return each([&](const InputImportance& i, std::vector<double>& v) { v.push_back(i.*m); });
    };
    put("ks_distance", scalar(&InputImportance::ks), {nt, ni}, ti, "1",
        "Kolmogorov-Smirnov distance of the input between met and not-met draws");
    put("p_met_low_tenth", scalar(&InputImportance::p_met_low), {nt, ni}, ti, "1",
        "P(met) when the input is in its lowest tenth");
    put("p_met_low_tenth_std_error", scalar(&InputImportance::p_met_low_se), {nt, ni}, ti, "1",
        "standard error of p_met_low_tenth");
    put("p_met_high_tenth", scalar(&InputImportance::p_met_high), {nt, ni}, ti, "1",
        "P(met) when the input is in its highest tenth");
    put("p_met_high_tenth_std_error", scalar(&InputImportance::p_met_high_se), {nt, ni}, ti, "1",
        "standard error of p_met_high_tenth");

    if (!r.base_probability.empty()) {
      put("base_probability", r.base_probability, {nt}, {target.get()}, "1",
          "P(target) of the base counterfactual run");
    }
    if (!r.projects.empty()) {
      std::vector<std::string> pids, plabels;
      for (const auto& p : r.projects) {
        pids.push_back(p.project);
        plabels.push_back(p.label);
      }
      const std::size_t np = pids.size();
      h5::Handle project = h5::make_dimension_scale(file, "project", pids);
      h5::Handle cases = h5::make_dimension_scale(
          file, "case", std::vector<std::string>{"fail", "on_time", "late_12_months"});
      put("project_label", plabels, {np}, {project.get()}, "", "project name");
      auto cube = [&](double Counterfactual::*m) {
        std::vector<double> v;
        for (std::size_t k = 0; k < nt; ++k)
          for (const auto& p : r.projects)
            for (const auto* c : {&p.fail, &p.on_time, &p.late}) v.push_back((*c)[k].*m);
        return v;
      };
      const std::vector<hid_t> tpc{target.get(), project.get(), cases.get()};
      put("project_probability", cube(&Counterfactual::probability), {nt, np, 3}, tpc, "1",
          "P(target) with the project forced to the case");
      put("project_difference", cube(&Counterfactual::difference), {nt, np, 3}, tpc, "1",
          "paired difference from base_probability");
      put("project_std_error", cube(&Counterfactual::std_error), {nt, np, 3}, tpc, "1",
          "paired standard error of project_difference");
      put("project_unpaired_std_error", cube(&Counterfactual::unpaired_std_error), {nt, np, 3}, tpc,
          "1", "unpaired standard error, for comparison");
    }
    std::vector<const LeverEffect*> levers;
    for (const auto& l : r.levers)
      if (l.evaluated) levers.push_back(&l);
    if (!levers.empty()) {
      std::vector<std::string> paths;
      std::vector<double> steps, means, diff, se;
      for (const auto* l : levers) {
        paths.push_back(l->path);
        steps.push_back(l->step);
        means.push_back(l->mean_value);
      }
      for (std::size_t k = 0; k < nt; ++k)
        for (const auto* l : levers) {
          diff.push_back(l->change[k].difference);
          se.push_back(l->change[k].std_error);
        }
      const std::size_t nl = levers.size();
      h5::Handle lever = h5::make_dimension_scale(file, "lever", paths);
      put("lever_mean_value", means, {nl}, {lever.get()}, "as in the scenario",
          "mean of the lever over its years");
      put("lever_step", steps, {nl}, {lever.get()}, "as in the scenario",
          "step: 10% of lever_mean_value (every value scaled by 1.1)");
      put("lever_difference", diff, {nt, nl}, {target.get(), lever.get()}, "1",
          "paired change in P(target) per step");
      put("lever_std_error", se, {nt, nl}, {target.get(), lever.get()}, "1",
          "paired standard error of lever_difference");
    }
    target.reset();
    input.reset();
    output.reset();
    file.close(tmp.path());
  }
  tmp.publish(force);
}

}  // namespace countysim

namespace countysim {

namespace {

[[noreturn]] void bad_explain(const std::string& path, const std::string& message) {
  throw InputError({Diagnostic{path, {}, message}}, InputKind::results);
}

}  // namespace

ExplainResult read_explain_h5(const std::string& path) {
  if (!h5::is_hdf5_file(path)) bad_explain(path, "not an HDF5 file");
  h5::quiet();
  try {
    const h5::Handle f = h5::open_file(path);
    if (!h5::has_attribute(f, "schema") || h5::read_attribute_string(f, "schema") != explain_schema)
      bad_explain(path, fmt::format("not an explain file (schema '{}' expected)", explain_schema));
    ExplainResult r;
    r.results = h5::read_attribute_string(f, "results_file");
    r.scenario_name = h5::read_attribute_string(f, "scenario_name");
    r.seed = h5::read_attribute<std::uint64_t>(f, "seed");
    r.draws = h5::read_attribute<std::uint64_t>(f, "draws");
    r.counterfactual_draws = h5::read_attribute<std::uint64_t>(f, "counterfactual_draws");
    const auto ids = h5::read_dataset<std::string>(f, "target");
    const auto labels = h5::read_dataset<std::string>(f, "target_label");
    const auto inputs = h5::read_dataset<std::string>(f, "input");
    const auto group = h5::read_dataset<std::uint8_t>(f, "input_is_group");
    const std::size_t nt = ids.size(), ni = inputs.size();
    auto cube = [&](const char* name, std::size_t per) {
      auto v = h5::read_dataset<double>(f, name);
      if (v.size() != nt * ni * per)
        bad_explain(path, fmt::format("damaged explain file: /{} has {} values", name, v.size()));
      return v;
    };
    const auto rho = cube("spearman", 2), con = cube("contribution_to_variance", 2),
               s = cube("first_order", 2), se = cube("first_order_std_error", 2),
               ks = cube("ks_distance", 1), pl = cube("p_met_low_tenth", 1),
               pls = cube("p_met_low_tenth_std_error", 1), ph = cube("p_met_high_tenth", 1),
               phs = cube("p_met_high_tenth_std_error", 1);
    if (labels.size() != nt || group.size() != ni) bad_explain(path, "damaged explain file");
    for (std::size_t k = 0; k < nt; ++k) {
      TargetImportance t;
      t.target = ids[k];
      t.label = labels[k];
      for (std::size_t i = 0; i < ni; ++i) {
        InputImportance ii;
        ii.key = inputs[i];
        ii.group = group[i] != 0;
        const std::size_t a = (k * ni + i) * 2, b = k * ni + i;
        ii.value = {rho[a], con[a], {s[a], se[a]}};
        ii.met = {rho[a + 1], con[a + 1], {s[a + 1], se[a + 1]}};
        ii.ks = ks[b];
        ii.p_met_low = pl[b];
        ii.p_met_low_se = pls[b];
        ii.p_met_high = ph[b];
        ii.p_met_high_se = phs[b];
        (ii.group ? t.groups : t.keys).push_back(ii);
      }
      r.targets.push_back(std::move(t));
    }
    if (h5::is_dataset(f, "base_probability"))
      r.base_probability = h5::read_dataset<double>(f, "base_probability");
    if (h5::is_dataset(f, "project_probability")) {
      const auto pids = h5::read_dataset<std::string>(f, "project");
      const auto plabels = h5::read_dataset<std::string>(f, "project_label");
      const std::size_t np = pids.size();
      auto read = [&](const char* name) {
        auto v = h5::read_dataset<double>(f, name);
        if (v.size() != nt * np * 3 || plabels.size() != np)
          bad_explain(path, fmt::format("damaged explain file: /{}", name));
        return v;
      };
      const auto p = read("project_probability"), d = read("project_difference"),
                 e = read("project_std_error"), u = read("project_unpaired_std_error");
      for (std::size_t j = 0; j < np; ++j) {
        ProjectCriticality pc;
        pc.project = pids[j];
        pc.label = plabels[j];
        for (std::size_t k = 0; k < nt; ++k)
          for (int c = 0; c < 3; ++c) {
            const std::size_t at = (k * np + j) * 3 + c;
            (c == 0   ? pc.fail
             : c == 1 ? pc.on_time
                      : pc.late)
                .push_back({p[at], d[at], e[at], u[at]});
          }
        r.projects.push_back(std::move(pc));
      }
    }
    return r;
  } catch (const RunError& e) {
    bad_explain(path, std::string("damaged explain file: ") + e.what());
  }
}

}  // namespace countysim
