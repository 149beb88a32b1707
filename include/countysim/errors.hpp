// Typed errors. Everything a user can get wrong is thrown as one of these and
// caught once, in main, which maps it to an exit status.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace countysim {

// A position in a source file, 1-based. line == 0 means "no position known".
struct SourcePos {
  int line = 0;
  int column = 0;
};

// One problem found in an input file: printed as `file:line:column: message`.
struct Diagnostic {
  std::string file;
  SourcePos pos;
  std::string message;
  std::string to_string() const;
};

// Which kind of input file a problem is in: main says so, because "fix the
// scenario" and "this results file is damaged" call for different actions.
enum class InputKind { scenario, results, sweep };
const char* input_kind_name(InputKind k);  // "scenario", "results", "sweep"

// Bad input file: exit status 2. Holds every problem found.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics, InputKind kind = InputKind::scenario);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  InputKind kind() const { return kind_; }

 private:
  std::vector<Diagnostic> diagnostics_;
  InputKind kind_;
};

// Bad command line (unknown option, bad --set syntax, existing output without
// --force, ...): exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Anything else that stops a run (I/O failure, invalid draw): exit status 1.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown when the user interrupts a run (SIGINT/SIGTERM); exit status 130.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

}  // namespace countysim
