// Aligned text columns for the terminal tables (run, summary, compare,
// sweep): widths in terminal columns, so Chinese labels line up.
#pragma once
#include <string>
#include <vector>

namespace countysim {

// `s` padded with spaces to `width` terminal columns (on the left if right).
std::string pad_to_width(const std::string& s, int width, bool right = false);

// Columns flagged in `right` are right-aligned; two spaces between columns.
std::string format_columns(const std::vector<std::vector<std::string>>& rows,
                           const std::vector<bool>& right);

}  // namespace countysim
