#include "countysim/errors.hpp"

#include <fmt/format.h>

namespace countysim {

std::string Diagnostic::to_string() const {
  if (pos.line > 0) return fmt::format("{}:{}:{}: {}", file, pos.line, pos.column, message);
  return fmt::format("{}: {}", file, message);
}

static std::string join_diagnostics(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) {
    if (!out.empty()) out += '\n';
    out += d.to_string();
  }
  return out;
}

const char* input_kind_name(InputKind k) {
  switch (k) {
    case InputKind::scenario:
      return "scenario";
    case InputKind::results:
      return "results";
    case InputKind::sweep:
      return "sweep";
  }
  return "input";
}

InputError::InputError(std::vector<Diagnostic> diagnostics, InputKind kind)
    : std::runtime_error(join_diagnostics(diagnostics)),
      diagnostics_(std::move(diagnostics)),
      kind_(kind) {}

}  // namespace countysim
