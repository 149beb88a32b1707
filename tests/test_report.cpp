// The report: bureau number formats, SVG helpers, and a report of a small
// results file written with ResultsWriter (every file, well-formed SVG, PNG
// sizes, CSVs that read back to the file's numbers).
#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../src/report_chart.hpp"
#include "countysim/chunk_codec.hpp"
#include "countysim/errors.hpp"
#include "countysim/report.hpp"
#include "countysim/results_io.hpp"
#include "countysim/svg.hpp"
#include "temp_dir.hpp"

using namespace countysim;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += len;
  }
  return true;
}

// A small XML well-formedness check (elements nest, attributes are quoted,
// entities are the predefined ones, one root). Returns "" or the problem.
std::string xml_problem(const std::string& s) {
  if (!valid_utf8(s)) return "not UTF-8";
  auto entity_ok = [](const std::string& t) {
    for (std::size_t i = t.find('&'); i != std::string::npos; i = t.find('&', i + 1)) {
      std::size_t semi = t.find(';', i);
      if (semi == std::string::npos) return false;
      std::string e = t.substr(i + 1, semi - i - 1);
      if (e != "amp" && e != "lt" && e != "gt" && e != "quot" && e != "apos" &&
          !(e.size() > 1 && e[0] == '#'))
        return false;
    }
    return true;
  };
  std::vector<std::string> stack;
  int roots = 0;
  std::size_t i = 0;
  if (s.compare(0, 5, "<?xml") == 0) i = s.find("?>") + 2;
  while (i < s.size()) {
    std::size_t lt = s.find('<', i);
    std::string text = s.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
    if (!entity_ok(text) || text.find('>') != std::string::npos) return "bad text: " + text;
    if (stack.empty() && text.find_first_not_of(" \r\n\t") != std::string::npos)
      return "text outside the root";
    if (lt == std::string::npos) break;
    std::size_t gt = lt + 1;
    char quote = 0;
    for (; gt < s.size(); ++gt) {
      if (quote) {
        if (s[gt] == quote)
          quote = 0;
        else if (s[gt] == '<')
          return "'<' in an attribute";
      } else if (s[gt] == '"' || s[gt] == '\'') {
        quote = s[gt];
      } else if (s[gt] == '>') {
        break;
      }
    }
    if (gt >= s.size()) return "unclosed tag";
    std::string tag = s.substr(lt + 1, gt - lt - 1);
    if (!entity_ok(tag)) return "bad entity in " + tag;
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return "mismatched </" + tag + ">";
      stack.pop_back();
    } else {
      bool empty = tag.back() == '/';
      std::string name = tag.substr(0, tag.find_first_of(" \n/"));
      // Attributes: name="value" pairs only.
      std::string rest = tag.substr(name.size(), tag.size() - name.size() - (empty ? 1 : 0));
      std::size_t k = 0;
      while (true) {
        k = rest.find_first_not_of(" \n", k);
        if (k == std::string::npos) break;
        std::size_t eq = rest.find('=', k);
        if (eq == std::string::npos || rest[eq + 1] != '"') return "bad attribute in <" + tag + ">";
        std::size_t close = rest.find('"', eq + 2);
        if (close == std::string::npos) return "unclosed attribute";
        k = close + 1;
      }
      if (stack.empty()) ++roots;
      if (!empty) stack.push_back(name);
    }
    i = gt + 1;
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  if (roots != 1) return "not exactly one root";
  return "";
}

// Deterministic variates for the fixture (splitmix64), not a distribution test.
struct Mix {
  std::uint64_t s;
  double uniform() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  }
  double normal() {
    double u = uniform(), v = uniform();
    return std::sqrt(-2 * std::log(1 - u)) * std::cos(6.283185307179586 * v);
  }
};

double quantile7(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double h = (static_cast<double>(v.size()) - 1) * q;
  auto lo = static_cast<std::size_t>(std::floor(h));
  double b = lo + 1 < v.size() ? v[lo + 1] : v[lo];
  return v[lo] + (h - static_cast<double>(lo)) * (b - v[lo]);
}

