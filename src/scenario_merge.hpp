// Internal to the scenario reader: reading scenario files, merging `extends:`
// parents (with `remove: true` items) and applying `--set PATH=VALUE`
// overrides, all on the positioned YAML tree, before any validation. Not part
// of the library's interface; load_scenario() (scenario.hpp) is.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "countysim/yaml_tree.hpp"

namespace countysim::reader {

// The whole file as bytes; false with the reason ("it is a directory", or the
// system's message) in `why`.
bool read_file(const std::string& path, std::string& text, std::string& why);

// Every problem goes to the Report, against the file (or "--set") it is in.
class Loader {
 public:
  explicit Loader(yaml::Report& report) : r_(report) {}

  // Parses `text` (read from `path`) and merges it onto the files its
  // extends: chain names, parents first. Maps merge key by key (a map with
  // `dist:` is one value, replaced whole), clusters/projects/targets/prices/observed merge by
  // id, anything else is replaced. nullopt when nothing usable was read.
  std::optional<yaml::Node> load_root(const std::string& path, const std::string& text);

  // Applies `--set PATH=VALUE` number `ordinal` (1-based: its "line" in
  // messages about "--set") to the merged tree.
  void apply_override(yaml::Node& root, const std::string& arg, int ordinal);

 private:
  struct Link {
    std::string display;
    std::filesystem::path canonical;
  };

  std::optional<yaml::Node> load(const std::string& display, const std::string& text);
  void merge_into(yaml::Node& base, const yaml::Node& over, const std::string& pattern,
                  const std::string& parent_name);
  void merge_by_id(yaml::Node& base, const yaml::Node& over, const std::string& pattern,
                   const std::string& parent_name);

  yaml::Report& r_;
  std::vector<Link> chain_;  // the files being loaded, the root first
  int set_source_ = -1;      // the Report's source for "--set", once added
};

}  // namespace countysim::reader
