#pragma once
// sluice_stddev_samp(x DOUBLE) and sluice_corr(y DOUBLE, x DOUBLE) -> DOUBLE: DuckDB's
// stddev_samp and corr (the data-quality rules StandardDeviation and ColumnCorrelation), with the
// same answers up to rounding, the same NULLs and NaN (stddev_samp: NULL below two values; corr:
// NULL without a pair of non-NULL values, NaN when either side does not vary) and the same
// out-of-range error messages (as an Invalid Input Error: the C API has no other kind), about
// three times cheaper per value.
//
// How: DuckDB updates a running mean and sum of squared deviations value by value (Welford's
// method: a division per value and per moment, each waiting for the one before). These take the
// run of values a chunk gives one state and sum it in two passes: the run's mean, then its squared
// deviations (and products of deviations), four independent sums at a time; the run's moments join
// the state's by the pairwise formulas of Chan, Golub and LeVeque, which is also how thread-local
// states are combined. As exact as Welford's method or more (each run's deviations are from its
// own mean).
#include "engine/engine.h"

namespace sluice::engine {

inline constexpr const char* kStddevFunction = "sluice_stddev_samp";
inline constexpr const char* kCorrFunction = "sluice_corr";

// Registers both functions in the connection's database (every connection of that database sees
// them). Does nothing when they are already there.
void RegisterMoments(Connection& conn);

}  // namespace sluice::engine
