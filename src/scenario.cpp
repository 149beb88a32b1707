// Reading a scenario: parse (yaml_tree), merge `extends:` parents, apply
// `--set` overrides, then validate the merged tree into a Scenario while
// collecting every problem found.
#include "countysim/scenario.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "countysim/yaml_tree.hpp"

namespace countysim {
namespace {

namespace fs = std::filesystem;
using yaml::Kind;
using yaml::Node;
using yaml::Report;
using Keys = std::vector<std::string>;

constexpr const char* kSchema = "countysim/1";
constexpr int kMaxYears = 50;
constexpr int kMaxExtendsDepth = 16;
constexpr long long kMaxDraws = 1'000'000'000;

// ---------------------------------------------------------------------------
// Schema: the known keys of every map, by path pattern ("*" = a list item).

const Keys kTopKeys = {"schema",       "name",     "description",  "extends", "horizon",
                       "simulation",   "macro",    "finance",      "land",    "clusters",
                       "correlations", "projects", "supply_chain", "firms",   "targets"};
const Keys kHorizonKeys = {"base_year", "last_year"};
const Keys kSimulationKeys = {"draws", "seed"};
const Keys kMacroKeys = {"gdp_base", "rest_growth", "rest_shock_loading", "common_shock",
                         "digital_share_of_rest"};
const Keys kShockKeys = {"sd", "persistence"};
const Keys kFinanceKeys = {"new_loans", "manufacturing_loan_share", "reference_share",
                           "project_credit_fraction"};
const Keys kLandKeys = {"initial_stock_mu", "supply_mu"};
const Keys kClusterKeys = {"id",
                           "name",
                           "group",
                           "manufacturing",
                           "base_output",
                           "growth",
                           "shock_loading",
                           "credit_elasticity",
                           "value_added_ratio",
                           "tax_rate",
                           "output_per_worker",
                           "productivity_growth",
                           "digital_share",
                           "strategic_emerging_share"};
const Keys kProjectKeys = {"id",
                           "name",
                           "cluster",
                           "planned_start",
                           "start_delay_months",
                           "construction_months",
                           "ramp_months",
                           "capacity_output",
                           "success_probability",
                           "land_mu",
                           "investment",
                           "loan_share",
                           "jobs",
                           "tax_rate",
                           "new_firm",
                           "high_tech",
                           "priority"};
const Keys kFirmsKeys = {"above_scale", "high_tech"};
const Keys kFirmSeriesKeys = {"base", "entries", "exit_rate"};
const Keys kCorrelationKeys = {"between", "rho"};
const Keys kTargetKeys = {"id",      "label",   "metric", "year",     "at_least",
                          "at_most", "cluster", "group",  "threshold"};

const std::vector<std::pair<std::string, const Keys*>>& schema_maps() {
  static const std::vector<std::pair<std::string, const Keys*>> maps = {
      {"", &kTopKeys},
      {"horizon", &kHorizonKeys},
      {"simulation", &kSimulationKeys},
      {"macro", &kMacroKeys},
      {"macro.common_shock", &kShockKeys},
      {"finance", &kFinanceKeys},
      {"land", &kLandKeys},
      {"clusters.*", &kClusterKeys},
      {"projects.*", &kProjectKeys},
      {"firms", &kFirmsKeys},
      {"firms.above_scale", &kFirmSeriesKeys},
      {"firms.high_tech", &kFirmSeriesKeys},
      {"correlations.*", &kCorrelationKeys},
      {"targets.*", &kTargetKeys},
  };
  return maps;
}

const Keys* schema_keys(const std::string& pattern) {
  for (const auto& [p, keys] : schema_maps())
    if (p == pattern) return keys;
  return nullptr;
}

bool is_per_year_pattern(const std::string& pattern) {
  static const std::set<std::string> per_year = {
      "macro.rest_growth",      "finance.new_loans", "finance.manufacturing_loan_share",
      "land.supply_mu",         "clusters.*.growth", "firms.above_scale.entries",
      "firms.high_tech.entries"};
  return per_year.count(pattern) > 0;
}

// The section a key belongs to when it is known somewhere else ("" if not).
std::string home_of(const std::string& key) {
  std::string home;
  int found = 0;
  for (const auto& [p, keys] : schema_maps())
    if (std::find(keys->begin(), keys->end(), key) != keys->end()) {
      home = p.empty() ? "the top level" : "'" + p + "'";
      ++found;
    }
  return found == 1 ? home : "";
}

struct FamilySpec {
  const char* name;
  Family family;
  Keys required, optional;
};

const std::vector<FamilySpec>& families() {
  static const std::vector<FamilySpec> specs = {
      {"normal", Family::normal, {"mean", "sd"}, {"min", "max"}},
      {"lognormal", Family::lognormal, {"median", "sigma"}, {}},
      {"uniform", Family::uniform, {"min", "max"}, {}},
      {"triangular", Family::triangular, {"min", "mode", "max"}, {}},
      {"pert", Family::pert, {"min", "mode", "max"}, {"lambda"}},
      {"beta", Family::beta, {"alpha", "beta"}, {"min", "max"}},
      {"poisson", Family::poisson, {"mean"}, {}},
      {"discrete", Family::discrete, {"values", "probs"}, {}},
  };
  return specs;
}

const FamilySpec* family_spec(const std::string& name) {
  for (const auto& f : families())
    if (name == f.name) return &f;
  return nullptr;
}

Keys family_names() {
  Keys names;
  for (const auto& f : families()) names.push_back(f.name);
  return names;
}

Keys family_keys(const FamilySpec& f) {
  Keys keys = {"dist"};
  keys.insert(keys.end(), f.required.begin(), f.required.end());
  keys.insert(keys.end(), f.optional.begin(), f.optional.end());
  return keys;
}

// ---------------------------------------------------------------------------
// Small helpers

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string prefix(const std::string& path) {
  return path.empty() ? "" : path + ": ";
}

std::string num(double v) {
  return fmt::format("{}", v);
}

std::string join_list(const Keys& items, const char* sep = ", ") {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_slug(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool is_year_map(const Node& n) {
  return n.is_map() && !n.find("dist") &&
         std::any_of(n.keys.begin(), n.keys.end(),
                     [](const std::string& k) { return all_digits(k); });
}

// YAML 1.2 core-schema decimal numbers: [-+]? (digits[.digits] | .digits) [e[-+]digits]
bool looks_numeric(const std::string& s) {
  std::size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t digits = 0;
  while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp = 0;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == n;
}

std::string trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Where a node was written, for "first at ..." notes.
std::string where_noted(const Report& r, const Node& first, int here_source) {
  if (first.source == here_source) return fmt::format("line {}", first.pos.line);
  return fmt::format("{}:{}", r.source_name(first.source), first.pos.line);
}

// ---------------------------------------------------------------------------
// extends: and --set

class Loader {
 public:
  explicit Loader(Report& report) : r_(report) {}

  std::optional<Node> load_root(const std::string& path, const std::string& text) {
    chain_.push_back({path, canonical(path)});
    return load(path, text);
  }

  void apply_override(Node& root, const std::string& arg, int ordinal);

 private:
  struct Link {
    std::string display;
    fs::path canonical;
  };

  static fs::path canonical(const std::string& p) {
    std::error_code ec;
    fs::path c = fs::weakly_canonical(fs::path(p), ec);
    if (ec) c = fs::absolute(fs::path(p), ec).lexically_normal();
    return c;
  }

  std::optional<Node> load(const std::string& display, const std::string& text);
  void merge_into(Node& base, const Node& over, const std::string& pattern,
                  const std::string& parent_name);
  void merge_by_id(Node& base, const Node& over, const std::string& pattern,
                   const std::string& parent_name);
  Report& r_;
  std::vector<Link> chain_;
  int set_source_ = -1;
};

bool read_file(const std::string& path, std::string& text, std::string& why) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    why = "it is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    why = std::strerror(errno);
    return false;
  }
  text = ss.str();
  return true;
}

std::optional<Node> Loader::load(const std::string& display, const std::string& text) {
  int src = r_.add_source(display);
  std::optional<Node> root = yaml::parse(text, src, r_);
  if (!root || !root->is_map()) return root;
  int ei = root->index_of("extends");
  if (ei < 0) return root;
  Node ext = root->items[ei];
  root->erase(ei);
  if (!ext.is_scalar() || ext.text.empty()) {
    r_.error(ext,
             "extends: expected the name of the scenario file this one builds on (a path "
             "relative to this file), got " +
                 yaml::describe(ext));
    return std::nullopt;
  }
  fs::path parent = (fs::path(display).parent_path() / ext.text).lexically_normal();
  fs::path canon = canonical(parent.string());
  for (const auto& link : chain_)
    if (link.canonical == canon) {
      std::string names;
      for (const auto& l : chain_) names += l.display + " -> ";
      r_.error(ext, fmt::format("extends: cycle {}{}; a scenario cannot extend itself, directly "
                                "or through others",
                                names, parent.string()));
      return std::nullopt;
    }
  if (static_cast<int>(chain_.size()) >= kMaxExtendsDepth) {
    r_.error(ext, fmt::format("extends: more than {} files extend one another; flatten the chain",
                              kMaxExtendsDepth));
    return std::nullopt;
  }
  std::string parent_text, why;
  if (!read_file(parent.string(), parent_text, why)) {
    r_.error(ext,
             fmt::format("extends: cannot read '{}' ({}): {}", ext.text, parent.string(), why));
    return std::nullopt;
  }
  chain_.push_back({parent.string(), canon});
  std::optional<Node> base = load(parent.string(), parent_text);
  chain_.pop_back();
  if (!base) return std::nullopt;
  if (!base->is_map()) {
    r_.error(*base, "the scenario named by extends: must be a map of sections, got " +
                        yaml::describe(*base));
    return std::nullopt;
  }
  merge_into(*base, *root, "", parent.string());
  return base;
}

void Loader::merge_into(Node& base, const Node& over, const std::string& pattern,
                        const std::string& parent_name) {
  // A map with `dist:` is one value: replaced whole, never mixed key by key.
  if (base.is_map() && over.is_map() && !base.find("dist") && !over.find("dist")) {
    for (std::size_t i = 0; i < over.keys.size(); ++i) {
      if (Node* b = base.find(over.keys[i]))
        merge_into(*b, over.items[i], join(pattern, over.keys[i]), parent_name);
      else
        base.set(over.keys[i], over.key_pos[i], over.items[i]);
    }
    return;
  }
  if (base.is_sequence() && over.is_sequence() &&
      (pattern == "clusters" || pattern == "projects" || pattern == "targets")) {
    merge_by_id(base, over, pattern, parent_name);
    return;
  }
  base = over;
}

void Loader::merge_by_id(Node& base, const Node& over, const std::string& pattern,
                         const std::string& parent_name) {
  const std::string what = pattern.substr(0, pattern.size() - 1);  // "cluster", ...
  auto id_of = [](const Node& item) -> std::string {
    const Node* id = item.is_map() ? item.find("id") : nullptr;
    return id && id->is_scalar() ? id->text : "";
  };
  for (const Node& item : over.items) {
    std::string id = id_of(item);
    if (id.empty()) {  // validation reports the missing id where it was written
      base.items.push_back(item);
      continue;
    }
    int found = -1;
    for (std::size_t k = 0; k < base.items.size(); ++k)
      if (id_of(base.items[k]) == id) found = static_cast<int>(k);
    Node child = item;
    if (int ri = child.index_of("remove"); ri >= 0) {
      const Node& rm = child.items[ri];
      if (rm.is_scalar() && (rm.text == "true" || rm.text == "True" || rm.text == "TRUE")) {
        if (found >= 0) {
          base.erase(found);
        } else {
          Keys ids;
          for (const Node& b : base.items)
            if (!id_of(b).empty()) ids.push_back(id_of(b));
          std::string hint = ids.empty() ? "" : "; did you mean '" + yaml::closest(id, ids) + "'?";
          r_.error(rm, fmt::format("{}.{}: remove: true, but {} has no {} '{}' to remove{}",
                                   pattern, id, parent_name, what, id, hint));
        }
        continue;
      }
      if (rm.is_scalar() && (rm.text == "false" || rm.text == "False" || rm.text == "FALSE")) {
        child.erase(ri);
      } else {
        r_.error(rm, fmt::format("{}.{}.remove: expected true (delete the {} '{}' of {}), got {}",
                                 pattern, id, what, id, parent_name, yaml::describe(rm)));
        continue;
      }
    }
    if (found >= 0)
      merge_into(base.items[found], child, pattern + ".*", parent_name);
    else
      base.items.push_back(std::move(child));
  }
}

// Known keys of a map found at `pattern` while following a --set path.
Keys keys_for(const Node& root, const std::string& pattern, const Node& map) {
  if (const Node* d = map.find("dist"); d && d->is_scalar())
    if (const FamilySpec* f = family_spec(d->text)) return family_keys(*f);
  if (const Keys* k = schema_keys(pattern)) return *k;
  Keys ids;
  if (pattern == "supply_chain" || pattern.rfind("supply_chain.", 0) == 0)
    if (const Node* cl = root.find("clusters"); cl && cl->is_sequence())
      for (const Node& c : cl->items)
        if (const Node* id = c.is_map() ? c.find("id") : nullptr; id && id->is_scalar())
          ids.push_back(id->text);
  return ids;
}

std::optional<std::pair<int, int>> horizon_of(const Node& root) {
  const Node* h = root.find("horizon");
  if (!h || !h->is_map()) return std::nullopt;
  const Node* b = h->find("base_year");
  const Node* e = h->find("last_year");
  if (!b || !e || !b->is_scalar() || !e->is_scalar() || !all_digits(b->text) ||
      !all_digits(e->text) || b->text.size() != 4 || e->text.size() != 4)
    return std::nullopt;
  int by = std::stoi(b->text), ly = std::stoi(e->text);
  if (ly <= by || ly - by > kMaxYears) return std::nullopt;
  return std::make_pair(by, ly);
}

void Loader::apply_override(Node& root, const std::string& arg, int ordinal) {
  if (set_source_ < 0) set_source_ = r_.add_source("--set");
  const int src = set_source_;
  auto error = [&](int column, const std::string& msg) { r_.error(src, {ordinal, column}, msg); };

  std::size_t eq = arg.find('=');
  if (eq == std::string::npos) {
    error(1,
          fmt::format("expected PATH=VALUE (e.g. clusters.textiles.growth=0.05), got '{}'", arg));
    return;
  }
  const std::string path = arg.substr(0, eq);
  if (trim(path).empty()) {
    error(1, "missing PATH before '='; write PATH=VALUE, e.g. land.supply_mu.2023=300");
    return;
  }
  // Segments and the column where each starts.
  std::vector<std::pair<std::string, int>> segs;
  {
    std::size_t start = 0;
    while (true) {
      std::size_t dot = path.find('.', start);
      std::string seg =
          path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      int col = yaml::char_count(std::string_view(path).substr(0, start)) + 1;
      if (trim(seg).empty()) {
        error(col, fmt::format("empty name in path '{}'; names are joined by single dots", path));
        return;
      }
      segs.emplace_back(trim(seg), col);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }
  if (segs[0].first == "extends") {
    error(1, "extends cannot be changed with --set; it is resolved before overrides apply");
    return;
  }
  yaml::ParseOptions opt;
  opt.line_base = ordinal;
  opt.column_base = yaml::char_count(path) + 2;
  std::optional<Node> value = yaml::parse(arg.substr(eq + 1), src, r_, opt);
  if (!value) return;
  if (value->is_null()) {
    error(opt.column_base, fmt::format("no value after '{}='; write PATH=VALUE", path));
    return;
  }
  if (!root.is_map()) return;  // reported by validation

  Node* cur = &root;
  std::string pattern, walked;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const auto& [seg, col] = segs[i];
    const bool last = i + 1 == segs.size();
    // One value for every year (a number or a distribution): naming a year
    // splits it into a year map.
    if (is_per_year_pattern(pattern) && all_digits(seg) && !cur->is_sequence() &&
        !is_year_map(*cur)) {
      auto h = horizon_of(root);
      if (!h) {
        error(col, fmt::format("cannot set '{}' year by year: the scenario's horizon is not valid",
                               walked));
        return;
      }
      Node map;
      map.kind = Kind::map;
      map.source = cur->source;
      map.pos = cur->pos;
      for (int y = h->first + 1; y <= h->second; ++y) map.set(std::to_string(y), cur->pos, *cur);
      *cur = std::move(map);
    }
    if (cur->is_map()) {
      if (Node* child = cur->find(seg)) {
        if (last) {
          *child = std::move(*value);
          return;
        }
        cur = child;
        pattern = join(pattern, seg);
        walked = join(walked, seg);
        continue;
      }
      Keys known = keys_for(root, pattern, *cur);
      bool year_key = is_per_year_pattern(pattern) && is_year_map(*cur) && all_digits(seg);
      if (last && (year_key || std::find(known.begin(), known.end(), seg) != known.end())) {
        cur->set(seg, {ordinal, col}, std::move(*value));
        return;
      }
      Keys candidates = cur->keys;
      for (const auto& k : known)
        if (std::find(candidates.begin(), candidates.end(), k) == candidates.end())
          candidates.push_back(k);
      std::string hint =
          candidates.empty()
              ? ""
              : "; did you mean '" + join(walked, yaml::closest(seg, candidates)) + "'?";
      error(col, fmt::format("'{}' names nothing in the scenario: no '{}' in {}{}", path, seg,
                             walked.empty() ? "the top level" : "'" + walked + "'", hint));
      return;
    }
    if (cur->is_sequence()) {
      Node* item = nullptr;
      Keys ids;
      for (Node& x : cur->items) {
        const Node* id = x.is_map() ? x.find("id") : nullptr;
        if (id && id->is_scalar()) {
          ids.push_back(id->text);
          if (id->text == seg) item = &x;
        }
      }
      if (!item && all_digits(seg) && seg.size() < 9 && std::stoul(seg) < cur->items.size())
        item = &cur->items[std::stoul(seg)];
      if (!item) {
        std::string hint =
            ids.empty() ? "" : "; did you mean '" + join(walked, yaml::closest(seg, ids)) + "'?";
        error(col, fmt::format("'{}' names nothing in the scenario: '{}' has no item with id "
                               "'{}'{}",
                               path, walked, seg, hint));
        return;
      }
      if (last) {
        *item = std::move(*value);
        return;
      }
      cur = item;
      pattern += ".*";
      walked = join(walked, seg);
      continue;
    }
    error(col, fmt::format("'{}' names nothing in the scenario: '{}' is {}, not a map; set it "
                           "whole, e.g. --set {}=...",
                           path, walked, yaml::describe(*cur), walked));
    return;
  }
}

// ---------------------------------------------------------------------------
// Validation

enum class Bound { any, growth, nonneg, positive, share, months, count };

// The map being read at `path`; node is null when it was not a map (reported).
struct Fields {
  const Node* node = nullptr;
  std::string path;
};

struct InputInfo {
  bool per_year = false;
  bool random = false;
  bool valid = false;
};

struct IdSeen {
  std::map<std::string, const Node*> first;
};

class Builder {
 public:
  Builder(Report& report, Scenario& s) : r_(report), s_(s) {}
  void build(const Node& root);

