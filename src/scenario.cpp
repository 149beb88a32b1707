// Reading a scenario: parse (yaml_tree), merge `extends:` parents and apply
// `--set` overrides (scenario_merge), then validate the merged tree into a
// Scenario (scenario_build*, with field_reader) while collecting every
// problem found.
#include "countysim/scenario.hpp"

#include <fmt/format.h>

#include "countysim/yaml_tree.hpp"
#include "field_reader.hpp"
#include "scenario_build.hpp"
#include "scenario_merge.hpp"

namespace countysim {

Scenario load_scenario_text(const std::string& text, const std::string& path,
                            const std::vector<std::string>& overrides) {
  yaml::Report report;
  reader::Loader loader(report);
  Scenario s;
  s.path = path;
  std::optional<yaml::Node> root = loader.load_root(path, text);
  if (root) {
    for (std::size_t i = 0; i < overrides.size(); ++i)
      loader.apply_override(*root, overrides[i], static_cast<int>(i) + 1);
    s.merged_yaml = yaml::emit(*root);
    reader::FieldReader in(report);
    reader::build_scenario(in, *root, s);
  }
  if (report.has_errors()) throw InputError(report.errors());
  s.warnings = report.warnings();
  return s;
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  std::string text, why;
  if (!reader::read_file(path, text, why))
    throw InputError({{path, {}, fmt::format("cannot read the scenario file: {}", why)}});
  return load_scenario_text(text, path, overrides);
}

}  // namespace countysim
