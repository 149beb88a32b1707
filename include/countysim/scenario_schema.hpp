// The scenario schemas `countysim/1` and `countysim/2` as data: the known keys of every map, the
// fields that take a value per year, the distribution families with their
// parameters, and the limits the reader enforces. The scenario reader checks
// files against these tables (unknown keys, did-you-mean suggestions, --set
// paths); docs/scenario-format.md describes the same schema in words.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "countysim/distribution.hpp"

namespace countysim::schema {

using Keys = std::vector<std::string>;

inline constexpr const char* kSchema = "countysim/1";    // the value of `schema:`
inline constexpr const char* kSchemaV2 = "countysim/2";  // v1 plus prices and observed
inline constexpr int kMaxYears = 50;                     // projection years
inline constexpr int kMaxExtendsDepth = 16;              // files in one extends: chain
inline constexpr long long kMaxDraws = 1'000'000'000;

// The known keys of each map.
extern const Keys kTopKeys, kHorizonKeys, kSimulationKeys, kMacroKeys, kShockKeys, kFinanceKeys,
    kLandKeys, kClusterKeys, kProjectKeys, kFirmsKeys, kFirmSeriesKeys, kCorrelationKeys,
    kTargetKeys, kPriceKeys, kObservedKeys;

// Every map of the schema by path pattern: "" is the top level, "*" a list
// item ("clusters.*"). supply_chain's keys are cluster ids, so it is not here.
const std::vector<std::pair<std::string, const Keys*>>& schema_maps();
// The known keys of the map at `pattern`, or null when it is not a schema map.
const Keys* schema_keys(const std::string& pattern);
// Whether the field at `pattern` takes one value per projection year.
bool is_per_year_pattern(const std::string& pattern);
// The map a key belongs to when exactly one map knows it, as "the top level"
// or "'land'"; "" otherwise.
std::string home_of(const std::string& key);

// A distribution family as written after `dist:`, with its parameters.
struct FamilySpec {
  const char* name;
  Family family;
  Keys required, optional;
};

const std::vector<FamilySpec>& families();               // in the order messages list them
const FamilySpec* family_spec(const std::string& name);  // null if unknown
Keys family_names();
Keys family_keys(const FamilySpec& f);  // "dist", then required, then optional

}  // namespace countysim::schema