 private:
  // Reading maps and scalars
  Fields fields(const Node& n, const std::string& path, const Keys& known,
                const std::string& what = "");
  void unknown_key(const Node& map, std::size_t i, const std::string& path, const Keys& known,
                   const std::string& where);
  const Node* get(const Fields& f, const std::string& key, bool required,
                  const std::string& what = "");
  SourcePos key_pos(const Fields& f, const std::string& key) const;
  std::optional<double> number(const Node& n, const std::string& path);
  std::optional<long long> integer(const Node& n, const std::string& path, long long lo,
                                   long long hi);
  std::optional<std::string> text(const Node& n, const std::string& path);
  std::optional<bool> boolean(const Node& n, const std::string& path);
  bool check_constant(double v, const Node& n, const std::string& path, Bound b);
  bool check_distribution(const Distribution& d, const Node& n, const std::string& path, Bound b);
  std::optional<Distribution> distribution(const Node& n, const std::string& path, Bound b);

  // Fields
  std::optional<double> constant(const Fields& f, const std::string& key, Bound b,
                                 std::optional<double> def, const std::string& what = "");
  std::optional<bool> flag(const Fields& f, const std::string& key, bool def);
  std::optional<Value> value(const Fields& f, const std::string& key, const std::string& input,
                             Bound b, std::optional<double> def, bool required = true);
  std::optional<PerYearValue> per_year(const Fields& f, const std::string& key,
                                       const std::string& input, Bound b);
  std::optional<std::string> id(const Fields& f, const std::string& what, IdSeen& seen);
  int cluster_ref(const Node& n, const std::string& path);

