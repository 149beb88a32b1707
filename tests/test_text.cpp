// The one UTF-8 decoder and the one CSV writer.
#include <catch2/catch.hpp>
#include <string>

#include "countysim/csv.hpp"
#include "countysim/utf8.hpp"

using namespace countysim;

TEST_CASE("utf8: validation rejects what is not UTF-8", "[text]") {
  CHECK(utf8::valid_length("a", 0) == 1);
  CHECK(utf8::valid_length("\xC3\xA9", 0) == 2);          // é
  CHECK(utf8::valid_length("\xE6\xA1\x83", 0) == 3);      // 桃
  CHECK(utf8::valid_length("\xF0\x9F\x98\x80", 0) == 4);  // emoji
  CHECK(utf8::valid_length("\xC0\xAF", 0) == 0);          // overlong '/'
  CHECK(utf8::valid_length("\xE0\x80\xAF", 0) == 0);      // overlong, 3 bytes
  CHECK(utf8::valid_length("\xED\xA0\x80", 0) == 0);      // UTF-16 surrogate
  CHECK(utf8::valid_length("\xF4\x90\x80\x80", 0) == 0);  // past U+10FFFF
  CHECK(utf8::valid_length("\xE6\xA1", 0) == 0);          // cut short
  CHECK(utf8::valid_length("\x80", 0) == 0);              // stray continuation
}

TEST_CASE("utf8: widths, lengths and prefixes count characters", "[text]") {
  const std::string name = "桃江县 bamboo";
  CHECK(utf8::length(name) == 10);
  CHECK(utf8::display_width(name) == 3 * 2 + 7);
  CHECK(utf8::prefix(name, 2) == "桃江");
  CHECK(utf8::prefix(name, 99) == name);
  std::size_t i = 0;
  CHECK(utf8::next(name, i) == U'桃');
  CHECK(i == 3);
  // A damaged string never reads past its end.
  const std::string cut = "\xE6\xA1";
  i = 0;
  utf8::next(cut, i);
  CHECK(i == cut.size());
  CHECK(utf8::is_ascii("abc"));
  CHECK_FALSE(utf8::is_ascii("abc桃"));
}

TEST_CASE("utf8: ASCII lower case leaves Chinese bytes alone", "[text]") {
  CHECK(utf8::ascii_lower("Normal 正态 PERT") == "normal 正态 pert");
}

TEST_CASE("csv: quoting and the two dialects", "[text]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(csv_number(0.1) == "0.1");
  CHECK(csv_number(std::nan("")) == "");
  CsvWriter plain(csv_plain);
  plain.row({"id", "标签"});
  plain.row({"a", "x,y"});
  CHECK(plain.text() == "id,标签\na,\"x,y\"\n");
  CsvWriter excel(csv_excel);
  excel.row({"id"});
  CHECK(excel.text() == "\xEF\xBB\xBFid\r\n");
}
