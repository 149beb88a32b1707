#include "countysim/svg.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>

#include "countysim/errors.hpp"
#include "countysim/utf8.hpp"

namespace countysim::svg {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters other than tab and newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') continue;
        out += c;
    }
  }
  return out;
}

double text_width(std::string_view s, double font_size) {
  double em = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      em += (c == ' ' || c == '.' || c == ',' || c == ':' || c == 'i' || c == 'l') ? 0.3 : 0.56;
      ++i;
    } else {
      // From U+0800 (three-byte UTF-8) on: CJK and full-width forms, one em.
      em += utf8::next(s, i) >= 0x800 ? 1.0 : 0.6;
    }
  }
  return em * font_size;
}

std::string fixed(double v, int decimals) {
  std::string s = fmt::format("{:.{}f}", v, decimals < 0 ? 0 : decimals);
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

Ticks nice_ticks(double lo, double hi, int target_count) {
  Ticks t;
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
    // A degenerate range: open it around the value.
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  if (target_count < 2) target_count = 2;
  double raw = (hi - lo) / target_count;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  double nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  t.step = nice * mag;
  const double k_lo = std::floor(lo / t.step + 1e-9), k_hi = std::ceil(hi / t.step - 1e-9);
  for (double k = k_lo; k <= k_hi + 0.5; k += 1) t.values.push_back(k == 0 ? 0.0 : k * t.step);
  // Rounding can leave an end tick a hair inside the data.
  t.lo = std::min(t.values.front(), lo);
  t.hi = std::max(t.values.back(), hi);
  t.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(t.step) + 1e-9)));
  return t;
}

Document::Document(double width, double height) : width_(width), height_(height) {
  rect(0, 0, width, height, {"#ffffff", "none", 0, 1, ""});
}

namespace {

std::string style_attrs(const Style& s) {
  std::string a = fmt::format(" fill=\"{}\"", escape(s.fill));
  if (s.stroke != "none") {
    a += fmt::format(" stroke=\"{}\" stroke-width=\"{}\"", escape(s.stroke), s.stroke_width);
    if (!s.dash.empty()) a += fmt::format(" stroke-dasharray=\"{}\"", escape(s.dash));
  }
  if (s.opacity < 1) a += fmt::format(" opacity=\"{}\"", s.opacity);
  return a;
}

std::string points_attr(const std::vector<Point>& pts) {
  std::string a;
  for (const auto& [x, y] : pts) a += fmt::format("{:.2f},{:.2f} ", x, y);
  if (!a.empty()) a.pop_back();
  return a;
}

}  // namespace

void Document::rect(double x, double y, double w, double h, const Style& s) {
  if (w < 0) x += w, w = -w;
  if (h < 0) y += h, h = -h;
  body_ += fmt::format("<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\"{}/>\n",
                       x, y, w, h, style_attrs(s));
}

void Document::line(double x1, double y1, double x2, double y2, const Style& s) {
  body_ += fmt::format("<line x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\"{}/>\n", x1,
                       y1, x2, y2, style_attrs(s));
}

void Document::polyline(const std::vector<Point>& pts, const Style& s) {
  body_ += fmt::format("<polyline points=\"{}\"{} stroke-linejoin=\"round\"/>\n", points_attr(pts),
                       style_attrs(s));
}

void Document::polygon(const std::vector<Point>& pts, const Style& s) {
  body_ += fmt::format("<polygon points=\"{}\"{}/>\n", points_attr(pts), style_attrs(s));
}

void Document::circle(double cx, double cy, double r, const Style& s) {
  body_ += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"{:.2f}\"{}/>\n", cx, cy, r,
                       style_attrs(s));
}

void Document::text(double x, double y, std::string_view str, const TextStyle& t) {
  static const char* anchors[] = {"start", "middle", "end"};
  std::string extra;
  if (t.bold) extra += " font-weight=\"bold\"";
  if (t.halo)
    extra += " stroke=\"#fff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\"";
  if (t.rotate != 0)
    extra += fmt::format(" transform=\"rotate({} {:.2f} {:.2f})\"", t.rotate, x, y);
  body_ += fmt::format(
      "<text x=\"{:.2f}\" y=\"{:.2f}\" font-size=\"{}\" text-anchor=\"{}\" "
      "fill=\"{}\"{}>{}</text>\n",
      x, y, t.size, anchors[static_cast<int>(t.anchor)], escape(t.fill), extra, escape(str));
}

void Document::title(std::string_view str) {
  title_ = str;
}

std::string Document::str() const {
  std::string s = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"{2}\">\n",
      width_, height_, escape(font_family));
  if (!title_.empty()) s += fmt::format("<title>{}</title>\n", escape(title_));
  s += body_;
  s += "</svg>\n";
  return s;
}

void Document::save(const std::string& path) const {
  std::ofstream f(path, std::ios::binary);
  f << str();
  f.close();
  if (!f) throw RunError(fmt::format("{}: cannot write the chart", path));
}

Frame::Frame(double left, double top, double width, double height, double x_lo, double x_hi,
             double y_lo, double y_hi)
    : left_(left),
      top_(top),
      width_(width),
      height_(height),
      x_lo_(x_lo),
      x_hi_(x_hi == x_lo ? x_lo + 1 : x_hi),
      y_lo_(y_lo),
      y_hi_(y_hi == y_lo ? y_lo + 1 : y_hi) {}

double Frame::px(double x) const {
  return left_ + (x - x_lo_) / (x_hi_ - x_lo_) * width_;
}
double Frame::py(double y) const {
  return top_ + height_ - (y - y_lo_) / (y_hi_ - y_lo_) * height_;
}

void Frame::y_axis(Document& d, const std::vector<double>& ticks,
                   const std::function<std::string(double)>& label) const {
  for (double v : ticks) {
    double y = py(v);
    if (y < top_ - 0.5 || y > bottom() + 0.5) continue;
    d.line(left_, y, right(), y, {"none", "#e3e3e3", 1, 1, ""});
    d.text(left_ - 6, y + 4, label(v), {12, Anchor::end, "#444"});
  }
}

void Frame::x_axis(Document& d, const std::vector<double>& ticks,
                   const std::function<std::string(double)>& label, bool grid) const {
  for (double v : ticks) {
    double x = px(v);
    if (x < left_ - 0.5 || x > right() + 0.5) continue;
    if (grid) d.line(x, top_, x, bottom(), {"none", "#e3e3e3", 1, 1, ""});
    d.line(x, bottom(), x, bottom() + 4, {"none", "#666", 1, 1, ""});
    d.text(x, bottom() + 18, label(v), {12, Anchor::middle, "#444"});
  }
}

void Frame::border(Document& d) const {
  d.line(left_, bottom(), right(), bottom(), {"none", "#666", 1, 1, ""});
  d.line(left_, top_, left_, bottom(), {"none", "#666", 1, 1, ""});
}

}  // namespace countysim::svg