// A results file shaped like example.yaml's run: 2021-2024, two clusters, two
// projects, four targets; values from a toy growth model.
void write_fixture(const std::string& path, std::uint64_t draws) {
  RunInfo info;
  info.scenario_name = "示例县 · 测试 <&>";
  info.seed = 7;
  info.draws = draws;
  info.base_year = 2021;
  info.last_year = 2024;
  info.created = "2024-01-01T00:00:00Z";
  Coordinates c;
  c.year = {2021, 2022, 2023, 2024};
  c.projection_year = {2022, 2023, 2024};
  c.cluster = {"textiles", "solar"};
  c.cluster_label = {"纺织服装", "光伏发电"};
  c.cluster_group = {"main", "main"};
  c.cluster_manufacturing = {1, 0};
  c.project = {"dyeing", "rooftop-pv"};
  c.project_label = {"印染园二期", "屋顶光伏"};
  c.project_cluster = {"textiles", "solar"};
  c.project_planned_start_month = {3, 12};
  c.target = {"output-100", "textiles-80", "mfg-share", "firms-100"};
  c.target_label = {"工业总产值过百亿", "纺织过80亿", "制造业增加值占比", "规上企业100家"};
  c.quantile = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95};
  const std::size_t ny = 4, nc = 2, np = 2, nt = 4;

  Mix mix{99};
  std::vector<float> cluster_out(draws * ny * nc), target_value(draws * nt);
  std::vector<std::int32_t> start(draws * np), prod(draws * np);
  std::vector<std::vector<double>> io(ny), share(ny), firms(ny);
  std::vector<std::vector<std::vector<double>>> co(ny, std::vector<std::vector<double>>(nc));
  std::vector<std::size_t> met(nt, 0);
  std::size_t all_met = 0;
  for (std::size_t d = 0; d < draws; ++d) {
    double y[2] = {60, 8}, n = 90;
    for (std::size_t t = 0; t < ny; ++t) {
      if (t > 0) {
        y[0] *= 1.05 + 0.04 * mix.normal();
        y[1] *= 1.04 + 0.1 * mix.normal();
        n += std::round(8 * mix.uniform() - 2.5);
      }
      for (std::size_t k = 0; k < nc; ++k) {
        cluster_out[(d * ny + t) * nc + k] = static_cast<float>(y[k]);
        co[t][k].push_back(static_cast<float>(y[k]));
      }
      double total = static_cast<double>(static_cast<float>(y[0])) + static_cast<float>(y[1]);
      io[t].push_back(total);
      share[t].push_back(0.25 * y[0] / (100 + 0.3 * total));
      firms[t].push_back(n);
    }
    float tv[4] = {static_cast<float>(io[3].back()), static_cast<float>(y[0]),
                   static_cast<float>(share[3].back()), static_cast<float>(n)};
    double thr[4] = {100, 80, 0.12, 100};
    bool all = true;
    for (std::size_t k = 0; k < nt; ++k) {
      target_value[d * nt + k] = tv[k];
      bool ok = tv[k] >= thr[k];
      met[k] += ok;
      all = all && ok;
    }
    all_met += all;
    for (std::size_t p = 0; p < np; ++p) {
      bool happens = mix.uniform() < 0.9;
      auto s = static_cast<std::int32_t>(c.project_planned_start_month[p] +
                                         std::floor(9 * mix.uniform()));
      start[d * np + p] = happens ? s : -1;
      prod[d * np + p] = happens && s + 12 < 36 ? s + 12 : -1;
    }
  }

  std::vector<DatasetSpec> specs = {
      {"draws",
       "cluster_output",
       DType::f32,
       {"year", "cluster"},
       {ny, nc},
       "亿元",
       "gross output by cluster",
       ""},
      {"draws", "target_value", DType::f32, {"target"}, {nt}, "", "value compared", ""},
      {"draws", "project_start_month", DType::i32, {"project"}, {np}, "month", "start", ""},
      {"draws",
       "project_production_month",
       DType::i32,
       {"project"},
       {np},
       "month",
       "production",
       ""}};
  const std::uint64_t chunk = 500;  // draws is a multiple
  ResultsWriter w(path, info, c, specs, draws, chunk);
  // Rows of row_bytes, stored one column a chunk as the engine does.
  auto put = [&](std::size_t ds, const void* base, std::size_t row_bytes, std::size_t elem) {
    const std::size_t cols = row_bytes / elem;
    std::vector<unsigned char> col(chunk * elem);
    for (std::uint64_t k = 0; k < draws / chunk; ++k)
      for (std::size_t c = 0; c < cols; ++c) {
        for (std::uint64_t i = 0; i < chunk; ++i)
          std::memcpy(
              col.data() + i * elem,
              static_cast<const unsigned char*>(base) + (k * chunk + i) * row_bytes + c * elem,
              elem);
        w.write_chunk(ds, k, c, compress_chunk(col.data(), col.size(), elem, 1));
      }
  };
  put(0, cluster_out.data(), ny * nc * 4, 4);
  put(1, target_value.data(), nt * 4, 4);
  put(2, start.data(), np * 4, 4);
  put(3, prod.data(), np * 4, 4);

  auto summarize = [&](const std::string& name, const std::string& units,
                       const std::vector<std::vector<double>>& cells, std::vector<std::string> dims,
                       std::vector<std::size_t> shape) {
    MetricSummary s;
    s.metric = name;
    s.units = units;
    s.long_name = name;
    s.dims = std::move(dims);
    s.shape = std::move(shape);
    for (const auto& v : cells) {
      double m = 0, ss = 0;
      for (double x : v) m += x;
      m /= static_cast<double>(v.size());
      for (double x : v) ss += (x - m) * (x - m);
      s.mean.push_back(m);
      s.sd.push_back(std::sqrt(ss / (static_cast<double>(v.size()) - 1)));
      for (double q : c.quantile) s.quantiles.push_back(quantile7(v, q));
    }
    w.write_summary(s);
  };
  summarize("industrial_output", "亿元", io, {"year"}, {ny});
  summarize("manufacturing_va_share", "fraction", share, {"year"}, {ny});
  summarize("above_scale_firms", "count", firms, {"year"}, {ny});
  std::vector<std::vector<double>> emp;
  for (const auto& v : io) {
    emp.emplace_back();
    for (double x : v) emp.back().push_back(x * 310);  // persons
  }
  summarize("employment", "persons", emp, {"year"}, {ny});
  std::vector<std::vector<double>> cells;
  for (std::size_t t = 0; t < ny; ++t)
    for (std::size_t k = 0; k < nc; ++k) cells.push_back(co[t][k]);
  summarize("cluster_output", "亿元", cells, {"year", "cluster"}, {ny, nc});

  TargetTable tt;
  const char* metric[4] = {"industrial_output", "cluster_output", "manufacturing_va_share",
                           "above_scale_firms"};
  double thr[4] = {100, 80, 0.12, 100};
  for (std::size_t k = 0; k < nt; ++k) {
    TargetRow r;
    r.id = c.target[k];
    r.label = c.target_label[k];
    r.metric = metric[k];
    r.op = "at_least";
    r.threshold = thr[k];
    r.year = 2024;
    r.cluster = k == 1 ? "textiles" : "";
    double p = static_cast<double>(met[k]) / static_cast<double>(draws);
    r.probability = p;
    r.std_error = std::sqrt(p * (1 - p) / static_cast<double>(draws));
    r.ci_low = std::max(0.0, p - 2 * r.std_error);
    r.ci_high = std::min(1.0, p + 2 * r.std_error);
    tt.rows.push_back(r);
  }
  tt.all_met_probability = static_cast<double>(all_met) / static_cast<double>(draws);
  tt.all_met_std_error = 0.01;
  w.write_targets(tt);
  w.close();
}

