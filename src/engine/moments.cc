#include "engine/moments.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <tuple>
#include <vector>

#include "engine/aggregate.h"

namespace sluice::engine {

namespace {

// Moments of n values (stddev) or n pairs (corr: y is the first argument, x the second).
struct Moments {
  uint64_t n;
  double mean_y, mean_x;
  double m2_y, m2_x;  // sums of squared deviations from the mean
  double c;           // sum of the products of the deviations of y and x
};

Moments Load(duckdb_aggregate_state state) {
  Moments m;
  std::memcpy(&m, state, sizeof m);
  return m;
}

void Store(duckdb_aggregate_state state, const Moments& m) { std::memcpy(state, &m, sizeof m); }

// Adds `run` to `into` (Chan, Golub and LeVeque's pairwise update).
void Join(Moments& into, const Moments& run) {
  if (run.n == 0) return;
  if (into.n == 0) {
    into = run;
    return;
  }
  auto a = static_cast<double>(into.n), b = static_cast<double>(run.n), n = a + b;
  double dy = run.mean_y - into.mean_y, dx = run.mean_x - into.mean_x;
  double f = a * b / n;
  into.m2_y += run.m2_y + dy * dy * f;
  into.m2_x += run.m2_x + dx * dx * f;
  into.c += run.c + dx * dy * f;
  into.mean_y += dy * (b / n);
  into.mean_x += dx * (b / n);
  into.n += run.n;
}

// The moments of y[0, n) (and x[0, n) when kPairs) in two passes, four sums at a time. The mean
// sums differences from the first value: 1e308 twice does not overflow (nor does DuckDB's).
template <bool kPairs>
Moments OfRun(const double* y, const double* x, size_t n) {
  Moments m{};
  if (n == 0) return m;
  const double ky = y[0], kx = kPairs ? x[0] : 0;
  double sy[4] = {}, sx[4] = {};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int k = 0; k < 4; ++k) {
      sy[k] += y[i + k] - ky;
      if constexpr (kPairs) sx[k] += x[i + k] - kx;
    }
  }
  for (; i < n; ++i) {
    sy[0] += y[i] - ky;
    if constexpr (kPairs) sx[0] += x[i] - kx;
  }
  auto count = static_cast<double>(n);
  m.n = n;
  m.mean_y = ky + (sy[0] + sy[1] + sy[2] + sy[3]) / count;
  m.mean_x = kx + (sx[0] + sx[1] + sx[2] + sx[3]) / count;
  double qy[4] = {}, qx[4] = {}, c[4] = {};
  for (i = 0; i + 4 <= n; i += 4) {
    for (int k = 0; k < 4; ++k) {
      double dy = y[i + k] - m.mean_y;
      qy[k] += dy * dy;
      if constexpr (kPairs) {
        double dx = x[i + k] - m.mean_x;
        qx[k] += dx * dx;
        c[k] += dx * dy;
      }
    }
  }
  for (; i < n; ++i) {
    double dy = y[i] - m.mean_y;
    qy[0] += dy * dy;
    if constexpr (kPairs) {
      double dx = x[i] - m.mean_x;
      qx[0] += dx * dx;
      c[0] += dx * dy;
    }
  }
  m.m2_y = qy[0] + qy[1] + qy[2] + qy[3];
  m.m2_x = qx[0] + qx[1] + qx[2] + qx[3];
  m.c = c[0] + c[1] + c[2] + c[3];
  return m;
}

inline bool Valid(const uint64_t* validity, idx_t row) {
  return !validity || (validity[row / 64] >> (row % 64)) & 1;
}

idx_t StateSize(duckdb_function_info) { return sizeof(Moments); }

void Init(duckdb_function_info, duckdb_aggregate_state state) { Store(state, Moments{}); }

