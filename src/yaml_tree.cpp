#include "countysim/yaml_tree.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "countysim/utf8.hpp"

namespace countysim::yaml {

int Node::index_of(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return static_cast<int>(i);
  return -1;
}

const Node* Node::find(std::string_view key) const {
  int i = index_of(key);
  return i < 0 ? nullptr : &items[i];
}

Node* Node::find(std::string_view key) {
  int i = index_of(key);
  return i < 0 ? nullptr : &items[i];
}

void Node::set(const std::string& key, SourcePos kpos, Node value) {
  if (Node* old = find(key)) {
    *old = std::move(value);
    return;
  }
  kind = Kind::map;
  keys.push_back(key);
  key_pos.push_back(kpos);
  items.push_back(std::move(value));
}

void Node::erase(std::size_t index) {
  items.erase(items.begin() + index);
  if (kind == Kind::map) {
    keys.erase(keys.begin() + index);
    key_pos.erase(key_pos.begin() + index);
  }
}

std::string describe(const Node& n) {
  switch (n.kind) {
    case Kind::null:
      return "nothing";
    case Kind::sequence:
      return "a list";
    case Kind::map:
      return "a map";
    case Kind::scalar:
      break;
  }
  std::string s = n.text;
  if (utf8::length(s) > 40) s = std::string(utf8::prefix(s, 37)) + "...";
  return "'" + s + "'";
}

// ---------------------------------------------------------------------------
// Report

int Report::add_source(std::string name) {
  sources_.push_back(std::move(name));
  return static_cast<int>(sources_.size()) - 1;
}

void Report::error(int source, SourcePos pos, std::string message) {
  errors_.push_back({source, pos, std::move(message)});
}

void Report::warning(int source, SourcePos pos, std::string message) {
  warnings_.push_back({source, pos, std::move(message)});
}

std::vector<Diagnostic> Report::sorted(std::vector<Entry> entries) const {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.source != b.source) return a.source < b.source;
    if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
    return a.pos.column < b.pos.column;
  });
  std::vector<Diagnostic> out;
  out.reserve(entries.size());
  for (auto& e : entries) {
    std::string file = e.source >= 0 && e.source < source_count() ? sources_[e.source] : "?";
    out.push_back({std::move(file), e.pos, std::move(e.message)});
  }
  return out;
}

// ---------------------------------------------------------------------------
// Byte-level checks, done before yaml-cpp sees the text: its own messages for
// these cases are cryptic or point at the wrong place.

int char_count(std::string_view s) {
  return static_cast<int>(utf8::length(s));
}

namespace {

struct Lines {
  std::string_view text;
  std::vector<std::size_t> starts;  // byte offset of each line
  explicit Lines(std::string_view t) : text(t) {
    starts.push_back(0);
    for (std::size_t i = 0; i < t.size(); ++i)
      if (t[i] == '\n') starts.push_back(i + 1);
  }
  YAML::Mark mark(std::size_t offset) const {
    YAML::Mark m;
    m.pos = static_cast<int>(offset);
    m.line =
        static_cast<int>(std::upper_bound(starts.begin(), starts.end(), offset) - starts.begin()) -
        1;
    m.column = static_cast<int>(offset - starts[m.line]);
    return m;
  }
  std::string_view line(std::size_t i) const {
    std::size_t end = i + 1 < starts.size() ? starts[i + 1] - 1 : text.size();
    std::string_view l = text.substr(starts[i], end - starts[i]);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
  }
};

bool check_bytes(std::string_view text, int source, Report& report, const ParseOptions& opt) {
  auto at = [&](int line, int col) {
    return SourcePos{line - 1 + opt.line_base, col + (line == 1 ? opt.column_base - 1 : 0)};
  };
  if (text.size() >= 2 &&
      ((text[0] == '\xFF' && text[1] == '\xFE') || (text[0] == '\xFE' && text[1] == '\xFF'))) {
    report.error(source, at(1, 1),
                 "the file is UTF-16 encoded; save it as UTF-8 (scenario files are UTF-8 text)");
    return false;
  }
  int line = 1, col = 1;
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0) {
      report.error(source, at(line, col),
                   "NUL byte: this looks like a binary file, not a UTF-8 YAML scenario");
      return false;
    }
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      report.error(source, at(line, col),
                   fmt::format("control character 0x{:02X}: this looks like a binary file, not a "
                               "UTF-8 YAML scenario",
                               c));
      return false;
    }
    std::size_t len = utf8::valid_length(text, i);
    if (len == 0) {
      report.error(source, at(line, col),
                   fmt::format("invalid UTF-8 (byte 0x{:02X}); save the file as UTF-8", c));
      return false;
    }
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    i += len;
  }
  return true;
}