// RFC 4180 rows of a UTF-8-with-BOM CSV.
std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::string s = slurp(p);
  REQUIRE(s.compare(0, 3, "\xEF\xBB\xBF") == 0);
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (std::size_t i = 3; i < s.size(); ++i) {
    char ch = s[i];
    if (quoted) {
      if (ch == '"' && i + 1 < s.size() && s[i + 1] == '"')
        rows.back().back() += '"', ++i;
      else if (ch == '"')
        quoted = false;
      else
        rows.back().back() += ch;
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      rows.back().emplace_back();
    } else if (ch == '\r') {
    } else if (ch == '\n') {
      rows.emplace_back(1);
    } else {
      rows.back().back() += ch;
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();
  return rows;
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  auto it = std::find(header.begin(), header.end(), name);
  REQUIRE(it != header.end());
  return static_cast<std::size_t>(it - header.begin());
}

struct PngInfo {
  std::uint32_t width = 0, height = 0, ppm = 0;
};
PngInfo png_info(const fs::path& p) {
  std::string s = slurp(p);
  PngInfo r;
  REQUIRE(s.size() > 33);
  REQUIRE(s.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  auto u32 = [&](std::size_t at) {
    return (std::uint32_t(static_cast<unsigned char>(s[at])) << 24) |
           (std::uint32_t(static_cast<unsigned char>(s[at + 1])) << 16) |
           (std::uint32_t(static_cast<unsigned char>(s[at + 2])) << 8) |
           std::uint32_t(static_cast<unsigned char>(s[at + 3]));
  };
  for (std::size_t at = 8; at + 12 <= s.size();) {
    std::uint32_t len = u32(at);
    std::string type = s.substr(at + 4, 4);
    // Every chunk's CRC must hold (catches a bad pHYs insertion).
    uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(s.data() + at + 4), len + 4);
    REQUIRE(crc == u32(at + 8 + len));
    if (type == "IHDR") r.width = u32(at + 8), r.height = u32(at + 12);
    if (type == "pHYs") r.ppm = u32(at + 8);
    at += 12 + len;
  }
  return r;
}

struct TempDir : testing::TempDir {
  TempDir() : testing::TempDir("countysim-report") {}
};

// The kind of the InputError `f` throws.
template <class F>
std::string input_kind(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return input_kind_name(e.kind());
  }
  return "none";
}

}  // namespace

TEST_CASE("report: numbers as a bureau writes them", "[report]") {
  CHECK(format_value(85.345, "亿元", Lang::zh) == "85.3 亿元");
  CHECK(format_value(1234.6, "亿元", Lang::zh) == "1235 亿元");
  CHECK(format_value(0.456, "亿元", Lang::zh) == "0.46 亿元");
  CHECK(format_value(32500, "persons", Lang::zh) == "3.25 万人");
  CHECK(format_value(125000, "persons", Lang::zh) == "12.5 万人");
  CHECK(format_value(0.1234, "fraction", Lang::zh) == "12.3%");
  CHECK(format_value(102, "count", Lang::zh) == "102");
  CHECK(format_value(250, "mu", Lang::zh) == "250 亩");
  CHECK(format_value(85.345, "亿元", Lang::en) == "85.3 (100m yuan)");
  CHECK(format_value(32500, "persons", Lang::en) == "3.25 (10k persons)");
  CHECK(format_value(-0.0001, "亿元", Lang::zh) == "0.00 亿元");
  CHECK(format_value(std::nan(""), "亿元", Lang::zh) == "–");
  DisplayUnit u = display_unit("persons", Lang::zh);
  CHECK(u.scale == 1e-4);
  CHECK(u.unit == "万人");
  CHECK(display_unit("fraction", Lang::en).percent);
}

