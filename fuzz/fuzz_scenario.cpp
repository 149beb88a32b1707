// libFuzzer target: the scenario loader, from text (yaml_tree, extends:
// merging, field reader, section builders). Any input must give a Scenario or
// an InputError; anything else (a crash, a sanitizer report, another
// exception) is a bug. See docs/fuzzing.md.
#include <cstddef>
#include <cstdint>
#include <string>

#include "countysim/errors.hpp"
#include "countysim/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    // A path in a folder without files: extends: names nothing readable.
    countysim::Scenario s = countysim::load_scenario_text(text, "/nonexistent/fuzz.yaml", {});
    (void)s;
  } catch (const countysim::InputError&) {
  }
  return 0;
}
