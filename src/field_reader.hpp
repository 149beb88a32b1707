// Internal to the scenario reader: reads the typed fields of a scenario map
// (numbers, whole numbers, text, booleans, constants, distributions, per-year
// values, ids), checks each against its bound, and reports every problem with
// its position and, where one is near, a did-you-mean suggestion. Not part of
// the library's interface.
#pragma once
#include <map>
#include <optional>
#include <string>

#include "countysim/scenario.hpp"
#include "countysim/scenario_schema.hpp"
#include "countysim/yaml_tree.hpp"

namespace countysim::reader {

// What a value must satisfy beyond being a number or a distribution.
// price_change: a yearly change that keeps a price level positive (above -1).
enum class Bound { any, growth, nonneg, positive, share, months, count, price_change };
// The largest magnitude of any value but a share (money in 亿元, counts, mu,
// months): keeps counts within int32 and sums of money finite.
inline constexpr double kMaxMagnitude = 1e7;
// Mass outside a field's plausible range above which validate warns.
inline constexpr double kNoticeableMass = 0.01;

// The map being read at `path`; node is null when it was not a map (reported).
struct Fields {
  const yaml::Node* node = nullptr;
  std::string path;
};

// A random input, as correlations may name it.
struct InputInfo {
  bool per_year = false;
  bool random = false;  // written as a distribution
  bool valid = false;   // read without errors
};

// Random inputs read so far, by key ("clusters.textiles.growth").
using InputRegistry = std::map<std::string, InputInfo>;

// The ids of one list, each with the node that first used it.
struct IdSeen {
  std::map<std::string, const yaml::Node*> first;
};

// A valid horizon: the projection years are base_year + 1 .. last_year.
struct Horizon {
  int base_year = 0, last_year = 0;
  int years() const { return last_year - base_year; }
};

class FieldReader {
 public:
  explicit FieldReader(yaml::Report& report) : r_(report) {}
  yaml::Report& report() { return r_; }

  // Maps and keys
  // `n` as a map whose keys must be among `known`; each other key is reported.
  Fields fields(const yaml::Node& n, const std::string& path, const schema::Keys& known,
                const std::string& what = "");
  // The value of `key`, or null when absent or written without a value
  // (reported when `required`; `what` says what belongs there).
  const yaml::Node* get(const Fields& f, const std::string& key, bool required,
                        const std::string& what = "");
  // Where `key` is written (the map's position when it is absent).
  SourcePos key_pos(const Fields& f, const std::string& key) const;

  // Scalars: nullopt after reporting.
  std::optional<double> number(const yaml::Node& n, const std::string& path);
  std::optional<long long> integer(const yaml::Node& n, const std::string& path, long long lo,
                                   long long hi);
  std::optional<std::string> text(const yaml::Node& n, const std::string& path);
  std::optional<bool> boolean(const yaml::Node& n, const std::string& path);
  // Bounds: false after reporting (a growth above 100% is only a warning).
  bool check_constant(double v, const yaml::Node& n, const std::string& path, Bound b);
  bool check_distribution(const Distribution& d, const yaml::Node& n, const std::string& path,
                          Bound b);
  // A plain number or a {dist: ...} map.
  std::optional<Distribution> distribution(const yaml::Node& n, const std::string& path, Bound b);

  // Fields of a map. A default makes the field optional.
  std::optional<double> constant(const Fields& f, const std::string& key, Bound b,
                                 std::optional<double> def, const std::string& what = "");
  std::optional<bool> flag(const Fields& f, const std::string& key, bool def);
  // value() and per_year() record `input` (the key it is sampled under) in inputs().
  std::optional<Value> value(const Fields& f, const std::string& key, const std::string& input,
                             Bound b, std::optional<double> def, bool required = true);
  // Without a horizon, a per-year map's keys are checked only for being years.
  // A default makes the field optional (the constant in every year).
  std::optional<PerYearValue> per_year(const Fields& f, const std::string& key,
                                       const std::string& input, Bound b,
                                       const std::optional<Horizon>& horizon,
                                       std::optional<double> def = std::nullopt);
  // The item's `id`: a slug, unique among `seen`; nullopt when absent or not text.
  std::optional<std::string> id(const Fields& f, const std::string& what, IdSeen& seen);

  const InputRegistry& inputs() const { return inputs_; }

 private:
  void unknown_key(const yaml::Node& map, std::size_t i, const std::string& path,
                   const schema::Keys& known, const std::string& where);

  yaml::Report& r_;
  InputRegistry inputs_;
};

}  // namespace countysim::reader