TEST_CASE("report: probabilities, the likelihood scale and months", "[report]") {
  CHECK(format_probability(0.374) == "37%");
  CHECK(format_probability(0) == "0%");
  CHECK(format_probability(1) == "100%");
  CHECK(format_probability(0.001) == "<1%");
  CHECK(format_probability(0.9991) == ">99%");
  CHECK(classify_probability(2.0 / 3.0) == Likelihood::likely);
  CHECK(classify_probability(0.66) == Likelihood::about_even);
  CHECK(classify_probability(0.5) == Likelihood::about_even);
  CHECK(classify_probability(1.0 / 3.0) == Likelihood::unlikely);
  CHECK(classify_probability(0.34) == Likelihood::about_even);
  CHECK(std::string(likelihood_label(Likelihood::unlikely, Lang::zh)) == "不太可能");
  CHECK(std::string(likelihood_label(Likelihood::likely, Lang::en)) == "likely");
  CHECK(month_label(2021, 0) == "2022-01");
  CHECK(month_label(2021, 15) == "2023-04");
  CHECK(month_label(2021, -1) == "2021-12");
  CHECK(month_label(2021, -12) == "2021-01");
  CHECK(month_label(2021, -13) == "2020-12");
  CHECK(parse_lang("zh") == Lang::zh);
  CHECK(parse_lang("en") == Lang::en);
  CHECK_THROWS_AS(parse_lang("fr"), UsageError);
  CHECK_THROWS_WITH(parse_lang("fr"), "--lang fr: unknown language; use zh or en");
}

TEST_CASE("svg: nice ticks cover the range in steps of 1, 2 or 5", "[report]") {
  struct Case {
    double lo, hi;
  };
  for (Case k : {Case{0, 97}, Case{63.2, 141.7}, Case{0.081, 0.137}, Case{-3, 4}, Case{5, 5},
                 Case{12000, 980000}, Case{1e-5, 3e-5}}) {
    svg::Ticks t = svg::nice_ticks(k.lo, k.hi, 5);
    INFO(k.lo << " .. " << k.hi << ": step " << t.step);
    CHECK(t.lo <= k.lo);
    CHECK(t.hi >= k.hi);
    double mant = t.step / std::pow(10.0, std::floor(std::log10(t.step) + 1e-9));
    CHECK((std::fabs(mant - 1) < 1e-9 || std::fabs(mant - 2) < 1e-9 || std::fabs(mant - 5) < 1e-9));
    CHECK(t.values.size() >= 3);
    CHECK(t.values.size() <= 12);
    CHECK(t.values.front() == Approx(t.lo));
    // Labels at t.decimals tell neighbours apart.
    for (std::size_t i = 1; i < t.values.size(); ++i)
      CHECK(svg::fixed(t.values[i], t.decimals) != svg::fixed(t.values[i - 1], t.decimals));
  }
  svg::Ticks t = svg::nice_ticks(0, 97, 5);
  CHECK(t.step == 20);
  CHECK(t.hi == 100);
  CHECK(svg::fixed(-0.0001, 1) == "0.0");
}

TEST_CASE("svg: text is escaped and documents are well-formed", "[report]") {
  CHECK(svg::escape("a<b & 'c' \"d\">") == "a&lt;b &amp; &apos;c&apos; &quot;d&quot;&gt;");
  CHECK(svg::escape("工业\x01总产值") == "工业总产值");
  CHECK(svg::text_width("工业", 10) == Approx(20));
  CHECK(svg::text_width("ab", 10) < svg::text_width("工业", 10));
  // Latin 0.56 em, narrow punctuation 0.3, two-byte UTF-8 0.6, three and four bytes 1.
  CHECK(svg::text_width("a.", 10) == Approx(8.6));
  CHECK(svg::text_width("é", 10) == Approx(6));
  CHECK(svg::text_width("≥", 10) == Approx(10));
  CHECK(svg::text_width("\xF0\xA0\x80\x80", 10) == Approx(10));  // U+20000
  svg::Document d(200, 100);
  d.title("标题 <1>");
  d.text(10, 20, "工业总产值 ≥ 100 亿元 & <P>", {});
  d.rect(10, 10, -5, 20, {"#f00", "#000", 1, 0.5, "2 2"});
  d.polygon({{0, 0}, {1, 1}, {2, 0}}, {});
  std::string s = d.str();
  CHECK(xml_problem(s) == "");
  CHECK(s.find("font-family=\"Noto Sans CJK SC") != std::string::npos);
  CHECK(s.find("&amp; &lt;P&gt;") != std::string::npos);
  CHECK(xml_problem("<svg><g></svg>") != "");
  CHECK(xml_problem("<svg>a & b</svg>") != "");
}