// A line that opens a block scalar (`key: |`, `- >-`, `key: |2 # note`).
bool opens_block_scalar(std::string_view rest) {
  std::size_t hash = rest.find(" #");
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  std::size_t k = rest.size();
  while (k > 0 && (rest[k - 1] == '-' || rest[k - 1] == '+' ||
                   std::isdigit(static_cast<unsigned char>(rest[k - 1]))))
    --k;
  if (k == 0 || (rest[k - 1] != '|' && rest[k - 1] != '>')) return false;
  if (rest.size() - k > 2) return false;
  return k == 1 || rest[k - 2] == ' ' || rest[k - 2] == ':' || rest[k - 2] == '-';
}

// Offset of the innermost '{' or '[' still open at `end` (outside quotes and
// comments), if any.
std::optional<std::size_t> unclosed_bracket(std::string_view text, std::size_t end) {
  std::vector<std::size_t> open;
  char quote = 0;
  bool comment = false;
  end = std::min(end, text.size());
  for (std::size_t i = 0; i < end; ++i) {
    char c = text[i];
    if (c == '\n') {
      comment = false;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t')) {
      comment = true;
    } else if (c == '"' || c == '\'') {
      if (!open.empty()) quote = c;  // quotes matter inside flow collections only
    } else if (c == '{' || c == '[') {
      open.push_back(i);
    } else if ((c == '}' || c == ']') && !open.empty()) {
      open.pop_back();
    }
  }
  if (open.empty()) return std::nullopt;
  return open.back();
}

bool check_tabs(const Lines& lines, int source, Report& report, const ParseOptions& opt) {
  bool ok = true;
  bool in_block = false;
  std::size_t block_indent = 0;
  int reported = 0;
  for (std::size_t i = 0; i < lines.starts.size(); ++i) {
    std::string_view l = lines.line(i);
    std::size_t spaces = 0;
    while (spaces < l.size() && l[spaces] == ' ') ++spaces;
    std::size_t ws = 0;
    while (ws < l.size() && (l[ws] == ' ' || l[ws] == '\t')) ++ws;
    std::string_view rest = l.substr(ws);
    if (in_block) {
      if (rest.empty() || spaces > block_indent) continue;  // block scalar content
      in_block = false;
    }
    if (rest.empty() || rest[0] == '#') continue;
    std::size_t tab = l.find('\t');
    if (tab < ws) {
      ok = false;
      if (++reported <= 20) {
        int line = static_cast<int>(i) + opt.line_base;
        int col = static_cast<int>(tab) + 1 + (i == 0 ? opt.column_base - 1 : 0);
        report.error(source, {line, col},
                     "tab character in indentation; YAML indents with spaces (replace the tab "
                     "with spaces)");
      }
    }
    if (opens_block_scalar(rest)) {
      in_block = true;
      block_indent = spaces;
    }
  }
  return ok;
}

// ---------------------------------------------------------------------------
// Conversion from yaml-cpp

// A scenario nests a handful of levels. The cap keeps every recursion over the
// tree (here, merging, emitting) shallow, and ends an alias used inside its
// own anchor, which yaml-cpp accepts as an endless document.
constexpr int kMaxDepth = 100;

class Converter {
 public:
  Converter(const Lines& lines, int source, Report& report, const ParseOptions& opt)
      : lines_(lines), source_(source), report_(report), opt_(opt) {}

  SourcePos pos(const YAML::Mark& m) const {
    if (m.line < 0 || m.column < 0) return {opt_.line_base, opt_.column_base};
    int col = m.column + 1;
    if (static_cast<std::size_t>(m.line) < lines_.starts.size()) {
      std::string_view l = lines_.line(m.line);
      col = char_count(l.substr(0, std::min<std::size_t>(m.column, l.size()))) + 1;
      if (static_cast<std::size_t>(m.column) > l.size())
        col += m.column - static_cast<int>(l.size());
    }
    if (m.line == 0) col += opt_.column_base - 1;
    return {m.line + opt_.line_base, col};
  }

  bool overflow() const { return overflow_; }

