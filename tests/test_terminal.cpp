// Terminal tables: the headline quantiles are found by the file's own
// quantile coordinate, never by position.
#include <catch2/catch.hpp>
#include <string>

#include "countysim/terminal.hpp"

using namespace countysim;

TEST_CASE("headline quantiles: a level the file lacks prints as n/a", "[terminal]") {
  MetricSummary gdp;
  gdp.metric = "gdp";
  gdp.units = "亿元";
  gdp.dims = {"year"};
  gdp.shape = {2};
  gdp.quantiles = {0.1, 0.2, 1.5, 2.5};  // [year 2022, 2023] x [quantile 0.05, 0.5]
  MetricSummary short_one = gdp;
  short_one.metric = "industrial_output";
  short_one.quantiles = {0.1, 0.2};  // no row for the last year: left out
  const std::string text = format_headline_quantiles({short_one, gdp}, {0.05, 0.5}, 2023, 2022);
  CHECK(text ==
        "Headline metrics in 2023 (quantiles over draws)\n"
        "metric                              5%           50%           95%  units\n"
        "gdp                               1.50          2.50           n/a  亿元\n");
  const std::string weighted =
      format_headline_quantiles({gdp}, {0.05, 0.5}, 2023, 2022, /*conditioned=*/true);
  CHECK(weighted.substr(0, weighted.find('\n')) ==
        "Headline metrics in 2023 (weighted quantiles: conditioned on the observations)");
}

namespace {
// A conditioned table: one target, one observation in the outer 1%.
TargetTable conditioned_table() {
  TargetTable t;
  TargetRow r;
  r.id = "gdp-300";
  r.label = "GDP过三百亿";
  r.metric = "gdp";
  r.op = "at_least";
  r.threshold = 300;
  r.year = 2025;
  r.probability = 0.4125;
  r.std_error = 0.00612;
  r.ci_low = 0.4005;
  r.ci_high = 0.4245;
  r.prior_probability = 0.3501;
  r.prior_std_error = 0.00477;
  t.rows = {r};
  t.all_met_probability = 0.4125;
  t.all_met_std_error = 0.00612;
  t.conditioned = true;
  t.prior_all_met_probability = 0.3501;
  t.prior_all_met_std_error = 0.00477;
  t.effective_sample_size = 6480.4;
  ObservationRow o;
  o.id = "bamboo2022";
  o.metric = "cluster_output";
  o.cluster = "bamboo";
  o.year = 2022;
  o.value = 151.5;
  o.sd = 3;
  o.prior_quantile = 0.995;
  o.conditioned_median = 150.25;
  o.effective_sample_size = 6480.4;
  t.observations = {o};
  return t;
}
}  // namespace

TEST_CASE("a conditioned target table shows prior and conditioned, ESS, observations, warnings",
          "[terminal]") {
  const std::string text = format_target_table(conditioned_table(), 10000);
  CHECK(text ==
        "Targets (10000 draws conditioned on 1 observation: effective sample size 6480; prior = "
        "share of draws meeting the target, conditioned = the same with each draw weighted by "
        "the likelihood of the observations)\n"
        "target   label        year  condition   prior  conditioned  std.err  95% interval  \n"
        "gdp-300  GDP过三百亿  2025  gdp >= 300  0.350        0.412   0.0061  [0.401, 0.424]\n"
        "All targets together: probability 0.412 (std.err 0.0061); before conditioning 0.350 "
        "(std.err 0.0048)\n"
        "\n"
        "Observations (prior quantile: share of unconditioned draws at or below the value)\n"
        "observation  metric                  year  value  sd  prior quantile  conditioned median  "
        "ESS alone\n"
        "bamboo2022   cluster_output[bamboo]  2022  151.5   3           99.5%              150.25  "
        "     6480\n"
        "warning: observation bamboo2022 (cluster_output[bamboo] 2022 = 151.5) lies in the outer "
        "1% of the unconditioned draws (99.50% of them at or below it): the scenario disagrees "
        "with the record and needs recalibration more than more draws\n");
}

TEST_CASE("a conditioned target CSV adds the prior columns", "[terminal]") {
  CHECK(format_target_csv(conditioned_table()) ==
        "target,label,metric,year,op,threshold,cluster,group,group_threshold,probability,"
        "std_error,ci_low,ci_high,prior_probability,prior_std_error\n"
        "gdp-300,GDP过三百亿,gdp,2025,at_least,300,,,0,0.4125,0.00612,0.4005,0.4245,0.3501,"
        "0.00477\n"
        "all,all targets together,,,,,,,,0.4125,0.00612,,,0.3501,0.00477\n");
}