TEST_CASE("report: a small results file gives every file, in both languages", "[report]") {
  TempDir tmp;
  const fs::path& dir = tmp.path;
  std::string h5 = (dir / "run.h5").string();
  const std::uint64_t draws = 2000;
  write_fixture(h5, draws);
  ResultsReader reader(h5);

  for (std::string lang : {"zh", "en"}) {
    fs::path out = dir / ("rep_" + lang);
    write_report(h5, out.string(), lang);
    // No draw meets output-100: the summary names it instead of a chart.
    CHECK_FALSE(fs::exists(out / "target_output-100.svg"));
    std::vector<std::string> stems = {"summary",
                                      "targets",
                                      "fan_industrial_output",
                                      "fan_employment",
                                      "fan_manufacturing_va_share",
                                      "fan_above_scale_firms",
                                      "target_textiles-80",
                                      "target_mfg-share",
                                      "target_firms-100",
                                      "clusters",
                                      "projects"};
    for (const auto& s : stems) {
      INFO(lang << ": " << s);
      REQUIRE(fs::exists(out / (s + ".svg")));
      std::string svg_text = slurp(out / (s + ".svg"));
      CHECK(xml_problem(svg_text) == "");
      PngInfo png = png_info(out / (s + ".png"));
      // 2x the SVG's px size, tagged 192 dpi (7559 px per metre).
      std::size_t hat = svg_text.find(" height=\"");
      REQUIRE(hat != std::string::npos);
      double svg_h = std::stod(svg_text.substr(hat + 9));
      CHECK(png.width == 1600);
      CHECK(png.height == static_cast<std::uint32_t>(std::lround(2 * svg_h)));
      CHECK(png.ppm == 7559);
    }
    CHECK(png_info(out / "fan_industrial_output.png").height == 900);
    // Titles in the chosen language.
    std::string fan = slurp(out / "fan_industrial_output.svg");
    if (lang == "zh") {
      CHECK(fan.find("工业总产值（亿元）") != std::string::npos);
      CHECK(fan.find("中位数") != std::string::npos);
    } else {
      CHECK(fan.find("Gross industrial output (100m yuan)") != std::string::npos);
      CHECK(fan.find("中位数") == std::string::npos);
      CHECK(slurp(out / "clusters.svg").find(">textiles<") != std::string::npos);
    }
    std::string html = slurp(out / "index.html");
    CHECK(valid_utf8(html));
    for (const auto& s : stems) CHECK(html.find("src=\"" + s + ".svg\"") != std::string::npos);
    CHECK(html.find("data-images-loaded") != std::string::npos);
    CHECK(html.find("2/3") != std::string::npos);  // the scale is stated
  }

  // The tables in the charts' units (probabilities in %, shares in %,
  // persons in 万人), headers in the report's language.
  CHECK(read_csv(dir / "rep_zh" / "targets.csv")[0][1] == "目标");
  CHECK(read_csv(dir / "rep_zh" / "quantiles.csv")[0][0] == "指标");
  CHECK(read_csv(dir / "rep_zh" / "project_timing.csv")[0][1] == "项目");
  fs::path out = dir / "rep_en";
  auto near = [](double got, double want) {
    return got == Approx(want).epsilon(1e-9).margin(1e-12);
  };
  {  // targets.csv reads back to /targets
    TargetTable t = reader.targets();
    auto rows = read_csv(out / "targets.csv");
    REQUIRE(rows.size() == t.rows.size() + 2);
    const auto& h = rows[0];
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
      const auto& r = rows[i + 1];
      CHECK(r[column(h, "id")] == t.rows[i].id);
      CHECK(r[column(h, "label")] == t.rows[i].label);
      CHECK(near(std::stod(r[column(h, "probability (%)")]), 100 * t.rows[i].probability));
      CHECK(near(std::stod(r[column(h, "std_error (points)")]), 100 * t.rows[i].std_error));
      CHECK(near(std::stod(r[column(h, "ci_low (%)")]), 100 * t.rows[i].ci_low));
      CHECK(near(std::stod(r[column(h, "ci_high (%)")]), 100 * t.rows[i].ci_high));
      const double scale = t.rows[i].metric == "manufacturing_va_share" ? 100 : 1;
      CHECK(near(std::stod(r[column(h, "threshold")]), scale * t.rows[i].threshold));
      CHECK(std::stoi(r[column(h, "year")]) == t.rows[i].year);
    }
    CHECK(rows.back()[0] == "(all)");
    CHECK(near(std::stod(rows.back()[column(h, "probability (%)")]), 100 * t.all_met_probability));
  }
  {  // quantiles.csv reads back to /summary
    auto rows = read_csv(out / "quantiles.csv");
    const auto& h = rows[0];
    const Coordinates& c = reader.coords();
    std::size_t checked = 0;
    for (const auto& metric : reader.summary_metrics()) {
      MetricSummary s = reader.summary(metric);
      const double scale = display_unit(s.units, Lang::en).scale;
      std::size_t ncl = s.dims.size() == 2 ? s.shape[1] : 1;
      for (std::size_t y = 0; y < s.shape[0]; ++y)
        for (std::size_t k = 0; k < ncl; ++k) {
          std::size_t cell = y * ncl + k;
          auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& r) {
            return r[0] == metric && r[column(h, "year")] == std::to_string(c.year[y]) &&
                   (ncl == 1 || r[column(h, "cluster")] == c.cluster[k]);
          });
          REQUIRE(it != rows.end());
          CHECK(near(std::stod((*it)[column(h, "mean")]), scale * s.mean[cell]));
          CHECK(near(std::stod((*it)[column(h, "sd")]), scale * s.sd[cell]));
          CHECK(near(std::stod((*it)[column(h, "q05")]), scale * s.quantiles[cell * 7 + 0]));
          CHECK(near(std::stod((*it)[column(h, "q50")]), scale * s.quantiles[cell * 7 + 3]));
          CHECK(near(std::stod((*it)[column(h, "q95")]), scale * s.quantiles[cell * 7 + 6]));
          ++checked;
        }
    }
    CHECK(checked == 4 * 4 + 4 * 2);
    CHECK(rows.size() == checked + 1);
  }
  {  // project_timing.csv reads back to the draws
    auto rows = read_csv(out / "project_timing.csv");
    const auto& h = rows[0];
    std::vector<std::size_t> shape;
    std::vector<double> start = reader.read_dataset("draws", "project_start_month", &shape);
    REQUIRE(rows.size() == shape[1] + 1);
    for (std::size_t p = 0; p < shape[1]; ++p) {
      std::vector<double> v;
      for (std::size_t d = 0; d < shape[0]; ++d)
        if (start[d * shape[1] + p] >= 0) v.push_back(start[d * shape[1] + p]);
      const auto& r = rows[p + 1];
      CHECK(r[column(h, "project")] == reader.coords().project[p]);
      CHECK(near(std::stod(r[column(h, "started (%)")]),
                 100 * static_cast<double>(v.size()) / static_cast<double>(shape[0])));
      CHECK(std::stod(r[column(h, "start_q50")]) == quantile7(v, 0.5));
      CHECK(std::stod(r[column(h, "start_q90")]) == quantile7(v, 0.9));
    }
    CHECK(rows[1][column(h, "planned_start")] == "2022-04");
  }
}

