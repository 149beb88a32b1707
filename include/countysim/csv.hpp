// CSV text (RFC 4180): the one writer behind `summary --csv`, `compare --csv`
// and the report's tables. Two dialects: plain UTF-8 with LF for scripts, and
// UTF-8 with a byte-order mark and CRLF, which Excel needs to show Chinese.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace countysim {

struct CsvDialect {
  bool bom = false;
  const char* eol = "\n";
};
inline constexpr CsvDialect csv_plain{false, "\n"};
inline constexpr CsvDialect csv_excel{true, "\r\n"};

// A field, quoted when it holds a comma, quote, CR or LF.
std::string csv_field(std::string_view s);
// Shortest text that reads back to the same double; empty for NaN and inf.
std::string csv_number(double v);

class CsvWriter {
 public:
  explicit CsvWriter(CsvDialect dialect = csv_plain);
  // Fields are quoted as needed; write numbers with csv_number (or fmt) first.
  void row(const std::vector<std::string>& fields);
  const std::string& text() const { return text_; }
  // Writes the text to `path`; RunError if it cannot.
  void save(const std::string& path) const;

 private:
  CsvDialect dialect_;
  std::string text_;
};

}  // namespace countysim
