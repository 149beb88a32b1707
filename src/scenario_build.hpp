// Internal to the scenario reader: validates the merged YAML tree section by
// section into a Scenario. Each section reads its own part of the Scenario and
// returns what later sections need from it, so the order is in the
// signatures. Not part of the library's interface; load_scenario()
// (scenario.hpp) is.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "countysim/scenario.hpp"
#include "countysim/yaml_tree.hpp"
#include "field_reader.hpp"

namespace countysim::reader {

// Reads the whole scenario; every problem goes to the reader's Report.
void build_scenario(FieldReader& in, const yaml::Node& root, Scenario& s);

// Base-year GDP, when it was read without errors (rest_of_economy checks it).
struct GdpBase {
  double value = 0;
  const yaml::Node* node = nullptr;
};

// What the clusters section leaves for the sections that refer to clusters.
struct ClusterIndex {
  // The list itself was read (a non-empty list). When it was not, that was
  // reported once, and references to clusters are not reported again.
  bool listed = false;
  std::vector<std::string> ids;     // in order; "" where an item has no valid id
  std::vector<std::string> groups;  // the distinct non-empty groups, in order of first use
  // Every cluster's base_output and value_added_ratio were read without errors.
  bool base_values_ok = true;

  int find(const std::string& id) const;  // -1 if none
};

// The ids of the price indices (v2), for clusters' price_index.
struct PriceIds {
  std::vector<std::string> ids;           // in order; "" where an item has no valid id
  int find(const std::string& id) const;  // -1 if none
};

// Whether the countysim/2 key (prices, observed, price_index,
// rest_price_change) of the map `f` is to be read: only when `v2`. In a
// countysim/1 file a written v2 key is reported.
bool v2_key_allowed(FieldReader& in, const Fields& f, const std::string& key, bool v2);

// Sections, in the order build_scenario() reads them. `top` is the top-level map.
std::optional<Horizon> read_horizon(FieldReader& in, const Fields& top);
void read_simulation(FieldReader& in, const Fields& top, Scenario& s);  // draws, seed
std::optional<GdpBase> read_macro(FieldReader& in, const Fields& top,
                                  const std::optional<Horizon>& h, bool v2, Macro& macro);
void read_finance(FieldReader& in, const Fields& top, const std::optional<Horizon>& h,
                  Finance& finance);
void read_land(FieldReader& in, const Fields& top, const std::optional<Horizon>& h, Land& land);
PriceIds read_prices(FieldReader& in, const Fields& top, const std::optional<Horizon>& h, bool v2,
                     std::vector<PriceIndex>& prices);
ClusterIndex read_clusters(FieldReader& in, const Fields& top, const std::optional<Horizon>& h,
                           const PriceIds& prices, bool v2, std::vector<Cluster>& clusters);
void read_firms(FieldReader& in, const Fields& top, const std::optional<Horizon>& h, Firms& firms);
void read_projects(FieldReader& in, const Fields& top, const std::optional<Horizon>& h,
                   const ClusterIndex& clusters, std::vector<Project>& projects);
void read_supply_chain(FieldReader& in, const Fields& top, const ClusterIndex& clusters,
                       std::vector<SupplyLink>& links);
// `inputs`: every random input the other sections read (FieldReader::inputs()).
void read_correlations(FieldReader& in, const Fields& top, const InputRegistry& inputs,
                       std::vector<Correlation>& correlations);
void read_targets(FieldReader& in, const Fields& top, const std::optional<Horizon>& h,
                  const ClusterIndex& clusters, const Firms& firms, std::vector<Target>& targets);
void read_observed(FieldReader& in, const Fields& top, const std::optional<Horizon>& h,
                   const ClusterIndex& clusters, const Firms& firms, bool v2,
                   std::vector<Observation>& observed);
// The base-year GDP must leave a positive rest of the economy (R0 > 0).
void check_rest_of_economy(FieldReader& in, const std::optional<GdpBase>& gdp,
                           const ClusterIndex& index, const std::vector<Cluster>& clusters);

// The reference to a cluster written at `n`: its index, or -1 after reporting.
int cluster_ref(FieldReader& in, const yaml::Node& n, const std::string& path,
                const ClusterIndex& clusters);

}  // namespace countysim::reader
