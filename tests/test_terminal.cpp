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
}