  Node convert(const YAML::Node& y) {
    Node n;
    n.source = source_;
    n.pos = pos(y.Mark());
    if (overflow_) return n;
    if (depth_ > kMaxDepth) {
      overflow_ = true;
      report_.error(source_, top_entry_.line > 0 ? top_entry_ : n.pos,
                    fmt::format("the document nests deeper than {} levels (an alias inside its "
                                "own anchor, e.g. '&x [1, *x]', nests without end); a scenario "
                                "needs a handful",
                                kMaxDepth));
      return n;
    }
    if (++count_ > opt_.max_nodes) {
      overflow_ = true;
      // Inner nodes of an alias point at the anchor; the top-level entry being
      // expanded says more.
      report_.error(source_, top_entry_.line > 0 ? top_entry_ : n.pos,
                    fmt::format("the document expands to more than {} nodes through anchors and "
                                "aliases (a 'billion laughs' document?); countysim refuses it: "
                                "write the repeated parts out, or use extends:",
                                opt_.max_nodes));
      return n;
    }
    switch (y.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        break;
      case YAML::NodeType::Scalar: {
        n.kind = Kind::scalar;
        n.text = y.Scalar();
        const std::string& tag = y.Tag();
        n.quoted = tag == "!" || (tag.size() >= 4 && tag.compare(tag.size() - 4, 4, ":str") == 0);
        break;
      }
      case YAML::NodeType::Sequence:
        n.kind = Kind::sequence;
        ++depth_;
        for (const auto& item : y) n.items.push_back(convert(item));
        --depth_;
        break;
      case YAML::NodeType::Map:
        n.kind = Kind::map;
        ++depth_;
        convert_map(y, n);
        --depth_;
        break;
    }
    return n;
  }

 private:
  void convert_map(const YAML::Node& y, Node& n) {
    std::vector<Node> merges;
    for (auto it = y.begin(); it != y.end(); ++it) {
      // Copies: `it->` yields a temporary proxy; references into it dangle.
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      SourcePos kpos = pos(k.Mark());
      if (!k.IsScalar()) {
        report_.error(source_, kpos,
                      "a map key must be a plain name, not a list or map (check for a stray "
                      "'?' or '{' before the colon)");
        continue;
      }
      if (depth_ == 1) top_entry_ = kpos;
      const std::string& key = k.Scalar();
      if (key == "<<" && k.Tag() == "?") {  // YAML merge key
        merges.push_back(convert(v));
        continue;
      }
      int first = n.index_of(key);
      if (first >= 0) {
        report_.error(source_, kpos,
                      fmt::format("duplicate key '{}' (first at line {}); a key appears once in a "
                                  "map: keep one",
                                  key, n.key_pos[first].line));
        continue;
      }
      Node value = convert(v);
      if (value.is_null()) value.pos = kpos;  // "key:" with nothing: point at the key
      n.keys.push_back(key);
      n.key_pos.push_back(kpos);
      n.items.push_back(std::move(value));
    }
    // Explicit keys win over merged ones; earlier merged maps over later ones.
    auto merge_from = [&](const Node& m) {
      for (std::size_t i = 0; i < m.keys.size(); ++i)
        if (n.index_of(m.keys[i]) < 0) {
          n.keys.push_back(m.keys[i]);
          n.key_pos.push_back(m.key_pos[i]);
          n.items.push_back(m.items[i]);
        }
    };
    for (const Node& m : merges) {
      if (m.is_map()) {
        merge_from(m);
      } else if (m.is_sequence() && std::all_of(m.items.begin(), m.items.end(),
                                                [](const Node& x) { return x.is_map(); })) {
        for (const Node& x : m.items) merge_from(x);
      } else if (!overflow_) {
        report_.error(m,
                      "'<<' merges a map into this one (e.g. '<<: *defaults'), got " + describe(m));
      }
    }
  }

  const Lines& lines_;
  int source_;
  Report& report_;
  const ParseOptions& opt_;
  std::size_t count_ = 0;
  int depth_ = 0;
  SourcePos top_entry_;  // key of the top-level entry being converted
  bool overflow_ = false;
};

// Records where each document starts; everything else is ignored.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

