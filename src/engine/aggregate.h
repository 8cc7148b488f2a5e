#pragma once
// What Sluice's C-API aggregate functions (sluice_duplicates, sluice_stddev_samp, sluice_corr)
// share: their registration, and walking a chunk's rows by the state they update.
#include "engine/engine.h"

namespace sluice::engine {

struct Aggregate {
  const char* name;
  duckdb_type argument;  // the type of each argument
  int arguments;
  duckdb_type result;
  duckdb_aggregate_state_size state_size;
  duckdb_aggregate_init_t init;
  duckdb_aggregate_update_t update;
  duckdb_aggregate_combine_t combine;
  duckdb_aggregate_finalize_t finalize;
  duckdb_aggregate_destroy_t destroy = nullptr;  // none for plain state
};

// Registers `a` in the connection's database (every connection of that database sees it). Does
// nothing when it is already there, so it can be called for every connection.
void RegisterAggregate(Connection& conn, const Aggregate& a);

// Calls run(state, begin, end) for each run of consecutive rows among [0, n) that update the same
// state: rows come with one state each, and without GROUP BY they all share one.
template <class Run>
void ForEachStateRun(duckdb_aggregate_state* states, idx_t n, Run run) {
  for (idx_t row = 0; row < n;) {
    duckdb_aggregate_state state = states[row];
    idx_t end = row + 1;
    while (end < n && states[end] == state) ++end;
    run(state, row, end);
    row = end;
  }
}

}  // namespace sluice::engine