template <bool kPairs>
void Update(duckdb_function_info, duckdb_data_chunk input, duckdb_aggregate_state* states) {
  idx_t n = duckdb_data_chunk_get_size(input);
  duckdb_vector yv = duckdb_data_chunk_get_vector(input, 0);
  const auto* y = static_cast<const double*>(duckdb_vector_get_data(yv));
  const uint64_t* y_valid = duckdb_vector_get_validity(yv);
  const double* x = nullptr;
  const uint64_t* x_valid = nullptr;
  if constexpr (kPairs) {
    duckdb_vector xv = duckdb_data_chunk_get_vector(input, 1);
    x = static_cast<const double*>(duckdb_vector_get_data(xv));
    x_valid = duckdb_vector_get_validity(xv);
  }
  std::vector<double> ys, xs;  // a run's values (pairs) without NULLs
  ForEachStateRun(states, n, [&](duckdb_aggregate_state state, idx_t begin, idx_t end) {
    Moments run;
    if (!y_valid && !x_valid) {
      run = OfRun<kPairs>(y + begin, kPairs ? x + begin : nullptr, end - begin);
    } else {
      ys.clear(), xs.clear();
      for (idx_t r = begin; r < end; ++r) {
        if (!Valid(y_valid, r) || !Valid(x_valid, r)) continue;
        ys.push_back(y[r]);
        if constexpr (kPairs) xs.push_back(x[r]);
      }
      run = OfRun<kPairs>(ys.data(), xs.data(), ys.size());
    }
    Moments m = Load(state);
    Join(m, run);
    Store(state, m);
  });
}

void Combine(duckdb_function_info, duckdb_aggregate_state* source, duckdb_aggregate_state* target,
             idx_t count) {
  for (idx_t i = 0; i < count; ++i) {
    Moments m = Load(target[i]);
    Join(m, Load(source[i]));
    Store(target[i], m);
  }
}

void SetNull(duckdb_vector result, idx_t row) {
  duckdb_vector_ensure_validity_writable(result);
  duckdb_validity_set_row_invalid(duckdb_vector_get_validity(result), row);
}

void FinalizeStddev(duckdb_function_info info, duckdb_aggregate_state* source, duckdb_vector result,
                    idx_t count, idx_t offset) {
  auto* out = static_cast<double*>(duckdb_vector_get_data(result));
  for (idx_t i = 0; i < count; ++i) {
    Moments m = Load(source[i]);
    if (m.n <= 1) {
      SetNull(result, offset + i);
      continue;
    }
    double v = std::sqrt(m.m2_y / static_cast<double>(m.n - 1));
    if (!std::isfinite(v)) {
      duckdb_aggregate_function_set_error(info, "STDDEV_SAMP is out of range!");
      return;
    }
    out[offset + i] = v;
  }
}

void FinalizeCorr(duckdb_function_info info, duckdb_aggregate_state* source, duckdb_vector result,
                  idx_t count, idx_t offset) {
  auto* out = static_cast<double*>(duckdb_vector_get_data(result));
  for (idx_t i = 0; i < count; ++i) {
    Moments m = Load(source[i]);
    if (m.n == 0) {
      SetNull(result, offset + i);
      continue;
    }
    auto n = static_cast<double>(m.n);
    double std_x = m.n > 1 ? std::sqrt(m.m2_x / n) : 0, std_y = m.n > 1 ? std::sqrt(m.m2_y / n) : 0;
    if (!std::isfinite(std_x) || !std::isfinite(std_y)) {
      duckdb_aggregate_function_set_error(info, std::isfinite(std_x)
                                                    ? "STDDEV_POP for Y is out of range!"
                                                    : "STDDEV_POP for X is out of range!");
      return;
    }
    out[offset + i] =
        std_x * std_y != 0 ? (m.c / n) / (std_x * std_y) : std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace

void RegisterMoments(Connection& conn) {
  for (const auto& [name, arguments, update, finalize] :
       {std::tuple{kStddevFunction, 1, &Update<false>, &FinalizeStddev},
        std::tuple{kCorrFunction, 2, &Update<true>, &FinalizeCorr}}) {
    RegisterAggregate(conn, {name, DUCKDB_TYPE_DOUBLE, arguments, DUCKDB_TYPE_DOUBLE, &StateSize,
                             &Init, update, &Combine, finalize});
  }
}

}  // namespace sluice::engine
