// Project criticality and lever effects (explain.hpp): the merged scenario a
// results file carries, rerun with one project forced to fail, to succeed on
// time, or to succeed 12 months late, and with each numeric land and finance
// lever scaled by 1.1; every run with the file's seed, so draws pair (common
// random numbers) and the differences are paired draw by draw.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <map>
#include <set>

#include "countysim/engine.hpp"
#include "countysim/errors.hpp"
#include "countysim/explain.hpp"
#include "countysim/levers.hpp"
#include "countysim/plan.hpp"
#include "countysim/scenario.hpp"

namespace countysim {

namespace {

// The lever step: +10% of every value; -10% where +10% leaves the field's
// bounds (a share whose distribution reaches 1).
constexpr double lever_scales[2] = {1.1, 0.9};

struct Runner {
  const std::string& yaml;
  const std::string& file;
  std::uint64_t seed, draws;
  int threads;
  const CancelToken* cancel;

  TargetFlags run(const std::vector<std::string>& overrides) const {
    if (cancel && cancel->cancelled()) throw Interrupted();
    const Scenario sc = load_scenario_text(yaml, file, overrides);
    const Plan plan = compile_plan(sc);
    return target_flags(plan, seed, draws, threads, cancel);
  }
};

std::vector<Counterfactual> paired(const TargetFlags& base, const TargetFlags& alt,
                                   const std::vector<std::size_t>& chosen) {
  std::vector<Counterfactual> out;
  const std::size_t nt = base.targets;
  const double n = static_cast<double>(base.draws);
  for (std::size_t k : chosen) {
    double s0 = 0, s1 = 0, sd = 0, sdd = 0;
    for (std::uint64_t i = 0; i < base.draws; ++i) {
      const double a = base.met[i * nt + k], b = alt.met[i * nt + k], d = b - a;
      s0 += a;
      s1 += b;
      sd += d;
      sdd += d * d;
    }
    Counterfactual c;
    const double p0 = s0 / n, p1 = s1 / n, md = sd / n;
    c.probability = p1;
    c.difference = md;
    c.std_error = n > 1 ? std::sqrt(std::max(0.0, (sdd - n * md * md) / (n - 1)) / n) : 0;
    c.unpaired_std_error = std::sqrt(p0 * (1 - p0) / n + p1 * (1 - p1) / n);
    out.push_back(c);
  }
  return out;
}

// Why a lever node cannot be scaled (a skipped lever's reason).
struct NotScalable {
  std::string why;
};

// --set overrides that multiply every value of the lever node by `lever_scale`
// (its distribution scaled, so each draw's value is scaled by exactly the
// same factor: common random numbers through the inverse CDF). Throws
// NotScalable when the node cannot be scaled.
void scale_overrides(const YAML::Node& node, const std::string& path, double lever_scale,
                     std::vector<std::string>& out) {
  auto set = [&](const std::string& p, double v) { out.push_back(lever_override(p, v)); };
  if (node.IsScalar()) {
    double v = 0;
    try {
      v = node.as<double>();
    } catch (const YAML::Exception&) {
      throw NotScalable{"not a number"};
    }
    set(path, v * lever_scale);
    return;
  }
  if (!node.IsMap()) throw NotScalable{"not a number or a distribution"};
  if (node["dist"]) {
    const std::string fam = node["dist"].as<std::string>();
    std::vector<std::string> params;
    if (fam == "normal")
      params = {"mean", "sd", "min", "max"};
    else if (fam == "lognormal")
      params = {"median"};
    else if (fam == "uniform" || fam == "triangular" || fam == "pert")
      params = {"min", "mode", "max"};
    else if (fam == "beta") {
      const double lo = node["min"] ? node["min"].as<double>() : 0.0;
      const double hi = node["max"] ? node["max"].as<double>() : 1.0;
      set(path + ".min", lo * lever_scale);
      set(path + ".max", hi * lever_scale);
      return;
    } else if (fam == "discrete") {
      std::vector<double> vals;
      for (const auto& v : node["values"]) vals.push_back(v.as<double>() * lever_scale);
      out.push_back(fmt::format("{}.values=[{}]", path, fmt::join(vals, ", ")));
      return;
    } else
      throw NotScalable{fmt::format("a {} distribution cannot be scaled", fam)};
    for (const auto& p : params)
      if (node[p]) set(path + "." + p, node[p].as<double>() * lever_scale);
    return;
  }
  for (const auto& kv : node)
    scale_overrides(kv.second, path + "." + kv.first.as<std::string>(), lever_scale, out);
}

// The first line of an error, for a skipped lever.
std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

}  // namespace

void run_counterfactuals(const Scenario& sc, const Plan& plan, const std::string& merged_yaml,
                         std::uint64_t seed, const std::vector<std::size_t>& chosen,
                         const ExplainOptions& options, ExplainResult& r) {
  const Runner run{merged_yaml, sc.path, seed, options.draws, options.threads, options.cancel};
  r.counterfactual_draws = options.draws;
  if (options.cancel && options.cancel->cancelled()) throw Interrupted();
  const TargetFlags base = target_flags(plan, seed, options.draws, options.threads, options.cancel);
  {
    const auto self = paired(base, base, chosen);
    for (const auto& c : self) r.base_probability.push_back(c.probability);
  }

  for (const Project& p : sc.projects) {
    ProjectCriticality pc;
    pc.project = p.id;
    pc.label = p.name;
    const std::string pre = "projects." + p.id + ".";
    pc.fail = paired(base, run.run({pre + "success_probability=0"}), chosen);
    pc.on_time = paired(
        base, run.run({pre + "success_probability=1", pre + "start_delay_months=0"}), chosen);
    pc.late = paired(base, run.run({pre + "success_probability=1", pre + "start_delay_months=12"}),
                     chosen);
    r.projects.push_back(std::move(pc));
  }

  // Levers: every numeric field of land and finance.
  const YAML::Node root = YAML::Load(merged_yaml);
  for (const char* section : {"land", "finance"}) {
    const YAML::Node sec = root[section];
    if (!sec || !sec.IsMap()) continue;
    for (const auto& kv : sec) {
      LeverEffect le;
      le.path = fmt::format("{}.{}", section, kv.first.as<std::string>());
      double sum = 0;
      int count = 0;
      for (const InputSlot& s : plan.slots)
        if (s.base_key == le.path) {
          sum += s.dist.mean();
          ++count;
        }
      if (count == 0 && kv.second.IsScalar()) {  // a plain number that is no input slot
        try {
          sum = kv.second.as<double>();
          count = 1;
        } catch (const YAML::Exception&) {
        }
      }
      if (count == 0) {
        le.skipped = "not a number";
        r.levers.push_back(le);
        continue;
      }
      le.mean_value = sum / count;
      for (double scale : lever_scales) {
        std::vector<std::string> ovs;
        try {
          scale_overrides(kv.second, le.path, scale, ovs);
        } catch (const NotScalable& e) {
          le.skipped = e.why;
          break;
        }
        try {
          le.change = paired(base, run.run(ovs), chosen);
          le.step = le.mean_value * (scale - 1);
          le.evaluated = true;
          le.skipped.clear();
          break;
        } catch (const InputError& e) {
          le.skipped =
              fmt::format("scaled by {} it is no valid scenario ({})", scale,
                          first_line(e.diagnostics().empty() ? std::string(e.what())
                                                             : e.diagnostics().front().message));
        }
      }
      r.levers.push_back(le);
    }
  }
}

}  // namespace countysim
