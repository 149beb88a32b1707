// Messages about a what-if file point into that file, not into the scenario
// it extends.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "countysim/scenario.hpp"

using namespace countysim;

TEST_CASE("an unknown key added by a child names the child file", "[scenario]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "countysim-extends-pos";
  fs::create_directories(dir);
  fs::copy_file(fs::path(COUNTYSIM_TEST_DATA) / "example.yaml", dir / "base.yaml",
                fs::copy_options::overwrite_existing);
  std::ofstream(dir / "child.yaml")
      << "extends: base.yaml\nname: child\nland:\n  initial_stok_mu: 5\n";
  try {
    load_scenario((dir / "child.yaml").string());
    FAIL("no error");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    const Diagnostic& d = e.diagnostics()[0];
    CHECK(fs::path(d.file).filename() == "child.yaml");
    CHECK(d.pos.line == 4);
    CHECK(d.pos.column == 3);
    CHECK(d.message == "land: unknown key 'initial_stok_mu'; did you mean 'initial_stock_mu'?");
  }
  fs::remove_all(dir);
}