std::optional<Node> parse(const std::string& input, int source, Report& report,
                          const ParseOptions& opt) {
  std::string_view text = input;
  if (text.size() > opt.max_bytes) {
    report.error(source, {opt.line_base, opt.column_base},
                 fmt::format("the file is {} bytes, more than the {} a scenario may have",
                             text.size(), opt.max_bytes));
    return std::nullopt;
  }
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
  if (!check_bytes(text, source, report, opt)) return std::nullopt;
  Lines lines(text);
  if (!check_tabs(lines, source, report, opt)) return std::nullopt;

  Converter conv(lines, source, report, opt);
  // First pass, events only: count the documents. YAML::LoadAll is not safe
  // here: on a stray ',' outside brackets yaml-cpp 0.7 starts a new empty
  // document at the same place forever, and YAML::Load silently drops it.
  DocumentCounter counter;
  YAML::Node doc;
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    while (counter.starts.size() < 4 && parser.HandleNextDocument(counter)) {
      const auto& st = counter.starts;
      if (st.size() >= 2 && st[st.size() - 1].pos == st[st.size() - 2].pos) break;
    }
    if (counter.starts.size() == 1 || counter.starts.empty()) doc = YAML::Load(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    report.error(source, conv.pos(e.mark),
                 fmt::format("YAML syntax error: brackets nested {} levels deep; a scenario needs "
                             "a handful",
                             e.depth()));
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    // e.mark is 0-based (yaml-cpp's what() adds 1); e.msg is the bare message.
    std::string msg = e.msg.empty() ? std::string(e.what()) : e.msg;
    SourcePos at = conv.pos(e.mark);
    // yaml-cpp notices an unclosed bracket where the document ends; the
    // bracket itself is what needs fixing.
    if (msg.find("flow not found") != std::string::npos && e.mark.pos >= 0)
      if (auto open = unclosed_bracket(text, static_cast<std::size_t>(e.mark.pos))) {
        msg = fmt::format("this '{}' is never closed (yaml-cpp: {} at line {}, column {})",
                          text[*open], msg, at.line, at.column);
        at = conv.pos(lines.mark(*open));
      }
    report.error(source, at, "YAML syntax error: " + msg);
    return std::nullopt;
  } catch (const std::exception& e) {
    report.error(source, {opt.line_base, opt.column_base},
                 std::string("cannot read the YAML: ") + e.what());
    return std::nullopt;
  }
  const auto& st = counter.starts;
  for (std::size_t i = 1; i < st.size(); ++i)
    if (st[i].pos == st[i - 1].pos) {
      std::size_t p = static_cast<std::size_t>(std::max(0, st[i].pos));
      std::string c = p < text.size() ? std::string(1, text[p]) : "";
      report.error(source, conv.pos(st[i]),
                   fmt::format("YAML syntax error: unexpected '{}' here (',' separates items only "
                               "inside [...] or {{...}})",
                               c));
      return std::nullopt;
    }
  if (st.size() > 1) {
    report.error(source, conv.pos(st[1]),
                 "a second YAML document ('---'); a scenario file holds one document");
    return std::nullopt;
  }
  if (st.empty()) {
    Node n;
    n.source = source;
    n.pos = {opt.line_base, opt.column_base};
    return n;
  }
  Node root = conv.convert(doc);
  if (conv.overflow()) return std::nullopt;
  return root;
}

// ---------------------------------------------------------------------------
// Emitting

namespace {

bool is_leaf(const Node& n) {
  return n.is_null() || (n.is_scalar() && n.text.find('\n') == std::string::npos);
}

void emit_node(YAML::Emitter& out, const Node& n, bool top) {
  switch (n.kind) {
    case Kind::null:
      out << YAML::Null;
      break;
    case Kind::scalar:
      if (n.text.find('\n') != std::string::npos)
        out << YAML::Literal << n.text;
      else if (n.quoted)
        out << YAML::DoubleQuoted << n.text;
      else
        out << n.text;
      break;
    case Kind::sequence: {
      bool flow = std::all_of(n.items.begin(), n.items.end(), is_leaf);
      if (flow) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const Node& item : n.items) emit_node(out, item, false);
      out << YAML::EndSeq;
      break;
    }
    case Kind::map: {
      bool flow = !top && !n.items.empty() && (n.find("dist") || n.items.size() <= 6) &&
                  std::all_of(n.items.begin(), n.items.end(), is_leaf);
      if (flow) out << YAML::Flow;
      out << YAML::BeginMap;
      for (std::size_t i = 0; i < n.keys.size(); ++i) {
        out << YAML::Key << n.keys[i] << YAML::Value;
        emit_node(out, n.items[i], false);
      }
      out << YAML::EndMap;
      break;
    }
  }
}

}  // namespace

std::string emit(const Node& root) {
  YAML::Emitter out;
  out.SetOutputCharset(YAML::EmitNonAscii);
  emit_node(out, root, true);
  std::string s = out.c_str();
  if (!s.empty() && s.back() != '\n') s += '\n';
  return s;
}

// ---------------------------------------------------------------------------
// Suggestions

std::size_t edit_distance(std::string_view a, std::string_view b) {
  a = a.substr(0, 64);  // suggestions are for names, not for pasted paragraphs
  b = b.substr(0, 64);
  auto lower = [](char c) { return utf8::ascii_lower(c); };
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace countysim::yaml