TEST_CASE("report: bad inputs", "[report]") {
  TempDir tmp;
  const fs::path& dir = tmp.path;
  // The reader's messages are its own; here only that they are results errors.
  CHECK(input_kind([&] {
          write_report((dir / "missing.h5").string(), (dir / "out").string(), "zh");
        }) == "results");
  { std::ofstream((dir / "not.h5").string()) << "not hdf5"; }
  CHECK(input_kind([&] {
          write_report((dir / "not.h5").string(), (dir / "out").string(), "zh");
        }) == "results");
  CHECK(input_kind([&] {
          write_sweep_report((dir / "not.h5").string(), (dir / "out").string(), "zh");
        }) == "sweep");
  std::string h5 = (dir / "run.h5").string();
  write_fixture(h5, 500);
  // A folder below a plain file cannot be created.
  const std::string below_file = (dir / "not.h5" / "rep").string();
  CHECK_THROWS_AS(write_report(h5, below_file, "zh"), RunError);
  CHECK_THROWS_WITH(write_report(h5, below_file, "zh"),
                    below_file + ": cannot create the report folder: Not a directory");
  CHECK_THROWS_WITH(write_report(h5, (dir / "rep").string(), "fr"),
                    "--lang fr: unknown language; use zh or en");
}

TEST_CASE("report: a results file without a quantile the charts need", "[report]") {
  TempDir tmp;
  std::string h5 = tmp.file("run.h5");
  write_fixture(h5, 500);
  ReportData d;
  {
    ResultsReader reader(h5);
    d = load_report_data(reader);
  }
  d.source = h5;
  d.coords.quantile.erase(d.coords.quantile.begin());  // no 0.05
  ReportOptions svg_only;
  svg_only.png = false;
  CHECK_THROWS_WITH(render_report(d, tmp.file("rep"), Lang::zh, svg_only),
                    h5 + ": the summaries have no 0.05 quantile");
  CHECK(input_kind([&] { render_report(d, tmp.file("rep"), Lang::en, svg_only); }) == "results");
}

namespace {

ReportData fixture_data(const TempDir& tmp, std::uint64_t draws = 1000) {
  const std::string h5 = tmp.file("run.h5");
  write_fixture(h5, draws);
  ReportData d;
  {
    ResultsReader reader(h5);
    d = load_report_data(reader);
  }
  d.source = h5;
  return d;
}

std::size_t count_of(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("report: chances for the one-page summary never read 0% or 100%", "[report]") {
  CHECK(format_chance(0) == "<0.1%");
  CHECK(format_chance(0.0004) == "<0.1%");
  CHECK(format_chance(0.004) == "0.4%");
  CHECK(format_chance(0.0995) == "10.0%");  // one decimal up to 10%
  CHECK(format_chance(0.37) == "37%");
  CHECK(format_chance(0.95) == "95.0%");
  CHECK(format_chance(0.9996) == ">99.9%");
  CHECK(format_chance(0.998) == "99.8%");
  CHECK(format_chance(1) == ">99.9%");
  CHECK(chance_words(0, Lang::zh) == "几乎不可能");
  CHECK(chance_words(0.05, Lang::zh) == "很不可能");
  CHECK(chance_words(0.2, Lang::en) == "unlikely");
  CHECK(chance_words(0.5, Lang::en) == "about even");
  CHECK(chance_words(0.7, Lang::zh) == "可能");
  CHECK(chance_words(0.95, Lang::en) == "very likely");
  CHECK(chance_words(0.995, Lang::zh) == "几乎肯定");
}

TEST_CASE("report: labels wrap instead of being cut", "[report]") {
  using report_detail::wrap;
  const std::string label = "新增制造业贷款占比达全市平均水平(假设18%)";
  const auto lines = wrap(label, 12, 150);
  CHECK(lines.size() == 2);
  std::string joined;
  for (const auto& l : lines) {
    joined += l;
    CHECK(svg::text_width(l, 12) <= 150);
  }
  CHECK(joined == label);
  // Latin words stay whole; spaces at a break are dropped.
  const auto en = wrap("Probability of meeting each target", 12, 100);
  CHECK(en == std::vector<std::string>{"Probability of", "meeting each", "target"});
  CHECK(wrap("short", 12, 200) == std::vector<std::string>{"short"});
}

TEST_CASE("report: the one-page summary, plain and conditioned", "[report]") {
  TempDir tmp;
  ReportData d = fixture_data(tmp);
  auto plain = report_detail::summary_charts(d, Lang::zh);
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].stem == "summary");
  CHECK(plain[0].doc.width() == 800);
  CHECK(plain[0].doc.height() == 450);  // 16:9
  std::string svg = plain[0].doc.str();
  CHECK(xml_problem(svg) == "");
  CHECK(svg.find("一页纸") != std::string::npos);
  CHECK(svg.find("观测前") == std::string::npos);
  for (const auto& t : d.targets.rows) CHECK(svg.find(">" + t.label + "<") != std::string::npos);
  CHECK(svg.find("全部目标同时实现") != std::string::npos);
  CHECK(svg.find("…") == std::string::npos);
  // Most likely first.
  std::vector<std::pair<double, std::size_t>> at;
  for (const auto& t : d.targets.rows) at.push_back({t.probability, svg.find(">" + t.label + "<")});
  std::sort(at.begin(), at.end(), [](auto& a, auto& b) { return a.second < b.second; });
  for (std::size_t i = 1; i < at.size(); ++i) CHECK(at[i - 1].first >= at[i].first);

