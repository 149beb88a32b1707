// A YAML tree whose every node remembers the file, line and column it came
// from. yaml-cpp nodes cannot carry a file name, and a scenario mixes nodes
// from several sources (`extends:` parents, `--set` values), so the scenario
// reader converts each document into this tree once, checking it on the way.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "countysim/errors.hpp"

namespace countysim::yaml {

enum class Kind { null, scalar, sequence, map };

struct Node {
  Kind kind = Kind::null;
  std::string text;               // scalar text as written (without quotes)
  bool quoted = false;            // scalar written quoted or as a block: always a string
  int source = -1;                // index of the file in its Report
  SourcePos pos;                  // 1-based; columns count characters, not bytes
  std::vector<std::string> keys;  // map keys in file order
  std::vector<SourcePos> key_pos;
  std::vector<Node> items;  // sequence items, or map values parallel to keys

  bool is_null() const { return kind == Kind::null; }
  bool is_scalar() const { return kind == Kind::scalar; }
  bool is_sequence() const { return kind == Kind::sequence; }
  bool is_map() const { return kind == Kind::map; }
  std::size_t size() const { return items.size(); }

  int index_of(std::string_view key) const;
  const Node* find(std::string_view key) const;
  Node* find(std::string_view key);
  // Replaces the value of `key`, or appends it.
  void set(const std::string& key, SourcePos kpos, Node value);
  void erase(std::size_t index);
};

// "a number", "a list", "a map", "nothing" or the scalar in quotes: for messages.
std::string describe(const Node& n);

// Collects errors and warnings against the sources (files) nodes come from.
class Report {
 public:
  int add_source(std::string name);
  const std::string& source_name(int source) const { return sources_.at(source); }
  int source_count() const { return static_cast<int>(sources_.size()); }

  void error(int source, SourcePos pos, std::string message);
  void error(const Node& n, std::string message) { error(n.source, n.pos, std::move(message)); }
  void warning(int source, SourcePos pos, std::string message);
  void warning(const Node& n, std::string message) { warning(n.source, n.pos, std::move(message)); }

  bool has_errors() const { return !errors_.empty(); }
  std::size_t error_count() const { return errors_.size(); }
  // Sorted by source (in the order added), line and column.
  std::vector<Diagnostic> errors() const { return sorted(errors_); }
  std::vector<Diagnostic> warnings() const { return sorted(warnings_); }

 private:
  struct Entry {
    int source;
    SourcePos pos;
    std::string message;
  };
  std::vector<Diagnostic> sorted(std::vector<Entry> entries) const;

  std::vector<std::string> sources_;
  std::vector<Entry> errors_, warnings_;
};

struct ParseOptions {
  int line_base = 1;    // line number given to the text's first line
  int column_base = 1;  // column number of the first line's first character
  // Nodes visited while converting, aliases counted each time they are used:
  // stops "billion laughs" documents that expand exponentially.
  std::size_t max_nodes = 1'000'000;
  std::size_t max_bytes = 16u << 20;
};

// Checks the bytes (UTF-8, no NUL or control characters, no tabs in
// indentation), parses one YAML document and converts it. Anchors and aliases
// work; `<<` merge keys are expanded; duplicate keys are errors. Returns
// nullopt after reporting when nothing usable could be read. An empty document
// gives a null node.
std::optional<Node> parse(const std::string& text, int source, Report& report,
                          const ParseOptions& options = {});

// The tree as YAML text (UTF-8, block style, leaf maps and lists in flow style).
std::string emit(const Node& root);

// Case-insensitive optimal-string-alignment distance (a swap counts as one edit).
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate nearest to `word` ("" when there are none).
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

// Number of UTF-8 characters in `s` (bytes that do not continue a character).
int char_count(std::string_view s);

}  // namespace countysim::yaml
