// Charts of `explain` (docs/explain.md), in the report's style: a tornado of
// input importance and a project-criticality chart per target, SVG and PNG.
#pragma once
#include <string>
#include <vector>

#include "countysim/explain.hpp"
#include "countysim/report.hpp"
#include "report_chart.hpp"

namespace countysim {

// The charts themselves, for the report to add to its own list (index.html):
// per target a tornado and, when there are projects, a criticality chart.
std::vector<report_detail::Chart> explain_charts(const ExplainResult& r, Lang lang);

// The explain file that belongs to a results file, or "" when there is none:
// <dir>/<stem>-explain/explain.h5 (what `explain OUT.h5 -o <stem>-explain`
// writes), else <dir>/explain.h5.
std::string explain_file_beside(const std::string& results_path);

}  // namespace countysim