  // Targets no draw met (the fixture's output-100, and now textiles-80):
  // "<0.1%", never "0%", named in the note, no distribution chart.
  REQUIRE(d.targets.rows[0].probability == 0);
  d.targets.rows[1].probability = 0;
  svg = report_detail::summary_charts(d, Lang::zh)[0].doc.str();
  CHECK(count_of(svg, ">&lt;0.1%<") == 3);  // two targets and all together
  CHECK(svg.find(">0%<") == std::string::npos);
  CHECK(svg.find(">1,000 次模拟中无一达到：工业总产值过百亿、纺织过80亿（不另作分布图）<") !=
        std::string::npos);
  std::vector<std::string> target_charts;
  for (const auto& c : report_detail::run_charts(d, Lang::zh))
    if (c.stem.rfind("target_", 0) == 0) target_charts.push_back(c.stem);
  CHECK(target_charts == std::vector<std::string>{"target_mfg-share", "target_firms-100"});

  // Conditioned (v2): the before/after odds and the effective sample size.
  d.targets.conditioned = true;
  d.targets.effective_sample_size = 412.4;
  for (auto& t : d.targets.rows) t.prior_probability = 0.5;
  d.targets.rows[0].prior_probability = 0.12;
  d.targets.rows[0].probability = 0.35;
  d.targets.prior_all_met_probability = 0.0004;
  svg = report_detail::summary_charts(d, Lang::zh)[0].doc.str();
  CHECK(xml_problem(svg) == "");
  CHECK(svg.find("观测前 → 后") != std::string::npos);
  CHECK(svg.find("已按实际观测值更新（有效样本 412）") != std::string::npos);
  CHECK(svg.find(">12% → 35%<") != std::string::npos);
  CHECK(svg.find("&lt;0.1% → ") != std::string::npos);  // the all-targets row
  const std::string en = report_detail::summary_charts(d, Lang::en)[0].doc.str();
  CHECK(en.find("Before → after") != std::string::npos);
  CHECK(en.find("effective sample 412") != std::string::npos);
}

TEST_CASE("report: project slides hold at most ten projects, names whole", "[report]") {
  TempDir tmp;
  ReportData d = fixture_data(tmp);
  // 23 projects: the fixture's two, repeated, one with a long name.
  auto grow = [](auto& v, std::size_t n) {
    const auto first = v;
    while (v.size() < n) v.push_back(first[v.size() % first.size()]);
  };
  grow(d.coords.project, 23);
  grow(d.coords.project_label, 23);
  grow(d.coords.project_cluster, 23);
  grow(d.coords.project_planned_start_month, 23);
  grow(d.project_start, 23);
  grow(d.project_production, 23);
  const std::string long_name = "机械铸件加工基地(新兴管件、红星机械、金沙重工等扩能)二期工程";
  d.coords.project_label[13] = long_name;
  const auto charts = report_detail::project_charts(d, Lang::zh);
  REQUIRE(charts.size() == 3);
  CHECK(charts[0].stem == "projects");
  CHECK(charts[2].stem == "projects-3");
  std::size_t rows = 0;
  for (const auto& c : charts) {
    CHECK(c.doc.width() == 800);
    CHECK(c.doc.height() == 450);
    const std::string svg = c.doc.str();
    CHECK(xml_problem(svg) == "");
    CHECK(svg.find("…") == std::string::npos);
    rows += count_of(svg, ">印染园二期<") + count_of(svg, ">屋顶光伏<") +
            count_of(svg, ">" + long_name + "<");
  }
  CHECK(rows == 23);
  CHECK(charts[1].doc.str().find(">" + long_name + "<") != std::string::npos);
  CHECK(charts[0].doc.str().find("(1/3: 1–10)") != std::string::npos);
}

