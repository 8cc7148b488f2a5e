#include "engine/capture.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/error.h"
#include "common/strings.h"

namespace sluice::engine {

namespace {
std::optional<std::string> Text(duckdb_vector vector, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vector);
  if (validity && !duckdb_validity_row_is_valid(validity, row)) return std::nullopt;
  auto* strings = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
  duckdb_string_t& s = strings[row];
  return std::string(duckdb_string_t_data(&s), duckdb_string_t_length(s));
}

struct LogicalType {
  explicit LogicalType(duckdb_type t) : type(duckdb_create_logical_type(t)) {}
  ~LogicalType() { duckdb_destroy_logical_type(&type); }
  duckdb_logical_type type;
};
}  // namespace

// Registers `name`(parameters...) -> BOOLEAN calling `fn` with `self`. Special handling (called
// for NULL arguments too) and volatile (never folded, merged or skipped): each call is a row.
void Register(Connection& conn, const std::string& name, std::vector<duckdb_type> parameters,
              void* self, duckdb_scalar_function_t fn) {
  duckdb_scalar_function f = duckdb_create_scalar_function();
  duckdb_scalar_function_set_name(f, name.c_str());
  for (duckdb_type p : parameters) {
    LogicalType type(p);
    duckdb_scalar_function_add_parameter(f, type.type);
  }
  LogicalType boolean(DUCKDB_TYPE_BOOLEAN);
  duckdb_scalar_function_set_return_type(f, boolean.type);
  duckdb_scalar_function_set_special_handling(f);
  duckdb_scalar_function_set_volatile(f);
  duckdb_scalar_function_set_extra_info(f, self, nullptr);
  duckdb_scalar_function_set_function(f, fn);
  duckdb_state state = duckdb_register_scalar_function(conn.handle(), f);
  duckdb_destroy_scalar_function(&f);
  if (state == DuckDBError) Fail(ErrorKind::kInternal, "cannot register SQL function {}", name);
}

RowCounter::RowCounter(Connection& conn, const std::string& name) {
  Register(conn, name, {DUCKDB_TYPE_INTEGER}, this, &RowCounter::Call);
}

void RowCounter::Call(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  auto* self = static_cast<RowCounter*>(duckdb_scalar_function_get_extra_info(info));
  idx_t n = duckdb_data_chunk_get_size(input);
  duckdb_vector values = duckdb_data_chunk_get_vector(input, 0);
  auto* data = static_cast<int32_t*>(duckdb_vector_get_data(values));
  uint64_t* validity = duckdb_vector_get_validity(values);
  auto* out = static_cast<bool*>(duckdb_vector_get_data(output));
  // A chunk usually comes from one file: count runs of one value, then take the lock once.
  std::map<std::optional<int32_t>, int64_t> chunk;
  std::optional<int32_t> last;
  int64_t run = 0;
  for (idx_t i = 0; i < n; ++i) {
    out[i] = true;
    std::optional<int32_t> value;
    if (!validity || duckdb_validity_row_is_valid(validity, i)) value = data[i];
    if (run > 0 && value == last) {
      ++run;
      continue;
    }
    if (run > 0) chunk[last] += run;
    last = value;
    run = 1;
  }
  if (run > 0) chunk[last] += run;
  std::lock_guard lock(self->mu_);
  for (const auto& [value, count] : chunk) self->counts_[value] += count;
}

int64_t RowCounter::count() const {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  for (const auto& [value, count] : counts_) total += count;
  return total;
}

std::map<std::optional<int32_t>, int64_t> RowCounter::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void RowCounter::Reset() {
  std::lock_guard lock(mu_);
  counts_.clear();
}

RowCapture::RowCapture(Connection& conn, const std::string& name) {
  Register(conn, name, {DUCKDB_TYPE_INTEGER, DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_VARCHAR}, this,
           &RowCapture::Call);
}

