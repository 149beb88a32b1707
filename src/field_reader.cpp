#include "field_reader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "countysim/utf8.hpp"
#include "scenario_text.hpp"

namespace countysim::reader {

using schema::Keys;
using yaml::Node;

namespace {

bool is_slug(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
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

}  // namespace

Fields FieldReader::fields(const Node& n, const std::string& path, const Keys& known,
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

void FieldReader::unknown_key(const Node& map, std::size_t i, const std::string& path,
                              const Keys& known, const std::string& where) {
  const std::string& key = map.keys[i];
  std::string msg = prefix(path) + fmt::format("unknown key '{}'{}", key, where);
  std::string best = yaml::closest(key, known);
  std::string home = schema::home_of(key);
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

const Node* FieldReader::get(const Fields& f, const std::string& key, bool required,
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
      r_.error(n, prefix(join_path(f.path, key)) +
                      fmt::format("has no value{}", what.empty() ? "" : "; expected " + what));
    return nullptr;
  }
  return &n;
}

SourcePos FieldReader::key_pos(const Fields& f, const std::string& key) const {
  if (!f.node) return {};
  int i = f.node->index_of(key);
  return i < 0 ? f.node->pos : f.node->key_pos[i];
}

std::optional<double> FieldReader::number(const Node& n, const std::string& path) {
  if (!n.is_scalar()) {
    if (n.is_map() && n.find("dist"))
      r_.error(n, prefix(path) + "is a constant: write a plain number, not a distribution");
    else
      r_.error(n, prefix(path) + "expected a number, got " + yaml::describe(n));
    return std::nullopt;
  }
  std::string t = trim(n.text);
  if (!looks_numeric(t)) {
    const std::string low = utf8::ascii_lower(t);
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

std::optional<long long> FieldReader::integer(const Node& n, const std::string& path, long long lo,
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

std::optional<std::string> FieldReader::text(const Node& n, const std::string& path) {
  if (!n.is_scalar()) {
    r_.error(n, prefix(path) + "expected text, got " + yaml::describe(n));
    return std::nullopt;
  }
  return n.text;
}

std::optional<bool> FieldReader::boolean(const Node& n, const std::string& path) {
  if (n.is_scalar() && !n.quoted) {
    const std::string& t = n.text;
    if (t == "true" || t == "True" || t == "TRUE") return true;
    if (t == "false" || t == "False" || t == "FALSE") return false;
  }
  r_.error(n, prefix(path) + "expected true or false, got " + yaml::describe(n));
  return std::nullopt;
}

bool FieldReader::check_constant(double v, const Node& n, const std::string& path, Bound b) {
  if (b != Bound::share && std::fabs(v) > kMaxMagnitude) {
    r_.error(n, prefix(path) + fmt::format("{} is beyond {}, the largest size countysim accepts "
                                           "(money in 亿元, counts, mu, months); check the units",
                                           num(v), num(kMaxMagnitude)));
    return false;
  }
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
    case Bound::price_change:
      if (v <= -1) {
        r_.error(n, prefix(path) + fmt::format("price change {} is a fall of 100% or more; a price "
                                               "level must stay positive, so a price change is a "
                                               "fraction above -1 (-0.03 for -3%)",
                                               num(v)));
        return false;
      }
      if (v > 1)
        r_.warning(n, prefix(path) + fmt::format("price change {} is {}% a year; if you meant {}%, "
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

bool FieldReader::check_distribution(const Distribution& d, const Node& n, const std::string& path,
                                     Bound b) {
  const double lo = d.support_min(), hi = d.support_max();
  const std::string fam = family_name(d.family());
  auto unbounded = [&](const char* need) {
    if (d.family() == Family::normal)
      return fmt::format("a normal distribution without {} is unbounded", need);
    return fmt::format("a {} distribution is unbounded", fam);
  };
  if (b != Bound::share) {
    // The extremes that matter: the support's ends, or one draw in a million.
    const double q_lo = std::isfinite(lo) ? lo : d.quantile(1e-6);
    const double q_hi = std::isfinite(hi) ? hi : d.quantile(1 - 1e-6);
    const double far = std::fabs(q_lo) > std::fabs(q_hi) ? q_lo : q_hi;
    if (!(std::fabs(far) <= kMaxMagnitude)) {
      r_.error(n, prefix(path) + fmt::format("values reach {}, beyond {}, the largest size "
                                             "countysim accepts (money in 亿元, counts, mu, "
                                             "months); check the units",
                                             num(far), num(kMaxMagnitude)));
      return false;
    }
  }
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
      if (std::isfinite(m) && std::fabs(m) > 1) {
        r_.warning(n, prefix(path) + fmt::format("mean growth {} is {}% a year; if you meant {}%, "
                                                 "write fractions (e.g. {})",
                                                 num(m), num(m * 100), num(m), num(m / 100)));
        return true;
      }
      // The usual percent typo spreads a distribution a hundred times too wide.
      const double below = d.cdf(-1), above = 1 - d.cdf(1);
      if (below > kNoticeableMass || above > kNoticeableMass)
        r_.warning(n, prefix(path) +
                          fmt::format("{:.1f}% of the draws fall below -1 (a fall of more than "
                                      "100%) and {:.1f}% lie above 1 (growth above 100%); a "
                                      "growth rate is a fraction (0.05 for 5%): check the spread",
                                      100 * below, 100 * above));
      return true;
    }
    case Bound::price_change: {
      // P_t = P_{t-1} (1 + change) must stay positive in every draw.
      if (!(lo > -1)) {
        if (!std::isfinite(lo))
          r_.error(n, prefix(path) + unbounded("min") +
                          " below, so a price level could fall to 0 or below; add a min above -1 "
                          "(e.g. min: -0.5)");
        else
          r_.error(n, prefix(path) + fmt::format("can fall to {}, a fall of 100% or more; a price "
                                                 "level must stay positive, so a price change "
                                                 "stays above -1",
                                                 num(lo)));
        return false;
      }
      double m = d.mean();
      if (std::isfinite(m) && std::fabs(m) > 1)
        r_.warning(n, prefix(path) + fmt::format("mean price change {} is {}% a year; if you meant "
                                                 "{}%, write fractions (e.g. {})",
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

std::optional<Distribution> FieldReader::distribution(const Node& n, const std::string& path,
                                                      Bound b) {
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
      r_.error(n, prefix(path) + fmt::format("a distribution needs 'dist:' (one of {})",
                                             fmt::join(schema::family_names(), ", ")));
    return std::nullopt;
  }
  if (!dn->is_scalar()) {
    r_.error(*dn, prefix(path) + fmt::format("dist: expected a family name ({}), got {}",
                                             fmt::join(schema::family_names(), ", "),
                                             yaml::describe(*dn)));
    return std::nullopt;
  }
  const schema::FamilySpec* spec = schema::family_spec(dn->text);
  if (!spec) {
    // Other names for the same families, as other tools spell them.
    static const std::map<std::string, std::string> aliases = {
        {"gaussian", "normal"},   {"gauss", "normal"},         {"log-normal", "lognormal"},
        {"lognorm", "lognormal"}, {"triangle", "triangular"},  {"betapert", "pert"},
        {"beta-pert", "pert"},    {"categorical", "discrete"}, {"choice", "discrete"},
        {"unif", "uniform"}};
    const std::string lower = utf8::ascii_lower(dn->text);
    auto alias = aliases.find(lower);
    std::string best =
        alias != aliases.end() ? alias->second : yaml::closest(dn->text, schema::family_names());
    if (lower == "constant" || lower == "fixed")
      r_.error(*dn, prefix(path) + "a constant is written as a plain number, without dist:");
    else
      r_.error(*dn,
               prefix(path) + fmt::format("unknown distribution '{}'; did you mean '{}'? "
                                          "(known: {})",
                                          dn->text, best, fmt::join(schema::family_names(), ", ")));
    return std::nullopt;
  }
  const std::string where = fmt::format(" in {} distribution", spec->name);
  const Keys known = schema::family_keys(*spec);
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
                                             fmt::join(spec->required, ", ")));
      ok = false;
    }
  if (!ok) return std::nullopt;

  std::map<std::string, double> p;
  std::vector<double> values, probs;
  auto list = [&](const std::string& key, std::vector<double>& out) {
    const Node& l = *n.find(key);
    if (!l.is_sequence() || l.items.empty()) {
      r_.error(l, prefix(join_path(path, key)) +
                      "expected a list of numbers, e.g. [0, 3, 9], got " + yaml::describe(l));
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
    std::optional<double> v = number(n.items[i], join_path(path, k));
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

std::optional<double> FieldReader::constant(const Fields& f, const std::string& key, Bound b,
                                            std::optional<double> def, const std::string& what) {
  const Node* n = get(f, key, !def.has_value(), what);
  if (!n) return f.node ? def : std::nullopt;
  const std::string path = join_path(f.path, key);
  std::optional<double> v = number(*n, path);
  if (!v || !check_constant(*v, *n, path, b)) return std::nullopt;
  return v;
}

std::optional<bool> FieldReader::flag(const Fields& f, const std::string& key, bool def) {
  const Node* n = get(f, key, false);
  if (!n) return def;
  return boolean(*n, join_path(f.path, key));
}

std::optional<Value> FieldReader::value(const Fields& f, const std::string& key,
                                        const std::string& input, Bound b,
                                        std::optional<double> def, bool required) {
  const Node* n = get(f, key, required && !def);
  if (!n) {
    if (!def || !f.node) return std::nullopt;
    inputs_[input] = {false, false, true};
    return Value{Distribution::constant(*def), input, f.node->pos};
  }
  std::optional<Distribution> d = distribution(*n, join_path(f.path, key), b);
  inputs_[input] = {false, d && !d->is_constant(), d.has_value()};
  if (!d) return std::nullopt;
  return Value{*d, input, n->pos};
}

std::optional<PerYearValue> FieldReader::per_year(const Fields& f, const std::string& key,
                                                  const std::string& input, Bound b,
                                                  const std::optional<Horizon>& horizon,
                                                  std::optional<double> def) {
  const Node* n = get(f, key, !def.has_value());
  if (!n) {
    if (!def || !f.node || !horizon) return std::nullopt;
    inputs_[input] = {true, false, true};
    PerYearValue out;
    out.years.assign(horizon->years(), Value{Distribution::constant(*def), input, f.node->pos});
    return out;
  }
  const std::string path = join_path(f.path, key);
  const int years = horizon ? horizon->years() : 0;
  const int first = horizon ? horizon->base_year + 1 : 0, last = horizon ? horizon->last_year : 0;
  PerYearValue out;
  out.years.resize(years);
  bool ok = true, random = false;
  if (is_year_map(*n)) {
    std::vector<bool> seen(years, false);
    for (std::size_t i = 0; i < n->keys.size(); ++i) {
      const std::string& k = n->keys[i];
      const std::string item_path = join_path(path, k);
      std::optional<Distribution> d = distribution(n->items[i], item_path, b);
      ok = ok && d.has_value();
      if (d) random = random || !d->is_constant();
      if (!all_digits(k) || k.size() != 4) {
        r_.error(n->items[i].source, n->key_pos[i],
                 prefix(path) +
                     fmt::format("'{}' is not a year; a per-year map has YYYY keys{}", k,
                                 horizon ? fmt::format(" covering {}..{}", first, last) : ""));
        ok = false;
        continue;
      }
      if (!horizon) continue;
      int y = std::stoi(k);
      if (y < first || y > last) {
        r_.error(n->items[i].source, n->key_pos[i],
                 prefix(path) + fmt::format("{} is not a projection year; the map covers {}..{} "
                                            "(the base year {} is known, not projected)",
                                            y, first, last, horizon->base_year));
        ok = false;
        continue;
      }
      seen[y - first] = true;
      if (d) out.years[y - first] = Value{*d, input, n->items[i].pos};
    }
    std::vector<int> missing;
    for (int t = 0; t < years; ++t)
      if (!seen[t]) missing.push_back(first + t);
    if (!missing.empty()) {
      r_.error(n->source, key_pos(f, key),
               prefix(path) + fmt::format("no value for {}; a per-year map covers every "
                                          "projection year {}..{} (or write one value for all)",
                                          fmt::join(missing, ", "), first, last));
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

std::optional<std::string> FieldReader::id(const Fields& f, const std::string& what, IdSeen& seen) {
  const Node* n = get(f, "id", true, "a short ASCII name, e.g. textiles");
  if (!n) return std::nullopt;
  const std::string path = join_path(f.path, "id");
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

}  // namespace countysim::reader
