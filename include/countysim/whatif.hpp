// What-if verbs: compare two results files, sweep a grid of lever values and
// solve for the lever value at which a target reaches a probability. Sweeps
// and solves run every point with the same seed, so the points share their
// random numbers (common random numbers) and differences between points are
// the levers' doing, not noise. One header for all of them.
#pragma once
#include "countysim/compare.hpp"
#include "countysim/levers.hpp"
#include "countysim/solve.hpp"
#include "countysim/sweep.hpp"
#include "countysim/sweep_io.hpp"