  // Sections
  void horizon(const Fields& top);
  void simulation(const Fields& top);
  void macro(const Fields& top);
  void finance(const Fields& top);
  void land(const Fields& top);
  void clusters(const Fields& top);
  void projects(const Fields& top);
  void supply_chain(const Fields& top);
  void firms(const Fields& top);
  void correlations(const Fields& top);
  void targets(const Fields& top);
  void rest_of_economy();
  std::optional<InputInfo> correlation_input(const Node& n, const std::string& path);

  Report& r_;
  Scenario& s_;
  bool horizon_ok_ = false;
  std::map<std::string, InputInfo> inputs_;
  const Node* gdp_node_ = nullptr;
  bool gdp_ok_ = false;
  std::vector<bool> cluster_ok_;  // base_output and value_added_ratio valid
  bool clusters_ok_ = false;      // the list itself was read
};

Fields Builder::fields(const Node& n, const std::string& path, const Keys& known,
                       const std::string& what) {
  if (!n.is_map()) {
    r_.error(n, prefix(path) + fmt::format("expected a map{}, got {}",
                                           what.empty() ? "" : " of " + what, yaml::describe(n)));
    return {nullptr, path};
  }
  for (std::size_t i = 0; i < n.keys.size(); ++i)
    if (std::find(known.begin(), known.end(), n.keys[i]) == known.end())
      unknown_key(n, i, path, known, "");
  return {&n, path};
}

void Builder::unknown_key(const Node& map, std::size_t i, const std::string& path,
                          const Keys& known, const std::string& where) {
  const std::string& key = map.keys[i];
  std::string msg = prefix(path) + fmt::format("unknown key '{}'{}", key, where);
  std::string best = yaml::closest(key, known);
  std::string home = home_of(key);
  if (key == "remove") {
    msg +=
        "; 'remove: true' deletes an item of the scenario named by extends:, and this item has "
        "none to delete";
  } else if (where.empty() && !home.empty() && yaml::edit_distance(key, best) > 2) {
    msg += fmt::format("; '{}' belongs in {}", key, home);
  } else if (!best.empty()) {
    msg += fmt::format("; did you mean '{}'?", best);
  }
  // The key came from the file its value came from (a child of extends: can
  // add keys to a parent's map).
  r_.error(map.items[i].source, map.key_pos[i], msg);
}

const Node* Builder::get(const Fields& f, const std::string& key, bool required,
                         const std::string& what) {
  if (!f.node) return nullptr;
  int i = f.node->index_of(key);
  if (i < 0) {
    if (required)
      r_.error(*f.node, prefix(f.path) + fmt::format("missing required key '{}'{}", key,
                                                     what.empty() ? "" : " (" + what + ")"));
    return nullptr;
  }
  const Node& n = f.node->items[i];
  if (n.is_null()) {
    if (required)
      r_.error(n, prefix(join(f.path, key)) +
                      fmt::format("has no value{}", what.empty() ? "" : "; expected " + what));
    return nullptr;
  }
  return &n;
}

SourcePos Builder::key_pos(const Fields& f, const std::string& key) const {
  if (!f.node) return {};
  int i = f.node->index_of(key);
  return i < 0 ? f.node->pos : f.node->key_pos[i];
}

std::optional<double> Builder::number(const Node& n, const std::string& path) {
  if (!n.is_scalar()) {
    if (n.is_map() && n.find("dist"))
      r_.error(n, prefix(path) + "is a constant: write a plain number, not a distribution");
    else
      r_.error(n, prefix(path) + "expected a number, got " + yaml::describe(n));
    return std::nullopt;
  }
  std::string t = trim(n.text);
  if (!looks_numeric(t)) {
    std::string low = t;
    std::transform(low.begin(), low.end(), low.begin(), ::tolower);
    if (t.size() > 1 && t.back() == '%' && looks_numeric(trim(t.substr(0, t.size() - 1)))) {
      double v = std::strtod(t.c_str(), nullptr);
      r_.error(n, prefix(path) + fmt::format("'{}': write shares as fractions, e.g. {} for {}%", t,
                                             num(v / 100), num(v)));
    } else if (low == ".inf" || low == "+.inf" || low == "-.inf" || low == ".nan") {
      r_.error(n, prefix(path) + fmt::format("expected a finite number, got '{}'", t));
    } else if (t.find(',') != std::string::npos && std::isdigit(static_cast<unsigned char>(t[0]))) {
      r_.error(n, prefix(path) + fmt::format("expected a number, got '{}'; write numbers without "
                                             "thousands separators (12000, not 12,000)",
                                             t));
    } else {
      r_.error(n, prefix(path) + "expected a number, got " + yaml::describe(n));
    }
    return std::nullopt;
  }
  double v = std::strtod(t.c_str(), nullptr);
  if (!std::isfinite(v)) {
    r_.error(n, prefix(path) + fmt::format("the number '{}' is out of range", t));
    return std::nullopt;
  }
  return v;
}

std::optional<long long> Builder::integer(const Node& n, const std::string& path, long long lo,
                                          long long hi) {
  std::optional<double> v = number(n, path);
  if (!v) return std::nullopt;
  if (std::floor(*v) != *v) {
    r_.error(n, prefix(path) + fmt::format("expected a whole number, got {}", trim(n.text)));
    return std::nullopt;
  }
  if (*v < static_cast<double>(lo) || *v > static_cast<double>(hi)) {
    r_.error(n, prefix(path) +
                    fmt::format("{} is out of range; expected {} to {}", trim(n.text), lo, hi));
    return std::nullopt;
  }
  return static_cast<long long>(*v);
}

std::optional<std::string> Builder::text(const Node& n, const std::string& path) {
  if (!n.is_scalar()) {
    r_.error(n, prefix(path) + "expected text, got " + yaml::describe(n));
    return std::nullopt;
  }
  return n.text;
}

std::optional<bool> Builder::boolean(const Node& n, const std::string& path) {
  if (n.is_scalar() && !n.quoted) {
    const std::string& t = n.text;
    if (t == "true" || t == "True" || t == "TRUE") return true;
    if (t == "false" || t == "False" || t == "FALSE") return false;
  }
  r_.error(n, prefix(path) + "expected true or false, got " + yaml::describe(n));
  return std::nullopt;
}

bool Builder::check_constant(double v, const Node& n, const std::string& path, Bound b) {
  switch (b) {
    case Bound::any:
      return true;
    case Bound::growth:
      if (v < -1) {
        r_.error(n, prefix(path) + fmt::format("growth {} is a fall of more than 100%; a growth "
                                               "rate is a fraction above -1 (0.05 for 5%)",
                                               num(v)));
        return false;
      }
      if (v > 1)
        r_.warning(n, prefix(path) + fmt::format("growth {} is {}% a year; if you meant {}%, "
                                                 "write {}",
                                                 num(v), num(v * 100), num(v), num(v / 100)));
      return true;
    case Bound::nonneg:
      if (v < 0) {
        r_.error(n, prefix(path) + fmt::format("{} is negative; it must be 0 or more", num(v)));
        return false;
      }
      return true;
    case Bound::months:
      if (v < 0) {
        r_.error(n, prefix(path) +
                        fmt::format("{} months: a number of months is never negative", num(v)));
        return false;
      }
      return true;
    case Bound::positive:
      if (v <= 0) {
        r_.error(n, prefix(path) + fmt::format("{} must be above 0", num(v)));
        return false;
      }
      return true;
    case Bound::share:
      if (v >= 0 && v <= 1) return true;
      if (v > 1 && v <= 100)
        r_.error(n, prefix(path) + fmt::format("{} looks like a percentage; write {} for {}%",
                                               num(v), num(v / 100), num(v)));
      else
        r_.error(n, prefix(path) +
                        fmt::format("{} is not a share; a share is a fraction in [0, 1]", num(v)));
      return false;
    case Bound::count:
      if (v < 0 || std::floor(v) != v) {
        r_.error(n, prefix(path) + fmt::format("{} is not a count; expected a whole number, 0 or "
                                               "more",
                                               num(v)));
        return false;
      }
      return true;
  }
  return true;
}

bool Builder::check_distribution(const Distribution& d, const Node& n, const std::string& path,
                                 Bound b) {
  const double lo = d.support_min(), hi = d.support_max();
  const std::string fam = family_name(d.family());
  auto unbounded = [&](const char* need) {
    if (d.family() == Family::normal)
      return fmt::format("a normal distribution without {} is unbounded", need);
    return fmt::format("a {} distribution is unbounded", fam);
  };
  switch (b) {
    case Bound::any:
      return true;
    case Bound::growth: {
      if (std::isfinite(lo) && lo < -1) {
        r_.error(n, prefix(path) + fmt::format("can fall to {}, a fall of more than 100%; a growth "
                                               "rate is a fraction above -1",
                                               num(lo)));
        return false;
      }
      double m = d.mean();
      if (std::isfinite(m) && std::fabs(m) > 1)
        r_.warning(n, prefix(path) + fmt::format("mean growth {} is {}% a year; if you meant {}%, "
                                                 "write fractions (e.g. {})",
                                                 num(m), num(m * 100), num(m), num(m / 100)));
      return true;
    }
    case Bound::nonneg:
    case Bound::months:
      if (lo >= 0) return true;
      if (!std::isfinite(lo))
        r_.error(n, prefix(path) + unbounded("min") + " below; " +
                        (b == Bound::months ? "a number of months is never negative"
                                            : "this value is never negative") +
                        ": add min: 0");
      else
        r_.error(n, prefix(path) + fmt::format("can be negative (down to {}); {}", num(lo),
                                               b == Bound::months
                                                   ? "a number of months is never negative"
                                                   : "this value is never negative"));
      return false;
    case Bound::positive:
      if (lo > 0) return true;
      if (!std::isfinite(lo))
        r_.error(n, prefix(path) + unbounded("min") +
                        " below; this value must stay above 0: add "
                        "a positive min");
      else
        r_.error(n, prefix(path) + fmt::format("can be {}; this value must stay above 0", num(lo)));
      return false;
    case Bound::share:
      if (lo >= 0 && hi <= 1) return true;
      if (!std::isfinite(lo) || !std::isfinite(hi)) {
        if (d.family() == Family::normal)
          r_.error(n, prefix(path) + unbounded("min and max") +
                          ", but a share lies within [0, 1]: add min: 0 and max: 1 (or use beta)");
        else
          r_.error(n,
                   prefix(path) + unbounded("") +
                       ", but a share lies within [0, 1]: use beta, uniform, triangular or pert");
      } else if (lo >= 0 && hi > 1 && hi <= 100) {
        r_.error(n, prefix(path) + fmt::format("values up to {} look like percentages; write "
                                               "fractions, e.g. {} for {}%",
                                               num(hi), num(hi / 100), num(hi)));
      } else {
        r_.error(n, prefix(path) + fmt::format("values range over [{}, {}], outside [0, 1]; a "
                                               "share is a fraction",
                                               num(lo), num(hi)));
      }
      return false;
    case Bound::count:
      if (!d.is_integer_valued()) {
        r_.error(n, prefix(path) + fmt::format("is a count: use poisson, discrete with whole "
                                               "values, or a whole number ({} gives fractions)",
                                               fam));
        return false;
      }
      if (lo < 0) {
        r_.error(n, prefix(path) +
                        fmt::format("a count is never negative (values down to {})", num(lo)));
        return false;
      }
      return true;
  }
  return true;
}

std::optional<Distribution> Builder::distribution(const Node& n, const std::string& path, Bound b) {
  if (n.is_null()) {
    r_.error(n, prefix(path) + "has no value; expected a number or a distribution {dist: ...}");
    return std::nullopt;
  }
  if (n.is_scalar()) {
    std::optional<double> v = number(n, path);
    if (!v || !check_constant(*v, n, path, b)) return std::nullopt;
    return Distribution::constant(*v);
  }
  if (n.is_sequence()) {
    r_.error(n, prefix(path) + "expected a number or a distribution {dist: ...}, got a list");
    return std::nullopt;
  }
  const Node* dn = n.find("dist");
  if (!dn) {
    if (is_year_map(n))
      r_.error(n, prefix(path) +
                      "takes one value for the whole run (a number or a distribution), "
                      "not a per-year map");
    else
      r_.error(n, prefix(path) + "a distribution needs 'dist:' (one of " +
                      join_list(family_names()) + ")");
    return std::nullopt;
  }
  if (!dn->is_scalar()) {
    r_.error(*dn, prefix(path) + "dist: expected a family name (" + join_list(family_names()) +
                      "), got " + yaml::describe(*dn));
    return std::nullopt;
  }
  const FamilySpec* spec = family_spec(dn->text);
  if (!spec) {
    // Other names for the same families, as other tools spell them.
    static const std::map<std::string, std::string> aliases = {
        {"gaussian", "normal"},   {"gauss", "normal"},         {"log-normal", "lognormal"},
        {"lognorm", "lognormal"}, {"triangle", "triangular"},  {"betapert", "pert"},
        {"beta-pert", "pert"},    {"categorical", "discrete"}, {"choice", "discrete"},
        {"unif", "uniform"}};
    std::string lower = dn->text;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    auto alias = aliases.find(lower);
    std::string best =
        alias != aliases.end() ? alias->second : yaml::closest(dn->text, family_names());
    if (lower == "constant" || lower == "fixed")
      r_.error(*dn, prefix(path) + "a constant is written as a plain number, without dist:");
    else
      r_.error(*dn, prefix(path) + fmt::format("unknown distribution '{}'; did you mean '{}'? "
                                               "(known: {})",
                                               dn->text, best, join_list(family_names())));
    return std::nullopt;
  }
  const std::string where = fmt::format(" in {} distribution", spec->name);
  const Keys known = family_keys(*spec);
  bool ok = true;
  Keys suggested;  // a misspelt parameter is reported once, not also as missing
  for (std::size_t i = 0; i < n.keys.size(); ++i)
    if (std::find(known.begin(), known.end(), n.keys[i]) == known.end()) {
      unknown_key(n, i, path, known, where);
      suggested.push_back(yaml::closest(n.keys[i], known));
      ok = false;
    }
  for (const auto& req : spec->required)
    if (!n.find(req) && std::find(suggested.begin(), suggested.end(), req) == suggested.end()) {
      r_.error(n, prefix(path) + fmt::format("{} distribution needs '{}' ({})", spec->name, req,
                                             join_list(spec->required)));
      ok = false;
    }
  if (!ok) return std::nullopt;

  std::map<std::string, double> p;
  std::vector<double> values, probs;
  auto list = [&](const std::string& key, std::vector<double>& out) {
    const Node& l = *n.find(key);
    if (!l.is_sequence() || l.items.empty()) {
      r_.error(l, prefix(join(path, key)) + "expected a list of numbers, e.g. [0, 3, 9], got " +
                      yaml::describe(l));
      return false;
    }
    bool good = true;
    for (std::size_t k = 0; k < l.items.size(); ++k) {
      std::optional<double> v = number(l.items[k], fmt::format("{}.{}[{}]", path, key, k));
      if (v)
        out.push_back(*v);
      else
        good = false;
    }
    return good;
  };
  for (std::size_t i = 0; i < n.keys.size(); ++i) {
    const std::string& k = n.keys[i];
    if (k == "dist") continue;
    if (k == "values" || k == "probs") {
      ok = list(k, k == "values" ? values : probs) && ok;
      continue;
    }
    std::optional<double> v = number(n.items[i], join(path, k));
    if (v)
      p[k] = *v;
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  if (spec->family == Family::poisson && b != Bound::count) {
    r_.error(*dn, prefix(path) +
                      "poisson is for counts (firms entries); use normal, lognormal, "
                      "uniform, triangular, pert, beta or discrete here");
    return std::nullopt;
  }
  auto opt = [&](const char* k, double def) { return p.count(k) ? p[k] : def; };
  const double inf = Distribution::INF;
  std::optional<Distribution> d;
  try {
    switch (spec->family) {
      case Family::normal:
        d = Distribution::normal(p["mean"], p["sd"], opt("min", -inf), opt("max", inf));
        break;
      case Family::lognormal:
        d = Distribution::lognormal(p["median"], p["sigma"]);
        break;
      case Family::uniform:
        d = Distribution::uniform(p["min"], p["max"]);
        break;
      case Family::triangular:
        d = Distribution::triangular(p["min"], p["mode"], p["max"]);
        break;
      case Family::pert:
        d = Distribution::pert(p["min"], p["mode"], p["max"], opt("lambda", 4.0));
        break;
      case Family::beta:
        d = Distribution::beta(p["alpha"], p["beta"], opt("min", 0.0), opt("max", 1.0));
        break;
      case Family::poisson:
        d = Distribution::poisson(p["mean"]);
        break;
      case Family::discrete:
        d = Distribution::discrete(values, probs);
        break;
      case Family::constant:
        break;
    }
  } catch (const DistributionError& e) {
    const Node* at = n.find(e.param());
    r_.error(at ? *at : n, prefix(path) + fmt::format("{} distribution: {}", spec->name, e.what()));
    return std::nullopt;
  } catch (const std::exception& e) {
    r_.error(n, prefix(path) + fmt::format("{} distribution: {}", spec->name, e.what()));
    return std::nullopt;
  }
  if (!d || !check_distribution(*d, n, path, b)) return std::nullopt;
  return d;
}

std::optional<double> Builder::constant(const Fields& f, const std::string& key, Bound b,
                                        std::optional<double> def, const std::string& what) {
  const Node* n = get(f, key, !def.has_value(), what);
  if (!n) return f.node ? def : std::nullopt;
  const std::string path = join(f.path, key);
  std::optional<double> v = number(*n, path);
  if (!v || !check_constant(*v, *n, path, b)) return std::nullopt;
  return v;
}

std::optional<bool> Builder::flag(const Fields& f, const std::string& key, bool def) {
  const Node* n = get(f, key, false);
  if (!n) return def;
  return boolean(*n, join(f.path, key));
}

std::optional<Value> Builder::value(const Fields& f, const std::string& key,
                                    const std::string& input, Bound b, std::optional<double> def,
                                    bool required) {
  const Node* n = get(f, key, required && !def);
  if (!n) {
    if (!def || !f.node) return std::nullopt;
    inputs_[input] = {false, false, true};
    return Value{Distribution::constant(*def), input, f.node->pos};
  }
  std::optional<Distribution> d = distribution(*n, join(f.path, key), b);
  inputs_[input] = {false, d && !d->is_constant(), d.has_value()};
  if (!d) return std::nullopt;
  return Value{*d, input, n->pos};
}

std::optional<PerYearValue> Builder::per_year(const Fields& f, const std::string& key,
                                              const std::string& input, Bound b) {
  const Node* n = get(f, key, true);
  if (!n) return std::nullopt;
  const std::string path = join(f.path, key);
  const int first = s_.base_year + 1, last = s_.last_year;
  const int years = horizon_ok_ ? s_.years() : 0;
  PerYearValue out;
  out.years.resize(years);
  bool ok = true, random = false;
  if (is_year_map(*n)) {
    std::vector<bool> seen(years, false);
    for (std::size_t i = 0; i < n->keys.size(); ++i) {
      const std::string& k = n->keys[i];
      const std::string item_path = join(path, k);
      std::optional<Distribution> d = distribution(n->items[i], item_path, b);
      ok = ok && d.has_value();
      if (d) random = random || !d->is_constant();
      if (!all_digits(k) || k.size() != 4) {
        r_.error(n->items[i].source, n->key_pos[i],
                 prefix(path) +
                     fmt::format("'{}' is not a year; a per-year map has YYYY keys{}", k,
                                 horizon_ok_ ? fmt::format(" covering {}..{}", first, last) : ""));
        ok = false;
        continue;
      }
      if (!horizon_ok_) continue;
      int y = std::stoi(k);
      if (y < first || y > last) {
        r_.error(n->items[i].source, n->key_pos[i],
                 prefix(path) + fmt::format("{} is not a projection year; the map covers {}..{} "
                                            "(the base year {} is known, not projected)",
                                            y, first, last, s_.base_year));
        ok = false;
        continue;
      }
      seen[y - first] = true;
      if (d) out.years[y - first] = Value{*d, input, n->items[i].pos};
    }
    Keys missing;
    for (int t = 0; t < years; ++t)
      if (!seen[t]) missing.push_back(std::to_string(first + t));
    if (!missing.empty()) {
      r_.error(n->source, key_pos(f, key),
               prefix(path) + fmt::format("no value for {}; a per-year map covers every "
                                          "projection year {}..{} (or write one value for all)",
                                          join_list(missing), first, last));
      ok = false;
    }
  } else {
    std::optional<Distribution> d = distribution(*n, path, b);
    ok = d.has_value();
    if (d) {
      random = !d->is_constant();
      for (auto& v : out.years) v = Value{*d, input, n->pos};
    }
  }
  inputs_[input] = {true, random, ok};
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::string> Builder::id(const Fields& f, const std::string& what, IdSeen& seen) {
  const Node* n = get(f, "id", true, "a short ASCII name, e.g. textiles");
  if (!n) return std::nullopt;
  const std::string path = join(f.path, "id");
  std::optional<std::string> t = text(*n, path);
  if (!t) return std::nullopt;
  if (!is_slug(*t)) {
    r_.error(*n, prefix(path) + fmt::format("'{}' is not a valid id; use ASCII letters, digits, "
                                            "'-' and '_' (put the full name in name:)",
                                            *t));
  }
  auto [it, inserted] = seen.first.emplace(*t, n);
  if (!inserted)
    r_.error(*n, prefix(path) + fmt::format("duplicate {} id '{}' (first at {}); ids are unique",
                                            what, *t, where_noted(r_, *it->second, n->source)));
  return t;
}

int Builder::cluster_ref(const Node& n, const std::string& path) {
  std::optional<std::string> t = text(n, path);
  if (!t) return -1;
  Keys ids;
  for (std::size_t i = 0; i < s_.clusters.size(); ++i) {
    if (s_.clusters[i].id == *t) return static_cast<int>(i);
    ids.push_back(s_.clusters[i].id);
  }
  if (!clusters_ok_) return -1;  // the cluster list itself is broken: reported there
  if (ids.empty())
    r_.error(n, prefix(path) + fmt::format("unknown cluster '{}'; no clusters are defined", *t));
  else
    r_.error(
        n, prefix(path) + fmt::format("unknown cluster '{}'; did you mean '{}'? (clusters: {})", *t,
                                      yaml::closest(*t, ids), join_list(ids)));
  return -1;
}

// --- sections ---

void Builder::horizon(const Fields& top) {
  const Node* h = get(top, "horizon", true, "{base_year: YYYY, last_year: YYYY}");
  if (!h) return;
  Fields f = fields(*h, "horizon", kHorizonKeys, "base_year and last_year");
  const Node* bn = get(f, "base_year", true, "the year of the known starting values");
  const Node* ln = get(f, "last_year", true, "the last projection year");
  std::optional<long long> by, ly;
  if (bn) by = integer(*bn, "horizon.base_year", 1000, 9999);
  if (ln) ly = integer(*ln, "horizon.last_year", 1000, 9999);
  if (!by || !ly) return;
  if (*ly <= *by) {
    r_.error(*ln, fmt::format("horizon.last_year: {} must be after base_year {}", *ly, *by));
    return;
  }
  if (*ly - *by > kMaxYears) {
    r_.error(*ln, fmt::format("horizon: {}..{} is {} years; at most {} projection years", *by, *ly,
                              *ly - *by, kMaxYears));
    return;
  }
  s_.base_year = static_cast<int>(*by);
  s_.last_year = static_cast<int>(*ly);
  horizon_ok_ = true;
}

void Builder::simulation(const Fields& top) {
  const Node* sn = get(top, "simulation", true, "{draws: N, seed: S}");
  if (!sn) return;
  Fields f = fields(*sn, "simulation", kSimulationKeys, "draws and seed");
  if (const Node* d = get(f, "draws", true, "the number of Monte-Carlo draws")) {
    std::optional<double> v = number(*d, "simulation.draws");
    if (v) {
      if (std::floor(*v) != *v || *v < 1 || *v > static_cast<double>(kMaxDraws))
        r_.error(*d, fmt::format("simulation.draws: expected a whole number from 1 to {}, got {}",
                                 kMaxDraws, trim(d->text)));
      else
        s_.draws = static_cast<std::uint64_t>(*v);
    }
  }
  if (const Node* sd = get(f, "seed", true, "a whole number, 0 or more")) {
    std::string t = sd->is_scalar() ? trim(sd->text) : "";
    if (!t.empty() && t[0] == '+') t.erase(0, 1);
    if (all_digits(t)) {
      errno = 0;
      unsigned long long v = std::strtoull(t.c_str(), nullptr, 10);
      if (errno == ERANGE)
        r_.error(*sd, fmt::format("simulation.seed: {} is too large; at most {}", t,
                                  std::numeric_limits<std::uint64_t>::max()));
      else
        s_.seed = v;
    } else if (std::optional<double> v = number(*sd, "simulation.seed")) {
      if (*v < 0 || std::floor(*v) != *v || *v >= 18446744073709551616.0)
        r_.error(*sd, fmt::format("simulation.seed: expected a whole number from 0 to {}, got {}",
                                  std::numeric_limits<std::uint64_t>::max(), trim(sd->text)));
      else
        s_.seed = static_cast<std::uint64_t>(*v);
    }
  }
}

void Builder::macro(const Fields& top) {
  const Node* mn = get(top, "macro", true);
  if (!mn) return;
  Fields f = fields(*mn, "macro", kMacroKeys);
  if (!f.node) return;
  gdp_node_ = get(f, "gdp_base", false);
  if (auto v = constant(f, "gdp_base", Bound::positive, std::nullopt, "base-year GDP in 亿元")) {
    s_.macro.gdp_base = *v;
    gdp_ok_ = true;
  }
  if (auto v = per_year(f, "rest_growth", "macro.rest_growth", Bound::growth))
    s_.macro.rest_growth = *v;
  if (auto v = constant(f, "rest_shock_loading", Bound::any, 0.5)) s_.macro.rest_shock_loading = *v;
  if (const Node* cs = get(f, "common_shock", true, "{sd: ..., persistence: ...}")) {
    Fields sf = fields(*cs, "macro.common_shock", kShockKeys, "sd and persistence");
    if (auto v = constant(sf, "sd", Bound::nonneg, std::nullopt)) s_.macro.shock_sd = *v;
    if (auto v = constant(sf, "persistence", Bound::any, std::nullopt)) {
      if (std::fabs(*v) > 1)
        r_.error(*get(sf, "persistence", false),
                 fmt::format("macro.common_shock.persistence: {} is outside [-1, 1]; the shock "
                             "would grow without bound",
                             num(*v)));
      else
        s_.macro.shock_persistence = *v;
    }
  }
  if (auto v = value(f, "digital_share_of_rest", "macro.digital_share_of_rest", Bound::share,
                     std::nullopt))
    s_.macro.digital_share_of_rest = *v;
}

void Builder::finance(const Fields& top) {
  const Node* fn = get(top, "finance", true);
  if (!fn) return;
  Fields f = fields(*fn, "finance", kFinanceKeys);
  if (!f.node) return;
  if (auto v = per_year(f, "new_loans", "finance.new_loans", Bound::nonneg))
    s_.finance.new_loans = *v;
  if (auto v =
          per_year(f, "manufacturing_loan_share", "finance.manufacturing_loan_share", Bound::share))
    s_.finance.manufacturing_loan_share = *v;
  if (auto v = constant(f, "reference_share", Bound::share, std::nullopt))
    s_.finance.reference_share = *v;
  if (auto v = constant(f, "project_credit_fraction", Bound::share, std::nullopt))
    s_.finance.project_credit_fraction = *v;
}

void Builder::land(const Fields& top) {
  const Node* ln = get(top, "land", true);
  if (!ln) return;
  Fields f = fields(*ln, "land", kLandKeys);
  if (!f.node) return;
  if (auto v = constant(f, "initial_stock_mu", Bound::nonneg, std::nullopt))
    s_.land.initial_stock_mu = *v;
  if (auto v = per_year(f, "supply_mu", "land.supply_mu", Bound::nonneg)) s_.land.supply_mu = *v;
}

void Builder::clusters(const Fields& top) {
  const Node* ln = get(top, "clusters", true, "a list of clusters");
  if (!ln) return;
  if (!ln->is_sequence()) {
    r_.error(*ln,
             "clusters: expected a list of clusters ('- id: ...'), got " + yaml::describe(*ln));
    return;
  }
  if (ln->items.empty()) {
    r_.error(*ln, "clusters: the list is empty; a scenario has at least one cluster");
    return;
  }
  clusters_ok_ = true;
  IdSeen seen;
  for (std::size_t i = 0; i < ln->items.size(); ++i) {
    const Node& item = ln->items[i];
    Fields f = fields(item, fmt::format("clusters[{}]", i), kClusterKeys, "cluster fields");
    Cluster c;
    c.pos = item.pos;
    auto cid = id(f, "cluster", seen);
    c.id = cid ? *cid : "";
    s_.clusters.push_back(c);  // now, so that references resolve even if fields are bad
    const std::string key = "clusters." + (cid ? *cid : std::to_string(i));
    bool ok = f.node != nullptr;
    if (const Node* n = get(f, "name", true, "a label, e.g. 纺织服装"))
      if (auto t = text(*n, join(f.path, "name"))) c.name = *t;
    if (const Node* n = get(f, "group", false))
      if (auto t = text(*n, join(f.path, "group"))) c.group = *t;
    if (auto v = flag(f, "manufacturing", true)) c.manufacturing = *v;
    auto base = constant(f, "base_output", Bound::nonneg, std::nullopt, "base-year output in 亿元");
    if (base) c.base_output = *base;
    if (auto v = per_year(f, "growth", key + ".growth", Bound::growth)) c.growth = *v;
    if (auto v = constant(f, "shock_loading", Bound::any, 1.0)) c.shock_loading = *v;
    if (auto v = constant(f, "credit_elasticity", Bound::any, 0.0)) c.credit_elasticity = *v;
    auto var =
        value(f, "value_added_ratio", key + ".value_added_ratio", Bound::share, std::nullopt);
    if (var) c.value_added_ratio = *var;
    if (auto v = value(f, "tax_rate", key + ".tax_rate", Bound::share, std::nullopt))
      c.tax_rate = *v;
    if (auto v = value(f, "output_per_worker", key + ".output_per_worker", Bound::positive,
                       std::nullopt))
      c.output_per_worker = *v;
    if (auto v = value(f, "productivity_growth", key + ".productivity_growth", Bound::growth,
                       std::nullopt))
      c.productivity_growth = *v;
    if (auto v = constant(f, "digital_share", Bound::share, 0.0)) c.digital_share = *v;
    if (auto v = constant(f, "strategic_emerging_share", Bound::share, 0.0))
      c.strategic_emerging_share = *v;
    s_.clusters.back() = c;
    cluster_ok_.push_back(ok && base && var);
  }
}

// "YYYY-MM" to months from January of base_year + 1; nullopt after reporting.
std::optional<int> parse_month(const std::string& t, const Node& n, const std::string& path,
                               int base_year, Report& r) {
  auto digits = [&](std::size_t a, std::size_t b) {
    return std::all_of(t.begin() + a, t.begin() + b, [](char c) { return c >= '0' && c <= '9'; });
  };
  std::size_t dash = t.find('-');
  if (t.size() == 7 && dash == 4 && digits(0, 4) && digits(5, 7)) {
    int month = std::stoi(t.substr(5));
    if (month < 1 || month > 12) {
      r.error(n, prefix(path) + fmt::format("month {:02d} in '{}' does not exist; months are 01 to "
                                            "12",
                                            month, t));
      return std::nullopt;
    }
    return 12 * (std::stoi(t.substr(0, 4)) - (base_year + 1)) + (month - 1);
  }
  if (t.size() == 6 && dash == 4 && digits(0, 4) && digits(5, 6)) {
    r.error(n, prefix(path) + fmt::format("write the month with two digits: '{}-0{}'",
                                          t.substr(0, 4), t.substr(5)));
  } else if (dash != std::string::npos && dash > 0 && dash < 4 && digits(0, dash)) {
    r.error(n, prefix(path) + fmt::format("'{}': the year needs four digits; expected YYYY-MM, "
                                          "e.g. 2022-04",
                                          t));
  } else if (t.size() == 10 && dash == 4 && t[7] == '-') {
    r.error(n, prefix(path) + fmt::format("'{}' is a day; expected a month YYYY-MM, e.g. '{}'", t,
                                          t.substr(0, 7)));
  } else {
    r.error(n, prefix(path) + fmt::format("expected a month YYYY-MM, e.g. 2022-04, got '{}'", t));
  }
  return std::nullopt;
}

void Builder::projects(const Fields& top) {
  const Node* ln = get(top, "projects", false);
  if (!ln) return;
  if (!ln->is_sequence()) {
    r_.error(*ln,
             "projects: expected a list of projects ('- id: ...'), got " + yaml::describe(*ln));
    return;
  }
  IdSeen seen;
  const int months = horizon_ok_ ? 12 * s_.years() : 0;
  for (std::size_t i = 0; i < ln->items.size(); ++i) {
    const Node& item = ln->items[i];
    Fields f = fields(item, fmt::format("projects[{}]", i), kProjectKeys, "project fields");
    Project p;
    p.pos = item.pos;
    auto pid = id(f, "project", seen);
    p.id = pid ? *pid : "";
    const std::string key = "projects." + (pid ? *pid : std::to_string(i));
    if (const Node* n = get(f, "name", true, "a label, e.g. 印染园二期"))
      if (auto t = text(*n, join(f.path, "name"))) p.name = *t;
    if (const Node* n = get(f, "cluster", true, "the id of the cluster it produces for")) {
      p.cluster_index = cluster_ref(*n, join(f.path, "cluster"));
      if (p.cluster_index >= 0) p.cluster = s_.clusters[p.cluster_index].id;
    }
    if (const Node* n = get(f, "planned_start", true, "a month YYYY-MM")) {
      const std::string path = join(f.path, "planned_start");
      if (auto t = text(*n, path)) {
        p.planned_start = trim(*t);
        if (horizon_ok_)
          if (auto m = parse_month(p.planned_start, *n, path, s_.base_year, r_)) {
            p.planned_start_month = *m;
            if (*m >= months)
              r_.warning(*n, prefix(path) + fmt::format("{} is after the last year {}; the project "
                                                        "cannot start within the horizon",
                                                        p.planned_start, s_.last_year));
          }
      }
    }
    if (auto v = value(f, "start_delay_months", key + ".start_delay_months", Bound::months, 0.0))
      p.start_delay_months = *v;
    if (auto v = value(f, "construction_months", key + ".construction_months", Bound::months,
                       std::nullopt))
      p.construction_months = *v;
    if (auto v = value(f, "ramp_months", key + ".ramp_months", Bound::months, std::nullopt))
      p.ramp_months = *v;
    if (auto v = value(f, "capacity_output", key + ".capacity_output", Bound::nonneg, std::nullopt))
      p.capacity_output = *v;
    if (auto v = constant(f, "success_probability", Bound::share, 1.0)) p.success_probability = *v;
    if (auto v = constant(f, "land_mu", Bound::nonneg, std::nullopt, "land it needs, in mu"))
      p.land_mu = *v;
    if (auto v = constant(f, "investment", Bound::nonneg, std::nullopt, "in 亿元"))
      p.investment = *v;
    if (auto v = constant(f, "loan_share", Bound::share, 0.0)) p.loan_share = *v;
    if (get(f, "jobs", false))
      p.jobs = value(f, "jobs", key + ".jobs", Bound::nonneg, std::nullopt, false);
    if (get(f, "tax_rate", false))
      p.tax_rate = value(f, "tax_rate", key + ".tax_rate", Bound::share, std::nullopt, false);
    if (auto v = flag(f, "new_firm", false)) p.new_firm = *v;
    if (auto v = flag(f, "high_tech", false)) p.high_tech = *v;
    if (const Node* n = get(f, "priority", false)) {
      if (auto v = integer(*n, join(f.path, "priority"), -1'000'000'000, 1'000'000'000))
        p.priority = static_cast<int>(*v);
    }
    s_.projects.push_back(std::move(p));
  }
}

void Builder::supply_chain(const Fields& top) {
  const Node* sn = get(top, "supply_chain", false);
  if (!sn) return;
  if (!sn->is_map()) {
    r_.error(*sn, "supply_chain: expected a map {SUPPLIER: {BUYER: coefficient}}, got " +
                      yaml::describe(*sn));
    return;
  }
  Keys ids;
  for (const auto& c : s_.clusters) ids.push_back(c.id);
  auto lookup = [&](const std::string& id, int source, SourcePos pos, const std::string& path) {
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (ids[i] == id) return static_cast<int>(i);
    if (clusters_ok_)
      r_.error(source, pos,
               prefix(path) +
                   fmt::format("unknown cluster '{}'{}", id,
                               ids.empty() ? std::string()
                                           : "; did you mean '" + yaml::closest(id, ids) + "'?"));
    return -1;
  };
  bool ok = clusters_ok_;
  for (std::size_t i = 0; i < sn->keys.size(); ++i) {
    const std::string& from_id = sn->keys[i];
    int from = lookup(from_id, sn->items[i].source, sn->key_pos[i], "supply_chain");
    const Node& row = sn->items[i];
    const std::string row_path = join("supply_chain", from_id);
    if (!row.is_map()) {
      r_.error(row, prefix(row_path) + "expected a map {BUYER_CLUSTER: coefficient}, got " +
                        yaml::describe(row));
      ok = false;
      continue;
    }
    ok = ok && from >= 0;
    for (std::size_t j = 0; j < row.keys.size(); ++j) {
      int to = lookup(row.keys[j], row.items[j].source, row.key_pos[j], row_path);
      const std::string path = join(row_path, row.keys[j]);
      std::optional<double> a = number(row.items[j], path);
      if (a && !check_constant(*a, row.items[j], path, Bound::nonneg)) a.reset();
      if (from < 0 || to < 0 || !a) {
        ok = false;
        continue;
      }
      s_.supply_chain.push_back({from, to, *a, row.items[j].pos});
    }
  }
  if (!ok || s_.supply_chain.empty()) return;
  const int n = static_cast<int>(s_.clusters.size());
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(n, n);
  for (const auto& l : s_.supply_chain) A(l.from, l.to) += l.a;
  Eigen::EigenSolver<Eigen::MatrixXd> es(A, false);
  double radius = es.eigenvalues().cwiseAbs().maxCoeff();
  if (!(radius < 1))
    r_.error(sn->source, key_pos(top, "supply_chain"),
             fmt::format("supply_chain: the local supply chain is not productive (spectral radius "
                         "{:.3g} >= 1): the clusters would need more local inputs than they "
                         "produce; lower the coefficients (each column's sum below 1 is enough)",
                         radius));
}

void Builder::firms(const Fields& top) {
  const Node* fn = get(top, "firms", false);
  if (!fn) return;
  Fields f = fields(*fn, "firms", kFirmsKeys, "above_scale and high_tech");
  for (const char* name : {"above_scale", "high_tech"}) {
    const Node* sn = get(f, name, false);
    if (!sn) continue;
    FirmSeries& series =
        std::string(name) == "above_scale" ? s_.firms.above_scale : s_.firms.high_tech;
    const std::string path = join("firms", name);
    Fields sf = fields(*sn, path, kFirmSeriesKeys, "base, entries and exit_rate");
    series.present = true;
    if (auto v = constant(sf, "base", Bound::count, std::nullopt, "the base-year count"))
      series.base = *v;
    if (auto v = per_year(sf, "entries", path + ".entries", Bound::count)) series.entries = *v;
    if (auto v = value(sf, "exit_rate", path + ".exit_rate", Bound::share, std::nullopt))
      series.exit_rate = *v;
  }
}

std::optional<InputInfo> Builder::correlation_input(const Node& n, const std::string& path) {
  std::optional<std::string> t = text(n, path);
  if (!t) return std::nullopt;
  if (*t == "macro.common_shock") return InputInfo{true, true, true};
  if (std::size_t at = t->find('@'); at != std::string::npos) {
    r_.error(n, prefix(path) + fmt::format("'{}': a correlation holds in every year; write '{}' "
                                           "without the year",
                                           *t, t->substr(0, at)));
    return std::nullopt;
  }
  auto it = inputs_.find(*t);
  if (it == inputs_.end()) {
    Keys keys = {"macro.common_shock"};
    for (const auto& [k, info] : inputs_) keys.push_back(k);
    r_.error(n, prefix(path) + fmt::format("unknown random input '{}'; did you mean '{}'?", *t,
                                           yaml::closest(*t, keys)));
    return std::nullopt;
  }
  if (!it->second.valid) return std::nullopt;  // reported where it was written
  if (!it->second.random) {
    r_.error(n, prefix(path) + fmt::format("'{}' is a constant; only random inputs (written as a "
                                           "distribution) can be correlated",
                                           *t));
    return std::nullopt;
  }
  return it->second;
}

void Builder::correlations(const Fields& top) {
  const Node* ln = get(top, "correlations", false);
  if (!ln) return;
  if (!ln->is_sequence()) {
    r_.error(*ln, "correlations: expected a list of {between: [PATH, PATH], rho: NUMBER}, got " +
                      yaml::describe(*ln));
    return;
  }
  std::map<std::pair<std::string, std::string>, const Node*> pairs;
  for (std::size_t i = 0; i < ln->items.size(); ++i) {
    const Node& item = ln->items[i];
    Fields f =
        fields(item, fmt::format("correlations[{}]", i), kCorrelationKeys, "between and rho");
    Correlation c;
    c.pos = item.pos;
    bool ok = f.node != nullptr;
    if (auto rho = constant(f, "rho", Bound::any, std::nullopt, "a correlation in [-1, 1]")) {
      if (*rho < -1 || *rho > 1) {
        r_.error(*get(f, "rho", false),
                 prefix(join(f.path, "rho")) +
                     fmt::format("{} is outside [-1, 1]; a correlation coefficient lies in [-1, 1]",
                                 num(*rho)));
        ok = false;
      }
      c.rho = *rho;
    } else {
      ok = false;
    }
    const Node* bn = get(f, "between", true, "[PATH, PATH]");
    if (!bn) continue;
    const std::string bpath = join(f.path, "between");
    if (!bn->is_sequence() || bn->items.size() != 2) {
      r_.error(*bn, prefix(bpath) +
                        "expected two input keys [PATH, PATH], e.g. "
                        "[clusters.textiles.growth, macro.rest_growth], got " +
                        (bn->is_sequence() ? fmt::format("{} items", bn->items.size())
                                           : yaml::describe(*bn)));
      continue;
    }
    auto a = correlation_input(bn->items[0], bpath + "[0]");
    auto b = correlation_input(bn->items[1], bpath + "[1]");
    if (!a || !b) continue;
    c.a = bn->items[0].text;
    c.b = bn->items[1].text;
    if (c.a == c.b) {
      r_.error(bn->items[1], prefix(bpath) + fmt::format("'{}' is paired with itself; name two "
                                                         "different inputs",
                                                         c.a));
      continue;
    }
    if (a->per_year != b->per_year) {
      r_.error(*bn,
               prefix(bpath) + fmt::format("cannot correlate {} input '{}' with {} input '{}'; "
                                           "both must be per-year or both per-draw",
                                           a->per_year ? "per-year" : "per-draw", c.a,
                                           b->per_year ? "per-year" : "per-draw", c.b));
      continue;
    }
    auto key = std::minmax(c.a, c.b);
    auto [it, inserted] = pairs.emplace(std::make_pair(key.first, key.second), &item);
    if (!inserted) {
      r_.error(*bn,
               prefix(bpath) + fmt::format("the pair {} / {} is given twice (first at {}); "
                                           "keep one",
                                           c.a, c.b, where_noted(r_, *it->second, bn->source)));
      continue;
    }
    if (ok) s_.correlations.push_back(c);
  }
}

void Builder::targets(const Fields& top) {
  const Node* ln = get(top, "targets", true, "a list of targets");
  if (!ln) return;
  if (!ln->is_sequence()) {
    r_.error(*ln, "targets: expected a list of targets ('- id: ...'), got " + yaml::describe(*ln));
    return;
  }
  if (ln->items.empty()) {
    r_.error(*ln, "targets: the list is empty; a scenario has at least one target");
    return;
  }
  Keys metric_names, groups;
  for (const auto& m : metric_catalogue())
    if (m.shape == MetricShape::draw_year || m.metric == Metric::cluster_output ||
        m.metric == Metric::clusters_at_least)
      metric_names.push_back(m.name);
  for (const auto& c : s_.clusters)
    if (!c.group.empty() && std::find(groups.begin(), groups.end(), c.group) == groups.end())
      groups.push_back(c.group);
  IdSeen seen;
  for (std::size_t i = 0; i < ln->items.size(); ++i) {
    const Node& item = ln->items[i];
    Fields f = fields(item, fmt::format("targets[{}]", i), kTargetKeys, "target fields");
    if (!f.node) continue;
    Target t;
    t.pos = item.pos;
    if (auto tid = id(f, "target", seen)) t.id = *tid;
    if (const Node* n = get(f, "label", true, "a label, e.g. 工业总产值过百亿"))
      if (auto s = text(*n, join(f.path, "label"))) t.label = *s;
    bool has_metric = false;  // a valid target metric was given (t.metric)
    if (const Node* n = get(f, "metric", true, "a metric name, e.g. industrial_output")) {
      const std::string path = join(f.path, "metric");
      if (auto s = text(*n, path)) {
        std::optional<Metric> m = metric_from_name(*s);
        if (!m) {
          r_.error(*n, prefix(path) + fmt::format("unknown metric '{}'; did you mean '{}'?", *s,
                                                  yaml::closest(*s, metric_names)));
        } else if (std::find(metric_names.begin(), metric_names.end(), *s) == metric_names.end()) {
          r_.error(*n, prefix(path) + fmt::format("metric '{}' cannot be a target; targets use "
                                                  "[draw, year] metrics, cluster_output or "
                                                  "clusters_at_least",
                                                  *s));
        } else {
          has_metric = true;
          t.metric = *m;
          if (t.metric == Metric::above_scale_firms && !s_.firms.above_scale.present)
            r_.error(*n, prefix(path) +
                             "above_scale_firms needs firms.above_scale (base, "
                             "entries, exit_rate) in the scenario");
          if (t.metric == Metric::high_tech_firms && !s_.firms.high_tech.present)
            r_.error(*n, prefix(path) +
                             "high_tech_firms needs firms.high_tech (base, entries, "
                             "exit_rate) in the scenario");
        }
      }
    }
    t.year = s_.last_year;
    if (const Node* n = get(f, "year", false)) {
      if (auto y = integer(*n, join(f.path, "year"), 1000, 9999)) {
        if (horizon_ok_ && (*y <= s_.base_year || *y > s_.last_year))
          r_.error(*n, prefix(join(f.path, "year")) +
                           fmt::format("{} is outside the projection years {}..{}", *y,
                                       s_.base_year + 1, s_.last_year));
        t.year = static_cast<int>(*y);
      }
    }
    const Node* least = get(f, "at_least", false);
    const Node* most = get(f, "at_most", false);
    if (least && most) {
      bool least_first = f.node->index_of("at_least") < f.node->index_of("at_most");
      r_.error(item.source, key_pos(f, least_first ? "at_most" : "at_least"),
               prefix(f.path) +
                   "has both at_least and at_most; a target has exactly one (write "
                   "two targets for a range)");
    } else if (!least && !most) {
      r_.error(item,
               prefix(f.path) + "needs at_least or at_most (exactly one), e.g. at_least: 100");
    } else {
      const Node* n = least ? least : most;
      const std::string path = join(f.path, least ? "at_least" : "at_most");
      t.at_least = least != nullptr;
      if (auto v = number(*n, path)) {
        t.threshold = *v;
        if (has_metric && std::string(metric_info(t.metric).units) == "fraction" && *v > 1 &&
            *v <= 100)
          r_.error(*n, prefix(path) + fmt::format("{} looks like a percentage; {} is a fraction: "
                                                  "write {} for {}%",
                                                  num(*v), metric_info(t.metric).name,
                                                  num(*v / 100), num(*v)));
      }
    }
    const Node* cn = get(f, "cluster", false);
    const Node* gn = get(f, "group", false);
    const Node* thn = get(f, "threshold", false);
    const bool cluster_metric = has_metric && t.metric == Metric::cluster_output;
    const bool group_metric = has_metric && t.metric == Metric::clusters_at_least;
    if (cluster_metric) {
      if (const Node* n = get(f, "cluster", true, "the cluster id cluster_output compares")) {
        t.cluster_index = cluster_ref(*n, join(f.path, "cluster"));
        if (t.cluster_index >= 0) t.cluster = s_.clusters[t.cluster_index].id;
      }
    } else if (cn && has_metric) {
      r_.error(item.source, key_pos(f, "cluster"),
               prefix(f.path) + "cluster is used only with metric cluster_output");
    }
    if (group_metric) {
      if (const Node* n = get(f, "group", true, "the cluster group it counts")) {
        const std::string path = join(f.path, "group");
        if (auto g = text(*n, path)) {
          t.group = *g;
          if (clusters_ok_ && std::find(groups.begin(), groups.end(), *g) == groups.end())
            r_.error(*n, prefix(path) + (groups.empty()
                                             ? fmt::format("no cluster has group '{}' (no cluster "
                                                           "has a group)",
                                                           *g)
                                             : fmt::format("no cluster has group '{}'; did you "
                                                           "mean '{}'?",
                                                           *g, yaml::closest(*g, groups))));
        }
      }
      if (auto v = constant(f, "threshold", Bound::nonneg, std::nullopt,
                            "the output, in 亿元, a cluster must reach"))
        t.group_threshold = *v;
    } else if (has_metric) {
      if (gn)
        r_.error(item.source, key_pos(f, "group"),
                 prefix(f.path) + "group is used only with metric clusters_at_least");
      if (thn)
        r_.error(item.source, key_pos(f, "threshold"),
                 prefix(f.path) +
                     "threshold is used only with metric clusters_at_least (the "
                     "target's own number is at_least or at_most)");
    }
    s_.targets.push_back(std::move(t));
  }
}

void Builder::rest_of_economy() {
  if (!gdp_ok_ || !clusters_ok_ || s_.clusters.empty()) return;
  if (std::find(cluster_ok_.begin(), cluster_ok_.end(), false) != cluster_ok_.end()) return;
  double industry = 0;
  Keys parts;
  for (const auto& c : s_.clusters) {
    double v = c.value_added_ratio.dist.support_max();
    industry += v * c.base_output;
    parts.push_back(fmt::format("{} {} x {}", c.id, num(v), num(c.base_output)));
  }
  double rest = s_.macro.gdp_base - industry;
  if (rest > 0) return;
  r_.error(*gdp_node_,
           fmt::format("macro.gdp_base: {} leaves nothing for the rest of the economy: industry's "
                       "base-year value added can reach {:.4g} ({}), so R0 = gdp_base - sum of "
                       "value_added_ratio x base_output = {:.4g} <= 0; raise gdp_base or lower the "
                       "clusters' base_output or value_added_ratio",
                       num(s_.macro.gdp_base), industry, join_list(parts, " + "), rest));
}

void Builder::build(const Node& root) {
  if (root.is_null()) {
    r_.error(root,
             "the scenario is empty; it starts with 'schema: countysim/1' (see "
             "docs/scenario-format.md)");
    return;
  }
  if (!root.is_map()) {
    r_.error(root,
             "expected a scenario: a YAML map of sections starting with 'schema: "
             "countysim/1', got " +
                 yaml::describe(root));
    return;
  }
  Fields top = fields(root, "", kTopKeys);
  if (const Node* n = get(top, "schema", true, "write 'schema: countysim/1' first")) {
    if (!n->is_scalar() || n->text != kSchema)
      r_.error(*n, fmt::format("schema: {} is not a schema this countysim reads; write 'schema: "
                               "{}'",
                               yaml::describe(*n), kSchema));
  }
  if (const Node* n = get(top, "name", true, "the scenario's title"))
    if (auto t = text(*n, "name")) {
      s_.name = *t;
      if (trim(*t).empty()) r_.error(*n, "name: is empty; give the scenario a title");
    }
  if (const Node* n = get(top, "description", false))
    if (auto t = text(*n, "description")) s_.description = *t;
  horizon(top);
  simulation(top);
  macro(top);
  finance(top);
  land(top);
  clusters(top);
  firms(top);
  projects(top);
  supply_chain(top);
  correlations(top);
  targets(top);
  rest_of_economy();
}

}  // namespace

Scenario load_scenario_text(const std::string& text, const std::string& path,
                            const std::vector<std::string>& overrides) {
  Report report;
  Loader loader(report);
  Scenario s;
  s.path = path;
  std::optional<Node> root = loader.load_root(path, text);
  if (root) {
    for (std::size_t i = 0; i < overrides.size(); ++i)
      loader.apply_override(*root, overrides[i], static_cast<int>(i) + 1);
    s.merged_yaml = yaml::emit(*root);
    Builder(report, s).build(*root);
  }
  if (report.has_errors()) throw InputError(report.errors());
  s.warnings = report.warnings();
  return s;
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  std::string text, why;
  if (!read_file(path, text, why))
    throw InputError({{path, {}, fmt::format("cannot read the scenario file: {}", why)}});
  return load_scenario_text(text, path, overrides);
}

}  // namespace countysim
