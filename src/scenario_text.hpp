// Internal to the scenario reader (scenario_merge, field_reader and
// scenario_build*): small text helpers for paths, numbers and positions in
// messages. Not part of the library's interface.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "countysim/yaml_tree.hpp"

namespace countysim::reader {

// "macro" + "gdp_base" -> "macro.gdp_base"; a key at the top level is its own path.
inline std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// How a message about `path` starts: "macro.gdp_base: " ("" at the top level).
inline std::string prefix(const std::string& path) {
  return path.empty() ? "" : path + ": ";
}

// A number as messages write it: shortest round-trip form (0.28, 1e+20).
inline std::string num(double v) {
  return fmt::format("{}", v);
}

inline bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Without leading and trailing spaces and tabs.
inline std::string trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// A per-year map: a map with at least one all-digit (year) key and no `dist:`.
inline bool is_year_map(const yaml::Node& n) {
  return n.is_map() && !n.find("dist") &&
         std::any_of(n.keys.begin(), n.keys.end(),
                     [](const std::string& k) { return all_digits(k); });
}

// Where a node was written, for "first at ..." notes: "line 19" in the same
// source, "FILE:19" in another.
inline std::string where_noted(const yaml::Report& r, const yaml::Node& first, int here_source) {
  if (first.source == here_source) return fmt::format("line {}", first.pos.line);
  return fmt::format("{}:{}", r.source_name(first.source), first.pos.line);
}

}  // namespace countysim::reader
