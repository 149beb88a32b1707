// Sweep files (HDF5, `countysim-sweep/1`, layout in docs/what-if.md): written
// by `sweep`, read back by `report`.
#pragma once
#include <string>

#include "countysim/results_types.hpp"

namespace countysim {

// Writes SWEEP.h5 (temporary name, renamed when complete); UsageError if it
// exists and !force.
void write_sweep(const SweepResult& r, const std::string& path, bool force,
                 const std::string& command_line);
// Whether `path` is a sweep file (false for a results file or anything else).
bool is_sweep_file(const std::string& path);
// InputError (sweep) if `path` is not a sweep file or its shapes disagree.
SweepResult read_sweep(const std::string& path);

}  // namespace countysim
