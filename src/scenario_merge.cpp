#include "scenario_merge.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "countysim/scenario_schema.hpp"
#include "scenario_text.hpp"

namespace countysim::reader {

namespace fs = std::filesystem;
using schema::Keys;
using yaml::Kind;
using yaml::Node;

namespace {

fs::path canonical(const std::string& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::path(p), ec);
  if (ec) c = fs::absolute(fs::path(p), ec).lexically_normal();
  return c;
}

// Known keys of a map found at `pattern` while following a --set path.
Keys keys_for(const Node& root, const std::string& pattern, const Node& map) {
  if (const Node* d = map.find("dist"); d && d->is_scalar())
    if (const schema::FamilySpec* f = schema::family_spec(d->text)) return schema::family_keys(*f);
  if (const Keys* k = schema::schema_keys(pattern)) return *k;
  Keys ids;
  if (pattern == "supply_chain" || pattern.rfind("supply_chain.", 0) == 0)
    if (const Node* cl = root.find("clusters"); cl && cl->is_sequence())
      for (const Node& c : cl->items)
        if (const Node* id = c.is_map() ? c.find("id") : nullptr; id && id->is_scalar())
          ids.push_back(id->text);
  return ids;
}

// The horizon's years when they are plainly valid, to split a per-year value
// written once into a year map; validation reports any problem with them.
std::optional<std::pair<int, int>> horizon_of(const Node& root) {
  const Node* h = root.find("horizon");
  if (!h || !h->is_map()) return std::nullopt;
  const Node* b = h->find("base_year");
  const Node* e = h->find("last_year");
  if (!b || !e || !b->is_scalar() || !e->is_scalar() || !all_digits(b->text) ||
      !all_digits(e->text) || b->text.size() != 4 || e->text.size() != 4)
    return std::nullopt;
  int by = std::stoi(b->text), ly = std::stoi(e->text);
  if (ly <= by || ly - by > schema::kMaxYears) return std::nullopt;
  return std::make_pair(by, ly);
}

}  // namespace

bool read_file(const std::string& path, std::string& text, std::string& why) {
  // O_NONBLOCK: opening a FIFO with no writer must not hang; it is refused
  // below like any file that is not a regular one.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    why = errno == EISDIR ? "it is a directory" : std::strerror(errno);
    return false;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    why = std::strerror(errno);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    why = "it is a directory";
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    why = "it is not a regular file (a device, FIFO or socket); give a scenario file";
    return false;
  }
  const std::size_t limit = yaml::ParseOptions{}.max_bytes;
  if (static_cast<std::uint64_t>(st.st_size) > limit) {
    why = fmt::format("it has {} bytes, more than the {} a scenario may have",
                      static_cast<std::uint64_t>(st.st_size), limit);
    return false;
  }
  // Reads at most limit + 1 bytes, whatever st_size said (files can grow).
  text.clear();
  std::string buf(1 << 16, '\0');
  while (text.size() <= limit) {
    const ssize_t n = ::read(fd, buf.data(), std::min(buf.size(), limit + 1 - text.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      why = std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    text.append(buf.data(), static_cast<std::size_t>(n));
  }
  if (text.size() > limit) {
    why = fmt::format("it has more than the {} bytes a scenario may have", limit);
    return false;
  }
  return true;
}

std::optional<Node> Loader::load_root(const std::string& path, const std::string& text) {
  chain_.push_back({path, canonical(path)});
  return load(path, text);
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
      Keys names;
      for (const auto& l : chain_) names.push_back(l.display);
      names.push_back(parent.string());
      r_.error(ext, fmt::format("extends: cycle {}; a scenario cannot extend itself, directly "
                                "or through others",
                                fmt::join(names, " -> ")));
      return std::nullopt;
    }
  if (static_cast<int>(chain_.size()) >= schema::kMaxExtendsDepth) {
    r_.error(ext, fmt::format("extends: more than {} files extend one another; flatten the chain",
                              schema::kMaxExtendsDepth));
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
        merge_into(*b, over.items[i], join_path(pattern, over.keys[i]), parent_name);
      else
        base.set(over.keys[i], over.key_pos[i], over.items[i]);
    }
    return;
  }
  if (base.is_sequence() && over.is_sequence() &&
      (pattern == "clusters" || pattern == "projects" || pattern == "targets" ||
       pattern == "prices" || pattern == "observed")) {
    merge_by_id(base, over, pattern, parent_name);
    return;
  }
  base = over;
}

void Loader::merge_by_id(Node& base, const Node& over, const std::string& pattern,
                         const std::string& parent_name) {
  // "cluster", "project", "target", "price index", "observation"
  const std::string what = pattern == "prices"     ? "price index"
                           : pattern == "observed" ? "observation"
                                                   : pattern.substr(0, pattern.size() - 1);
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
    if (schema::is_per_year_pattern(pattern) && all_digits(seg) && !cur->is_sequence() &&
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
        pattern = join_path(pattern, seg);
        walked = join_path(walked, seg);
        continue;
      }
      Keys known = keys_for(root, pattern, *cur);
      bool year_key = schema::is_per_year_pattern(pattern) && is_year_map(*cur) && all_digits(seg);
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
              : "; did you mean '" + join_path(walked, yaml::closest(seg, candidates)) + "'?";
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
            ids.empty() ? ""
                        : "; did you mean '" + join_path(walked, yaml::closest(seg, ids)) + "'?";
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
      walked = join_path(walked, seg);
      continue;
    }
    error(col, fmt::format("'{}' names nothing in the scenario: '{}' is {}, not a map; set it "
                           "whole, e.g. --set {}=...",
                           path, walked, yaml::describe(*cur), walked));
    return;
  }
}

}  // namespace countysim::reader
