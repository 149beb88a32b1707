// What `explain` prints and saves (explain.hpp): the terminal table and the
// CSV tables.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "countysim/errors.hpp"
#include "countysim/explain.hpp"
#include "countysim/text_columns.hpp"

namespace countysim {

namespace {

std::string pct(double p) {
  return std::isnan(p) ? "-" : fmt::format("{:.1f}%", 100 * p);
}
std::string pts(double d) {
  return fmt::format("{:+.1f}", 100 * d);
}
std::string fixed(double v, int digits = 3) {
  return std::isnan(v) ? "-" : fmt::format("{:.{}f}", v, digits);
}

// What the table lists, by first-order index of the value, then |rho|: the
// per-draw inputs, the per-year groups, and a per-year key only where it
// explains more than its group (one year decides, e.g. the target's year).
std::vector<const InputImportance*> ranked(const TargetImportance& t) {
  std::vector<const InputImportance*> all;
  for (const auto& g : t.groups) all.push_back(&g);
  for (const auto& k : t.keys) {
    const auto at = k.key.find('@');
    if (at == std::string::npos) {
      all.push_back(&k);
      continue;
    }
    const std::string path = k.key.substr(0, at);
    const auto g = std::find_if(t.groups.begin(), t.groups.end(),
                                [&](const InputImportance& x) { return x.key == path; });
    if (g == t.groups.end() ||
        k.value.first_order.index > g->value.first_order.index + 2 * k.value.first_order.std_error)
      all.push_back(&k);
  }
  std::stable_sort(all.begin(), all.end(), [](const auto* a, const auto* b) {
    if (a->value.first_order.index != b->value.first_order.index)
      return a->value.first_order.index > b->value.first_order.index;
    return std::abs(a->value.spearman) > std::abs(b->value.spearman);
  });
  return all;
}

double swing(const ProjectCriticality& p, std::size_t k) {
  return p.on_time[k].probability - p.fail[k].probability;
}

}  // namespace

std::string format_explain_table(const ExplainResult& r, std::size_t top) {
  std::string out =
      fmt::format("Explain {} ({}): {} draws, seed {}{}\n", r.results, r.scenario_name, r.draws,
                  r.seed, r.weighted ? ", weighted by /draws/log_weight" : "");
  if (r.weighted && (!r.projects.empty() || !r.levers.empty()))
    out += "note: project and lever counterfactuals are not conditioned on the observations\n";
  for (std::size_t k = 0; k < r.targets.size(); ++k) {
    const TargetImportance& t = r.targets[k];
    out += fmt::format("\n{} {}: P = {}\n", t.target, t.label, pct(t.probability));
    std::vector<std::vector<std::string>> rows{{"input (per-year inputs grouped)", "S value", "±SE",
                                                "rho", "contrib", "S met", "KS", "P low 10%",
                                                "P high 10%"}};
    const auto list = ranked(t);
    for (std::size_t i = 0; i < std::min(top, list.size()); ++i) {
      const InputImportance& ii = *list[i];
      rows.push_back({ii.key + (ii.group ? " (all years)" : ""), fixed(ii.value.first_order.index),
                      fixed(ii.value.first_order.std_error), fixed(ii.value.spearman, 2),
                      pct(ii.value.contribution), fixed(ii.met.first_order.index), fixed(ii.ks, 2),
                      pct(ii.p_met_low), pct(ii.p_met_high)});
    }
    out += format_columns(rows, {false, true, true, true, true, true, true, true, true});
    if (!r.projects.empty()) {
      std::vector<const ProjectCriticality*> ps;
      for (const auto& p : r.projects) ps.push_back(&p);
      std::stable_sort(ps.begin(), ps.end(), [&](const auto* a, const auto* b) {
        return std::abs(swing(*a, k)) > std::abs(swing(*b, k));
      });
      out += fmt::format("  projects (paired, {} draws; base P = {}; points ± SE):\n",
                         r.counterfactual_draws, pct(r.base_probability[k]));
      std::vector<std::vector<std::string>> pr{{"  project", "fails", "on time", "12 months late"}};
      for (std::size_t i = 0; i < std::min(top, ps.size()); ++i) {
        const ProjectCriticality& p = *ps[i];
        if (swing(p, k) == 0 && p.late[k].difference == 0) break;
        auto cell = [](const Counterfactual& c) {
          return fmt::format("{} ({} ± {:.1f})", pct(c.probability), pts(c.difference),
                             100 * c.std_error);
        };
        pr.push_back({"  " + p.project + " " + p.label, cell(p.fail[k]), cell(p.on_time[k]),
                      cell(p.late[k])});
      }
      if (pr.size() == 1) pr.push_back({"  (no project moves this target)", "", "", ""});
      out += format_columns(pr, {false, true, true, true});
    }
    std::vector<std::vector<std::string>> lr{
        {"  lever (step: ±10%)", "step", "change", "per unit"}};
    for (const auto& l : r.levers) {
      if (!l.evaluated) continue;
      const Counterfactual& c = l.change[k];
      lr.push_back(
          {"  " + l.path, fmt::format("{:.4g}", l.step),
           fmt::format("{} ± {:.1f} points", pts(c.difference), 100 * c.std_error),
           l.step != 0 ? fmt::format("{:+.3g} points", 100 * c.difference / l.step) : "-"});
    }
    if (lr.size() > 1) out += format_columns(lr, {false, true, true, true});
  }
  for (const auto& l : r.levers)
    if (!l.evaluated) out += fmt::format("\nlever {} not evaluated: {}", l.path, l.skipped);
  if (!r.levers.empty()) out += "\n";
  out += fmt::format(
      "\nS: first-order index (share of variance explained alone); SE by 20 "
      "interleaved batches. rho: Spearman. contrib: rho^2 share. KS: distance "
      "between met and not-met draws. Time: importance {:.1f} s, counterfactuals "
      "{:.1f} s.\n",
      r.seconds_importance, r.seconds_counterfactuals);
  return out;
}

std::string explain_inputs_csv(const ExplainResult& r, CsvDialect dialect) {
  CsvWriter w(dialect);
  w.row({"target", "input", "group", "spearman_value", "contribution_value", "first_order_value",
         "first_order_value_se", "spearman_met", "contribution_met", "first_order_met",
         "first_order_met_se", "ks", "p_met_low_tenth", "p_met_low_tenth_se", "p_met_high_tenth",
         "p_met_high_tenth_se"});
  for (const auto& t : r.targets) {
    auto emit = [&](const InputImportance& i) {
      w.row({t.target, i.key, i.group ? "1" : "0", csv_number(i.value.spearman),
             csv_number(i.value.contribution), csv_number(i.value.first_order.index),
             csv_number(i.value.first_order.std_error), csv_number(i.met.spearman),
             csv_number(i.met.contribution), csv_number(i.met.first_order.index),
             csv_number(i.met.first_order.std_error), csv_number(i.ks), csv_number(i.p_met_low),
             csv_number(i.p_met_low_se), csv_number(i.p_met_high), csv_number(i.p_met_high_se)});
    };
    for (const auto& i : t.keys) emit(i);
    for (const auto& i : t.groups) emit(i);
  }
  return w.text();
}

std::string explain_projects_csv(const ExplainResult& r, CsvDialect dialect) {
  CsvWriter w(dialect);
  w.row({"target", "project", "label", "case", "probability", "base_probability", "difference",
         "std_error", "unpaired_std_error"});
  for (const auto& p : r.projects)
    for (std::size_t k = 0; k < r.targets.size(); ++k)
      for (const auto& [name, v] : {std::pair{"fail", &p.fail}, std::pair{"on_time", &p.on_time},
                                    std::pair{"late_12_months", &p.late}}) {
        const Counterfactual& c = (*v)[k];
        w.row({r.targets[k].target, p.project, p.label, name, csv_number(c.probability),
               csv_number(r.base_probability[k]), csv_number(c.difference), csv_number(c.std_error),
               csv_number(c.unpaired_std_error)});
      }
  return w.text();
}

std::string explain_levers_csv(const ExplainResult& r, CsvDialect dialect) {
  CsvWriter w(dialect);
  w.row({"target", "lever", "mean_value", "step", "probability", "difference", "std_error",
         "difference_per_unit", "skipped"});
  for (const auto& l : r.levers)
    for (std::size_t k = 0; k < r.targets.size(); ++k) {
      if (!l.evaluated) {
        w.row({r.targets[k].target, l.path, "", "", "", "", "", "", l.skipped});
        continue;
      }
      const Counterfactual& c = l.change[k];
      w.row({r.targets[k].target, l.path, csv_number(l.mean_value), csv_number(l.step),
             csv_number(c.probability), csv_number(c.difference), csv_number(c.std_error),
             csv_number(l.step != 0 ? c.difference / l.step : std::nan("")), ""});
    }
  return w.text();
}

std::vector<std::string> write_explain_csv(const ExplainResult& r, const std::string& dir,
                                           CsvDialect dialect) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw RunError(fmt::format("cannot create {}: {}", dir, ec.message()));
  std::vector<std::string> written;
  auto save = [&](const char* name, const std::string& text) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw RunError(fmt::format("cannot write {}", path));
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !ok) throw RunError(fmt::format("cannot write {}", path));
    written.push_back(path);
  };
  save("explain-inputs.csv", explain_inputs_csv(r, dialect));
  if (!r.projects.empty() || !r.levers.empty()) {
    save("explain-projects.csv", explain_projects_csv(r, dialect));
    save("explain-levers.csv", explain_levers_csv(r, dialect));
  }
  return written;
}

}  // namespace countysim
