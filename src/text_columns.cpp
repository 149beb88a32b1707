#include "countysim/text_columns.hpp"

#include <algorithm>

#include "countysim/utf8.hpp"

namespace countysim {

std::string pad_to_width(const std::string& s, int width, bool right) {
  const int w = utf8::display_width(s);
  if (w >= width) return s;
  return right ? std::string(width - w, ' ') + s : s + std::string(width - w, ' ');
}

std::string format_columns(const std::vector<std::vector<std::string>>& rows,
                           const std::vector<bool>& right) {
  std::vector<int> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c)
      width[c] = std::max(width[c], utf8::display_width(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c)
      out += pad_to_width(row[c], width[c], c < right.size() && right[c]) +
             (c + 1 < row.size() ? "  " : "");
    out += "\n";
  }
  return out;
}

}  // namespace countysim
