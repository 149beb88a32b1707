// A small SVG writer for the report's charts: shapes, text, and a plot frame
// that maps data to the page with "nice" axis ticks. Text stays text (the CJK
// font is chosen by the renderer), so the SVGs remain editable on slides.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace countysim::svg {

// Fonts that carry Chinese glyphs, Noto (fonts-noto-cjk) first.
inline constexpr const char* font_family =
    "Noto Sans CJK SC, Noto Sans CJK, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif";

// Escapes &, <, >, " and ' for text and attribute values.
std::string escape(std::string_view s);

// Rough rendered width of `s` at `font_size`: CJK glyphs are one em wide, Latin
// ones about half. Used only to lay out margins and labels.
double text_width(std::string_view s, double font_size);

// Axis ticks at 1, 2 or 5 times a power of ten, covering [lo, hi].
struct Ticks {
  double lo = 0, hi = 1, step = 1;  // lo and hi are multiples of step
  std::vector<double> values;
  int decimals = 0;  // enough to tell adjacent ticks apart
};
Ticks nice_ticks(double lo, double hi, int target_count = 5);

struct Style {
  std::string fill = "none";
  std::string stroke = "none";
  double stroke_width = 1;
  double opacity = 1;
  std::string dash;  // stroke-dasharray, e.g. "6 4"
};

enum class Anchor { start, middle, end };

struct TextStyle {
  double size = 13;
  Anchor anchor = Anchor::start;
  std::string fill = "#222";
  bool bold = false;
  double rotate = 0;  // degrees, about (x, y)
  bool halo = false;  // white outline, to stay legible over lines and bands
};

using Point = std::pair<double, double>;

class Document {
 public:
  Document(double width, double height);  // in px; a white background is drawn
  double width() const { return width_; }
  double height() const { return height_; }

  void rect(double x, double y, double w, double h, const Style& s);
  void line(double x1, double y1, double x2, double y2, const Style& s);
  void polyline(const std::vector<Point>& pts, const Style& s);
  void polygon(const std::vector<Point>& pts, const Style& s);
  void circle(double cx, double cy, double r, const Style& s);
  void text(double x, double y, std::string_view str, const TextStyle& t);
  void title(std::string_view str);  // <title>, for accessibility

  std::string str() const;
  void save(const std::string& path) const;  // throws RunError

 private:
  double width_, height_;
  std::string title_, body_;
};

// A rectangular plot area with linear data scales.
class Frame {
 public:
  Frame(double left, double top, double width, double height, double x_lo, double x_hi, double y_lo,
        double y_hi);
  double px(double x) const;
  double py(double y) const;
  double left() const { return left_; }
  double top() const { return top_; }
  double right() const { return left_ + width_; }
  double bottom() const { return top_ + height_; }
  double x_lo() const { return x_lo_; }
  double x_hi() const { return x_hi_; }
  double y_lo() const { return y_lo_; }
  double y_hi() const { return y_hi_; }

  // Gridlines and labels. `label` turns a tick value into its text.
  void y_axis(Document& d, const std::vector<double>& ticks,
              const std::function<std::string(double)>& label) const;
  void x_axis(Document& d, const std::vector<double>& ticks,
              const std::function<std::string(double)>& label, bool grid = false) const;
  void border(Document& d) const;

 private:
  double left_, top_, width_, height_;
  double x_lo_, x_hi_, y_lo_, y_hi_;
};

// Formats with a fixed number of decimals, without "-0".
std::string fixed(double v, int decimals);

}  // namespace countysim::svg