TEST_CASE("report: sweep charts name the lever, write shares as percentages, fold 0% lines",
          "[report]") {
  SweepResult r;
  r.scenario_name = "示例";
  r.axes = {{"finance.manufacturing_loan_share", {0.1, 0.2, 0.3}}};
  r.target_ids = {"loan-share", "output-1000", "tax-10"};
  r.target_labels = {"新增制造业贷款占比达全市平均水平(假设18%)", "工业总产值突破千亿",
                     "工业税收突破十亿元"};
  r.probability = {0, 0, 0, 1, 0, 0, 1, 0, 0};  // [point, target]
  const std::string zh = sweep_line_chart(r, true);
  CHECK(xml_problem(zh) == "");
  CHECK(count_of(zh, "<polyline") == 1);  // the two 0% lines folded into the note
  CHECK(zh.find(">各取值下均为 0%（未画线）：工业总产值突破千亿、工业税收突破十亿元<") !=
        std::string::npos);
  CHECK(zh.find(">新增贷款中制造业的占比<") != std::string::npos);
  CHECK(zh.find(">20%<") != std::string::npos);  // the lever in percent, not 0.2
  CHECK(zh.find(">新增制造业贷款占比达全市平均水平(假设18%)<") != std::string::npos);
  CHECK(zh.find("…") == std::string::npos);
  const std::string en = sweep_line_chart(r, false);
  CHECK(en.find(">0% at every value (no line drawn): output-1000, tax-10<") != std::string::npos);
  CHECK(en.find(">Manufacturing share of new loans<") != std::string::npos);

  // The scenario's own value is marked: a distribution by its mean.
  r.scenario_yaml = "finance:\n  manufacturing_loan_share: {dist: beta, alpha: 15, beta: 85}\n";
  CHECK(sweep_line_chart(r, true).find(">当前（均值）15.0%<") != std::string::npos);
  r.scenario_yaml = "finance:\n  manufacturing_loan_share: 0.25\n";
  CHECK(sweep_line_chart(r, false).find(">current 25.0%<") != std::string::npos);
  r.scenario_yaml = "finance:\n  manufacturing_loan_share: 0.5\n";  // off the axis: no mark
  CHECK(sweep_line_chart(r, false).find(">current") == std::string::npos);

  r.scenario_yaml = "finance:\n  manufacturing_loan_share: 0.25\nland: {supply_mu: 700}\n";
  r.axes.push_back({"land.supply_mu", {500, 900}});
  r.probability.assign(3 * 2 * 3, 0.5);
  r.all_met.assign(6, 0);
  const std::string heat = sweep_heat_map(r, 0, true);
  CHECK(xml_problem(heat) == "");
  CHECK(heat.find(">每年新供工业用地（亩）<") != std::string::npos);
  CHECK(heat.find(">30%<") != std::string::npos);
  CHECK(heat.find(">100%<") != std::string::npos);  // the colour key's top
  CHECK(count_of(heat, "<rect") == 1 + 3 * 2);      // the key is drawn with lines
  CHECK(heat.find(">当前 700<") != std::string::npos);
  CHECK(heat.find(">▶ 当前 25%<") != std::string::npos);
}

TEST_CASE("solve chart: the curve, the goal, the value found and the current value", "[report]") {
  SolveResult r;
  r.target = "mfg-va-36";
  r.target_label = "制造业增加值占GDP比重达36%以上";
  r.path = "finance.manufacturing_loan_share";
  r.scenario_yaml = "finance: {manufacturing_loan_share: {dist: normal, mean: 0.15, sd: 0.02}}\n";
  r.goal = 0.95;
  r.lo = 0.1;
  r.hi = 0.3;
  r.draws = 3000;
  r.std_error = std::sqrt(0.95 * 0.05 / 3000);
  r.outcome = SolveResult::Outcome::found;
  r.value = 0.1727;
  r.interval_lo = 0.164;
  r.interval_hi = 0.1831;
  r.evaluations = {{0.1, 0.81}, {0.15, 0.93}, {0.2, 0.967}, {0.3, 0.99}};
  const report_detail::Chart zh = report_detail::solve_chart(r, Lang::zh);
  const std::string svg = zh.doc.str();
  CHECK(zh.stem == "solve-mfg-va-36");
  CHECK(zh.doc.width() == 800);
  CHECK(zh.doc.height() == 450);
  CHECK(svg.find("所需 17.3%") != std::string::npos);
  CHECK(svg.find("当前（均值）15.0%") != std::string::npos);
  CHECK(svg.find("目标概率 95%") != std::string::npos);
  CHECK(svg.find("16.4% 至 18.3%") != std::string::npos);
  CHECK(svg.find("finance.manufacturing_loan_share") == std::string::npos);  // named in words
  r.outcome = SolveResult::Outcome::none;
  const std::string none = report_detail::solve_chart(r, Lang::en).doc.str();
  CHECK(none.find("No value in the range searched gives a 95% chance.") != std::string::npos);
  CHECK(none.find("needed") == std::string::npos);

  TempDir tmp;
  r.outcome = SolveResult::Outcome::found;
  const auto files = write_solve_chart(r, tmp.file("solve"), "en");
  CHECK(files == std::vector<std::string>{"solve-mfg-va-36.svg", "solve-mfg-va-36.png"});
  std::ifstream png(tmp.file("solve/solve-mfg-va-36.png"), std::ios::binary);
  unsigned char head[24] = {};
  png.read(reinterpret_cast<char*>(head), 24);
  CHECK(((head[18] << 8) | head[19]) == 1600);
  CHECK(((head[22] << 8) | head[23]) == 900);
}
