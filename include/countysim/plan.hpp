// The compiled sampling plan: a Scenario turned into flat arrays the draw loop
// can use without strings, maps or allocation. Built once per run (and reused
// across the points of a sweep).
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "countysim/distribution.hpp"
#include "countysim/errors.hpp"
#include "countysim/scenario.hpp"

namespace countysim {

// One sampled quantity of a draw. Constants have a slot too (value fixed), so
// the model reads every parameter the same way.
struct InputSlot {
  std::string key;       // stream key: "clusters.bamboo.growth@2023"
  std::string base_key;  // without the year: "clusters.bamboo.growth"
  std::uint64_t hash = 0;
  Distribution dist;
  int year = -1;  // projection-year index (0 = B+1) or -1 when per-draw
  bool random = false;
  int group = -1;  // copula group, -1 when uncorrelated
};

// Inputs tied by a Gaussian copula: per-year inputs get one group per year.
struct CopulaGroup {
  std::vector<int> slots;
  Eigen::MatrixXd lower;  // Cholesky factor of the (repaired) correlation matrix
};

struct ClusterSlots {
  std::vector<int> growth;  // [t]
  int value_added_ratio = -1, tax_rate = -1, output_per_worker = -1, productivity_growth = -1;
};

struct ProjectSlots {
  int success = -1, delay = -1, construction = -1, ramp = -1, capacity = -1;
  int jobs = -1, tax_rate = -1;  // -1: not given
};

struct FirmSlots {
  bool present = false;
  std::vector<int> entries;  // [t]
  std::vector<int> exits;    // [t]: uniform, replaced by the binomial exit count
  int exit_rate = -1;
  std::vector<int> flagged;  // projects counted when they open (new_firm / high_tech)
};

// /inputs/<key>: the slots stored under one base key ([draw] or [draw, year]).
struct InputDataset {
  std::string key;
  std::vector<int> slots;  // one (per-draw) or one per projection year
  bool per_year = false;
};

struct Plan {
  const Scenario* scenario = nullptr;  // must outlive the plan
  // Unique per compile_plan call (0: not compiled), so that a workspace can
  // tell whose draws it holds (sampling.hpp). A plan is not changed after
  // compile_plan.
  std::uint64_t id = 0;
  int years = 0, clusters = 0, projects = 0;
  std::vector<InputSlot> slots;
  std::vector<double> constant_values;  // slot values of a draw before sampling
  std::vector<int> random_slots;        // slots drawn from their streams
  std::vector<CopulaGroup> groups;
  std::vector<InputDataset> input_datasets;
  std::vector<Diagnostic> warnings;

  std::vector<int> rest_growth, new_loans, loan_share, land_supply, shock;  // [t]
  std::vector<int> rest_price_change;          // [t] (v2; constant 0 without it)
  std::vector<std::vector<int>> price_change;  // [price index][t] (v2)
  std::vector<int> cluster_price;              // [cluster] price index, -1: price stays 1
  int digital_share_of_rest = -1;
  std::vector<ClusterSlots> cluster;
  std::vector<ProjectSlots> project;
  FirmSlots above_scale, high_tech;

  std::vector<std::vector<int>> target_group_clusters;  // clusters_at_least: members
  std::vector<int> project_cluster;                     // [project] cluster index
  // [project] rank of its priority among the projects' (0: scheduled first),
  // for the scheduling order's sort keys (model.cpp project_timing).
  std::vector<int> priority_rank;

  Eigen::MatrixXd leontief;  // (I - A)^-1, clusters x clusters
  bool has_supply_chain = false;
};

// Compiles the plan. Throws InputError for problems only visible here.
Plan compile_plan(const Scenario& scenario);

// Samples every slot of draw `draw` into `values` (size slots.size()).
// `scratch` is reused between calls to avoid allocation. The reference: the
// model samples blocks of draws (sample_inputs_block, sampling.hpp), which
// gives these bits (tests/test_sampling.cpp).
void sample_inputs(const Plan& plan, std::uint64_t seed, std::uint64_t draw,
                   std::vector<double>& values, std::vector<double>& scratch);

}  // namespace countysim
