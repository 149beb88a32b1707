// The report's files: SVG charts saved, converted to PNG by rsvg-convert (run
// in parallel, a few at a time) and tagged with their resolution.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "countysim/errors.hpp"
#include "report_chart.hpp"

extern char** environ;

namespace countysim {

namespace fs = std::filesystem;

void set_png_dpi(const std::string& png_path, double dpi) {
  std::ifstream in(png_path, std::ios::binary);
  std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC) = 33 bytes.
  if (png.size() < 33 || png.compare(12, 4, "IHDR") != 0)
    throw RunError(fmt::format("{}: not a PNG file", png_path));
  if (png.find("pHYs") != std::string::npos) return;
  auto ppm = static_cast<std::uint32_t>(std::lround(dpi / 0.0254));
  unsigned char chunk[21] = {0, 0, 0, 9, 'p', 'H', 'Y', 's'};
  for (int i = 0; i < 2; ++i) {
    chunk[8 + 4 * i] = static_cast<unsigned char>(ppm >> 24);
    chunk[9 + 4 * i] = static_cast<unsigned char>(ppm >> 16);
    chunk[10 + 4 * i] = static_cast<unsigned char>(ppm >> 8);
    chunk[11 + 4 * i] = static_cast<unsigned char>(ppm);
  }
  chunk[16] = 1;  // unit: metre
  uLong crc = crc32(0L, chunk + 4, 13);
  for (int i = 0; i < 4; ++i) chunk[17 + i] = static_cast<unsigned char>(crc >> (24 - 8 * i));
  png.insert(33, reinterpret_cast<const char*>(chunk), sizeof chunk);
  std::ofstream out(png_path, std::ios::binary | std::ios::trunc);
  out << png;
  out.close();
  if (!out) throw RunError(fmt::format("{}: cannot write", png_path));
}

namespace report_detail {

namespace {

struct Job {
  std::string svg, png, err;  // png: the output (a PDF page for write_pdf)
  pid_t pid = -1;
  std::vector<std::string> args;  // empty: the PNG conversion
  std::string tool = "rsvg-convert", package = "librsvg2-bin";
};

void start(Job& j, double zoom, double dpi) {
  std::string z = fmt::format("{}", zoom), dd = fmt::format("{}", dpi);
  std::vector<std::string> args = j.args;
  if (args.empty())
    args = {"rsvg-convert", "-z", z, "-d", dd, "-p", dd, "-f", "png", "-o", j.png, j.svg};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, j.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int rc = posix_spawnp(&j.pid, j.tool.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    throw RunError(fmt::format("cannot run {} ({}): install {} (scripts/setup.sh)", j.tool,
                               std::strerror(rc), j.package));
}

void finish(Job& j) {
  int status = 0;
  while (waitpid(j.pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::ifstream e(j.err);
  std::string msg((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
  e.close();
  fs::remove(j.err);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      msg = fmt::format("{} not found: install {} (scripts/setup.sh)", j.tool, j.package);
    throw RunError(fmt::format("{}: {} failed: {}", j.png, j.tool, msg));
  }
}

void run_all(std::vector<Job>& jobs, double zoom = 1, double dpi = 96) {
  std::size_t width = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 2, 8);
  std::size_t next_wait = 0;
  try {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (i - next_wait >= width) finish(jobs[next_wait++]);
      start(jobs[i], zoom, dpi);
    }
    while (next_wait < jobs.size()) finish(jobs[next_wait++]);
  } catch (...) {
    // Reap what is still running before reporting.
    for (std::size_t i = next_wait; i < jobs.size(); ++i)
      if (jobs[i].pid > 0) waitpid(jobs[i].pid, nullptr, 0), fs::remove(jobs[i].err);
    throw;
  }
}

void convert_all(std::vector<Job>& jobs, double zoom, double dpi) {
  run_all(jobs, zoom, dpi);
  for (auto& j : jobs) set_png_dpi(j.png, dpi);
}

// The width and height attributes of an SVG the report wrote (px).
std::pair<double, double> svg_size(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string head(600, '\0');
  f.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(f.gcount()));
  auto attr = [&](const char* name) {
    const std::size_t svg = head.find("<svg");
    const std::size_t at =
        head.find(std::string(" ") + name + "=\"", svg == std::string::npos ? 0 : svg);
    if (at == std::string::npos)
      throw RunError(fmt::format("{}: no {} on the <svg> element", path, name));
    return std::stod(head.substr(at + std::strlen(name) + 3));
  };
  return {attr("width"), attr("height")};
}
}  // namespace

void make_report_dir(const std::string& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec || !fs::is_directory(out_dir))
    throw RunError(fmt::format("{}: cannot create the report folder: {}", out_dir,
                               ec ? ec.message() : "a file of that name exists"));
}

std::vector<std::string> save_charts(const std::vector<Chart>& charts, const std::string& out_dir,
                                     const ReportOptions& opt) {
  std::vector<std::string> files;
  std::vector<Job> jobs;
  for (const auto& c : charts) {
    std::string base = (fs::path(out_dir) / c.stem).string();
    c.doc.save(base + ".svg");
    files.push_back(c.stem + ".svg");
    if (opt.png) {
      Job j;
      j.svg = base + ".svg", j.png = base + ".png", j.err = base + ".png.log";
      jobs.push_back(std::move(j));
      files.push_back(c.stem + ".png");
    }
  }
  if (opt.png) convert_all(jobs, opt.png_zoom, opt.png_dpi);
  return files;
}

}  // namespace report_detail