void RowCapture::Call(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  auto* self = static_cast<RowCapture*>(duckdb_scalar_function_get_extra_info(info));
  idx_t n = duckdb_data_chunk_get_size(input);
  duckdb_vector files = duckdb_data_chunk_get_vector(input, 0);
  duckdb_vector reasons = duckdb_data_chunk_get_vector(input, 1);
  duckdb_vector raws = duckdb_data_chunk_get_vector(input, 2);
  auto* file_data = static_cast<int32_t*>(duckdb_vector_get_data(files));
  uint64_t* file_validity = duckdb_vector_get_validity(files);
  auto* out = static_cast<bool*>(duckdb_vector_get_data(output));
  std::vector<Row> rows;
  std::map<std::string, int64_t> counts;
  for (idx_t i = 0; i < n; ++i) {
    out[i] = false;
    std::string reason = Text(reasons, i).value_or("");
    auto raw = Text(raws, i);
    if (!raw) {
      counts[reason]++;
      continue;
    }
    Row row{std::nullopt, std::move(reason), std::move(*raw)};
    if (!file_validity || duckdb_validity_row_is_valid(file_validity, i)) row.file = file_data[i];
    rows.push_back(std::move(row));
  }
  std::lock_guard lock(self->mu_);
  for (auto& [reason, count] : counts) self->counts_[reason] += count;
  for (auto& row : rows) self->rows_.push_back(std::move(row));
}

void RowCapture::Reset() {
  std::lock_guard lock(mu_);
  rows_.clear();
  counts_.clear();
}

void RowCapture::Materialize(Connection& conn, const std::string& table) const {
  conn.Execute(
      fmt::format("CREATE TABLE {} (file BIGINT, reason VARCHAR, raw VARCHAR)", SqlIdent(table)));
  duckdb_appender appender = nullptr;
  if (duckdb_appender_create(conn.handle(), nullptr, table.c_str(), &appender) == DuckDBError) {
    std::string message = duckdb_appender_error(appender);
    duckdb_appender_destroy(&appender);
    Fail(ErrorKind::kInternal, "cannot append to {}: {}", table, message);
  }
  for (const auto& row : rows_) {
    if (row.file) {
      duckdb_append_int64(appender, *row.file);
    } else {
      duckdb_append_null(appender);
    }
    duckdb_append_varchar_length(appender, row.reason.data(), row.reason.size());
    duckdb_append_varchar_length(appender, row.raw.data(), row.raw.size());
    duckdb_appender_end_row(appender);
  }
  bool failed = duckdb_appender_close(appender) == DuckDBError;
  std::string message = failed ? duckdb_appender_error(appender) : "";
  duckdb_appender_destroy(&appender);
  if (failed) Fail(ErrorKind::kInternal, "cannot append to {}: {}", table, message);
}

}  // namespace sluice::engine

namespace sluice::engine {

Tokenizer::Tokenizer(Connection& conn, const std::string& name, std::string key)
    : key_(std::move(key)) {
  duckdb_scalar_function f = duckdb_create_scalar_function();
  duckdb_scalar_function_set_name(f, name.c_str());
  LogicalType varchar(DUCKDB_TYPE_VARCHAR);
  duckdb_scalar_function_add_parameter(f, varchar.type);
  duckdb_scalar_function_set_return_type(f, varchar.type);
  duckdb_scalar_function_set_extra_info(f, this, nullptr);
  duckdb_scalar_function_set_function(f, &Tokenizer::Call);
  duckdb_state state = duckdb_register_scalar_function(conn.handle(), f);
  duckdb_destroy_scalar_function(&f);
  if (state == DuckDBError) Fail(ErrorKind::kInternal, "cannot register SQL function {}", name);
}

std::string Tokenizer::Token(std::string_view value) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac, &len);
  static const char* hex = "0123456789abcdef";
  std::string out = "tok_";
  for (unsigned int i = 0; i < 16 && i < len; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 15];
  }
  return out;
}

void Tokenizer::Call(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  auto* self = static_cast<Tokenizer*>(duckdb_scalar_function_get_extra_info(info));
  idx_t n = duckdb_data_chunk_get_size(input);
  duckdb_vector values = duckdb_data_chunk_get_vector(input, 0);
  duckdb_vector_ensure_validity_writable(output);
  uint64_t* out_validity = duckdb_vector_get_validity(output);
  for (idx_t i = 0; i < n; ++i) {
    auto v = Text(values, i);
    if (!v) {
      duckdb_validity_set_row_invalid(out_validity, i);
      continue;
    }
    std::string token = self->Token(*v);
    duckdb_vector_assign_string_element_len(output, i, token.data(), token.size());
  }
}

}  // namespace sluice::engine
