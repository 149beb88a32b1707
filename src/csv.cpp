#include "countysim/csv.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>

#include "countysim/errors.hpp"

namespace countysim {

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(double v) {
  return std::isfinite(v) ? fmt::format("{}", v) : std::string();
}

CsvWriter::CsvWriter(CsvDialect dialect) : dialect_(dialect) {
  if (dialect_.bom) text_ = "\xEF\xBB\xBF";
}

void CsvWriter::row(const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) text_ += ',';
    text_ += csv_field(fields[i]);
  }
  text_ += dialect_.eol;
}

void CsvWriter::save(const std::string& path) const {
  std::ofstream f(path, std::ios::binary);
  f << text_;
  f.close();
  if (!f) throw RunError(fmt::format("{}: cannot write", path));
}

}  // namespace countysim