void write_pdf(const std::vector<std::string>& svgs, const std::string& pdf_path) {
  using report_detail::chart_h;
  using report_detail::chart_w;
  using report_detail::Job;
  if (svgs.empty()) throw RunError(fmt::format("{}: no slides for the handout", pdf_path));
  // One 16:9 page per slide (800 x 450 px = 600 x 337.5 pt): each SVG scaled
  // to fit and centred, so a tall chart shrinks rather than spilling over.
  const fs::path pages = fmt::format("{}.pages.{}", pdf_path, ::getpid());
  std::error_code ec;
  fs::remove_all(pages, ec);
  fs::create_directories(pages, ec);
  if (ec)
    throw RunError(
        fmt::format("{}: cannot create a folder for the pages: {}", pages.string(), ec.message()));
  try {
    // Consecutive slides of one size share an rsvg-convert (a multi-page
    // PDF): most slides are 800 x 450, and each process start costs more
    // than a page.
    std::vector<Job> jobs;
    for (std::size_t i = 0; i < svgs.size();) {
      const auto [w, h] = report_detail::svg_size(svgs[i]);
      std::size_t end = i + 1;
      while (end < svgs.size() && report_detail::svg_size(svgs[end]) == std::make_pair(w, h)) ++end;
      const double z = std::min(chart_w / w, chart_h / h);
      Job j;
      j.svg = svgs[i];
      j.png = (pages / fmt::format("{:04d}.pdf", i)).string();
      j.err = j.png + ".log";
      j.args = {"rsvg-convert",
                "-f",
                "pdf",
                "-z",
                fmt::format("{:.6f}", z),
                "--page-width",
                fmt::format("{}", chart_w),
                "--page-height",
                fmt::format("{}", chart_h),
                "--left",
                fmt::format("{:.2f}", (chart_w - w * z) / 2),
                "--top",
                fmt::format("{:.2f}", (chart_h - h * z) / 2),
                "-o",
                j.png};
      for (std::size_t k = i; k < end; ++k) j.args.push_back(svgs[k]);
      jobs.push_back(std::move(j));
      i = end;
    }
    report_detail::run_all(jobs);
    Job unite;
    unite.tool = "pdfunite";
    unite.package = "poppler-utils";
    unite.args = {"pdfunite"};
    for (const auto& j : jobs) unite.args.push_back(j.png);
    const std::string tmp = pdf_path + ".tmp";
    unite.args.push_back(tmp);
    unite.png = pdf_path;
    unite.err = (pages / "pdfunite.log").string();
    std::vector<Job> one = {unite};
    report_detail::run_all(one);
    fs::rename(tmp, pdf_path, ec);
    if (ec) throw RunError(fmt::format("{}: cannot write: {}", pdf_path, ec.message()));
  } catch (...) {
    fs::remove_all(pages, ec);
    fs::remove(pdf_path + ".tmp", ec);
    throw;
  }
  fs::remove_all(pages, ec);
}

}  // namespace countysim
