#include "pg/pg.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>

#include "common/interrupt.h"
#include "common/one_line.h"
#include "common/redact.h"
#include "common/strings.h"
#include "pg/copy_text.h"

namespace sluice::pg {
namespace {

// Type OIDs (pg_type.dat) of the types Param sends and Result reads.
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701,
              kNumeric = 1700;

struct Race {
  const char* sqlstate;
  const char* code;
};
// The SQLSTATEs of a lost race, and their codes.
constexpr Race kRaces[] = {{"40001", "pg.serialization_failure"},
                           {"40P01", "pg.deadlock"},
                           {"23505", "pg.unique_violation"}};

std::string TypeName(Oid oid) {
  switch (oid) {
    case kBool:
      return "bool";
    case kInt8:
      return "int8";
    case kInt2:
      return "int2";
    case kInt4:
      return "int4";
    case kFloat4:
      return "float4";
    case kFloat8:
      return "float8";
    case kNumeric:
      return "numeric";
    default:
      return fmt::format("the type with OID {}", oid);
  }
}

// True when the conninfo may carry a password that a libpq parse error could quote.
// Whether a postgresql:// URI has an '@' or '/' in its user name or password that is not
// percent-encoded: two '@' before the path, or a '/' before the '@'.
bool UserInfoNeedsEncoding(std::string_view conninfo) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (!conninfo.starts_with(scheme)) continue;
    std::string_view rest = conninfo.substr(scheme.size());
    rest = rest.substr(0, rest.find('?'));
    size_t at = rest.find('@');
    if (at == std::string_view::npos) return false;
    return rest.find('@', at + 1) != std::string_view::npos || rest.find('/') < at;
  }
  return false;
}

bool MayHoldPassword(const std::string& conninfo) {
  if (ToLower(conninfo).find("password") != std::string::npos) return true;
  size_t at = conninfo.find('@');
  return at != std::string::npos && conninfo.find(':', conninfo.find("://") + 3) < at;
}

void DropNotice(void*, const char*) {}

}  // namespace

bool Error::lost_race() const {
  for (const Race& race : kRaces) {
    if (sqlstate_ == race.sqlstate) return true;
  }
  return false;
}

Param::Param(int64_t value) : text_(std::to_string(value)), type_oid_(kInt8) {}
Param::Param(double value) : text_(fmt::format("{}", value)), type_oid_(kFloat8) {}
Param::Param(bool value) : text_(value ? "t" : "f"), type_oid_(kBool) {}

Result::Result(PGresult* result) : result_(result) {}
Result::~Result() { PQclear(result_); }
Result::Result(Result&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }

int Result::rows() const { return PQntuples(result_); }
int Result::columns() const { return PQnfields(result_); }
std::string Result::column_name(int column) const { return PQfname(result_, column); }

unsigned int Result::type_oid(int column) const { return PQftype(result_, column); }

int Result::type_modifier(int column) const { return PQfmod(result_, column); }

bool Result::is_numeric(int column) const {
  switch (PQftype(result_, column)) {
    case 20:    // int8
    case 21:    // int2
    case 23:    // int4
    case 700:   // float4
    case 701:   // float8
    case 1700:  // numeric
      return true;
    default:
      return false;
  }
}

int Result::column(std::string_view name) const {
  for (int i = 0; i < columns(); ++i) {
    if (column_name(i) == name) return i;
  }
  throw Error(ErrorKind::kInternal, "pg.type", "",
              fmt::format("no column '{}' in the result", name));
}

int64_t Result::affected() const {
  const char* tuples = PQcmdTuples(result_);
  return *tuples ? std::stoll(tuples) : 0;
}

bool Result::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

const char* Result::Value(int row, int column, const char* wanted) const {
  if (row < 0 || row >= rows() || column < 0 || column >= columns()) {
    throw Error(ErrorKind::kInternal, "pg.type", "",
                fmt::format("no field at row {}, column {} (the result has {} rows, {} columns)",
                            row, column, rows(), columns()));
  }
  if (IsNull(row, column)) {
    throw Error(
        ErrorKind::kInternal, "pg.type", "",
        fmt::format("column '{}' of row {} is NULL, read as {}", column_name(column), row, wanted));
  }
  return PQgetvalue(result_, row, column);
}

std::string Result::Text(int row, int column) const { return Value(row, column, "text"); }

int64_t Result::Int(int row, int column) const {
  const char* text = Value(row, column, "an integer");
  Oid type = PQftype(result_, column);
  int64_t value = 0;
  if (type != kInt2 && type != kInt4 && type != kInt8) {
    throw Error(
        ErrorKind::kInternal, "pg.type", "",
        fmt::format("column '{}' is {}, read as an integer", column_name(column), TypeName(type)));
  }
  std::from_chars(text, text + std::strlen(text), value);
  return value;
}

double Result::Double(int row, int column) const {
  const char* text = Value(row, column, "a number");
  Oid type = PQftype(result_, column);
  if (type != kFloat4 && type != kFloat8 && type != kNumeric && type != kInt2 && type != kInt4 &&
      type != kInt8) {
    throw Error(
        ErrorKind::kInternal, "pg.type", "",
        fmt::format("column '{}' is {}, read as a number", column_name(column), TypeName(type)));
  }
  double value = 0;
  std::from_chars(text, text + std::strlen(text), value);
  return value;
}

bool Result::Bool(int row, int column) const {
  const char* text = Value(row, column, "a bool");
  Oid type = PQftype(result_, column);
  if (type != kBool) {
    throw Error(
        ErrorKind::kInternal, "pg.type", "",
        fmt::format("column '{}' is {}, read as a bool", column_name(column), TypeName(type)));
  }
  return text[0] == 't';
}

Connection::Connection(const std::string& conninfo, int connect_timeout_s) {
  if (UserInfoNeedsEncoding(conninfo)) {
    // libpq would split the URI at the wrong '@' or '/' and quote the pieces (the password's
    // among them) as a host, a port or a database.
    throw Error(ErrorKind::kConfig, "pg.uri", "",
                "cannot connect to PostgreSQL: the user name or password in the URI holds '@' or "
                "'/'\n  hint: percent-encode them (@ as %40, / as %2F), or give the password in "
                "PGPASSWORD or a passfile");
  }
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (options == nullptr) {
    std::string words = parse_error ? OneLine(parse_error) : "out of memory";
    PQfreemem(parse_error);
    // libpq quotes the text it could not parse, which may be the password.
    throw Error(
        ErrorKind::kIo, "pg.connect", "",
        Redact(MayHoldPassword(conninfo)
                   ? "cannot connect to PostgreSQL: the connection string is malformed"
                   : "cannot connect to PostgreSQL: the connection string is malformed: " + words));
  }
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::strcmp(option->keyword, "password") == 0 && option->val != nullptr) {
      password_ = option->val;
    }
  }
  PQconninfoFree(options);
  for (std::string secret : SecretsIn(conninfo)) {
    // A whole URI from ${env:...} is registered as a secret: its password is the part to keep
    // out of messages, not the user, host and database a reader needs to see.
    if (secret == conninfo) secret = password_;
    size_t start = 0;
    for (size_t i = 0; i <= secret.size(); ++i) {
      if (i < secret.size() && std::strchr("/@?#:&=%", secret[i]) == nullptr) continue;
      if (i - start >= 3 && i - start < secret.size()) {
        fragments_.push_back(secret.substr(start, i - start));
      }
      start = i + 1;
    }
  }
  std::sort(fragments_.begin(), fragments_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });

  // Later keywords win: a connect_timeout in the conninfo overrides the default given here.
  std::string timeout = std::to_string(connect_timeout_s);
  const char* keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), conninfo.c_str(), nullptr};
  conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) {
    throw Error(ErrorKind::kIo, "pg.connect", "", "cannot connect to PostgreSQL: out of memory");
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string said = PQerrorMessage(conn_);
    std::string message =
        Clean(fmt::format("cannot connect to PostgreSQL database '{}' as user '{}': {}",
                          PQdb(conn_), PQuser(conn_), OneLine(said, 500)));
    // The two a first setup meets most.
    if (said.find("no password supplied") != std::string::npos) {
      message +=
          "\n  hint: give the password in PGPASSWORD, a passfile (~/.pgpass), or the URI "
          "from an ${env:...} variable";
    } else if (said.find("database \"") != std::string::npos &&
               said.find("does not exist") != std::string::npos) {
      message +=
          "\n  hint: check its name; Sluice creates tables, never a database (CREATE "
          "DATABASE makes one)";
    }
    PQfinish(conn_);
    throw Error(ErrorKind::kIo, "pg.connect", "", message);
  }
  PQsetNoticeProcessor(conn_, DropNotice, nullptr);
  cancel_ = PQgetCancel(conn_);
}

Connection::~Connection() {
  if (cancel_ != nullptr) PQfreeCancel(cancel_);
  PQfinish(conn_);
}

std::string Connection::Clean(std::string text) const {
  if (!password_.empty()) ReplaceAll(text, password_, "***");
  text = Redact(std::move(text));
  for (const auto& piece : fragments_) ReplaceAll(text, piece, "***");
  return text;
}

void Connection::ThrowFromConnection(std::string_view what) {
  throw Error(ErrorKind::kIo, "pg.connect", "",
              Clean(fmt::format("{}: {}", what, OneLine(PQerrorMessage(conn_), 500))));
}

void Connection::ThrowFromResult(const PGresult* result, std::string_view what) {
  const char* field = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string sqlstate = field ? field : "";
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
  std::string words = primary ? primary : OneLine(PQresultErrorMessage(result), 500);
  if (detail != nullptr) words += fmt::format(" ({})", OneLine(detail, 500));
  std::string message = Clean(fmt::format("{}: {}", what, words));
  ErrorKind kind = ErrorKind::kIo;
  std::string code = "pg.query";
  for (const Race& race : kRaces) {
    if (sqlstate == race.sqlstate) {
      kind = ErrorKind::kConflict;
      code = race.code;
    }
  }
  if (sqlstate == "57014") {  // query_canceled: by Cancel, else by statement_timeout
    bool cancelled = cancel_requested_.exchange(false);
    kind = cancelled ? ErrorKind::kInterrupted : ErrorKind::kIo;
    code = cancelled ? "pg.cancelled" : "pg.timeout";
  }
  if (StartsWith(sqlstate, "08") || PQstatus(conn_) == CONNECTION_BAD) code = "pg.connect";
  throw Error(kind, std::move(code), std::move(sqlstate), message);
}

Result Connection::Query(std::string_view sql, const std::vector<Param>& params) {
  return Run(sql, params, Mode::kQuery);
}

void Connection::Script(std::string_view sql) { Run(sql, {}, Mode::kScript); }

bool Connection::Broken() const { return PQstatus(conn_) == CONNECTION_BAD; }

std::string Connection::Where() const {
  return fmt::format("database '{}' on {}:{} as '{}'", PQdb(conn_), PQhost(conn_), PQport(conn_),
                     PQuser(conn_));
}

Result Connection::Run(std::string_view sql, const std::vector<Param>& params, Mode mode) {
  const bool copy_in = mode == Mode::kCopyIn;
  cancel_requested_ = false;
  std::vector<const char*> values;
  std::vector<Oid> types;
  for (const Param& param : params) {
    values.push_back(param.text() ? param.text()->c_str() : nullptr);
    types.push_back(param.type_oid());
  }
  std::string statement(sql);
  const std::string what = fmt::format("PostgreSQL, in '{}'", OneLine(statement, 80));
  int sent = mode == Mode::kScript
                 ? PQsendQuery(conn_, statement.c_str())
                 : PQsendQueryParams(conn_, statement.c_str(), static_cast<int>(params.size()),
                                     types.data(), values.data(), nullptr, nullptr,
                                     /*resultFormat=*/0);
  if (sent == 0) {
    ThrowFromConnection(what);
  }
  // The statement's result (the last one; a COPY stops at its first), waited for in steps so
  // that Ctrl-C, or a workflow step's stop, cancels the statement on the server.
  bool cancelled = false;
  std::unique_ptr<PGresult, decltype(&PQclear)> last(nullptr, &PQclear);
  while (true) {
    while (PQisBusy(conn_)) WaitForInput(cancelled, what);
    PGresult* next = PQgetResult(conn_);
    if (next == nullptr) break;
    last.reset(next);
    ExecStatusType got = PQresultStatus(next);
    if (got == PGRES_COPY_IN || got == PGRES_COPY_OUT || got == PGRES_COPY_BOTH) break;
  }
  if (last == nullptr) ThrowFromConnection(what);
  Result result(last.release());
  ExecStatusType status = PQresultStatus(result.result_);
  if (status == PGRES_COPY_IN && !copy_in) {
    PQputCopyEnd(conn_, "COPY FROM STDIN goes through CopyFrom");
    while (PGresult* more = PQgetResult(conn_)) PQclear(more);
    throw Error(ErrorKind::kInternal, "pg.query", "",
                Clean(what + ": COPY FROM STDIN goes through Connection::CopyFrom"));
  }
  if (status != PGRES_COPY_IN && copy_in &&
      (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)) {
    throw Error(ErrorKind::kInternal, "pg.query", "", Clean(what + ": not a COPY ... FROM STDIN"));
  }
  if (status == PGRES_COPY_OUT && mode != Mode::kCopyOut) {
    DrainCopyOut();
    throw Error(ErrorKind::kInternal, "pg.query", "",
                Clean(what + ": COPY TO STDOUT goes through Connection::CopyTo"));
  }
  if (status != PGRES_COPY_OUT && mode == Mode::kCopyOut &&
      (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN)) {
    if (status == PGRES_COPY_IN) PQputCopyEnd(conn_, "not a COPY TO STDOUT");
    while (PGresult* more = PQgetResult(conn_)) PQclear(more);
    throw Error(ErrorKind::kInternal, "pg.query", "", Clean(what + ": not a COPY ... TO STDOUT"));
  }
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_COPY_IN &&
      status != PGRES_COPY_OUT) {
    ThrowFromResult(result.result_, what);
  }
  return result;
}

void Connection::WaitForInput(bool& cancelled, std::string_view what) {
  pollfd ready{PQsocket(conn_), POLLIN, 0};
  poll(&ready, 1, 100);
  if (!cancelled && Interrupted()) {
    Cancel();
    cancelled = true;
  }
  if (PQconsumeInput(conn_) == 0) ThrowFromConnection(what);
}

void Connection::SetStatementTimeout(int64_t ms) {
  Query("SELECT set_config('statement_timeout', $1, false)", {std::to_string(ms)});
}

void Connection::Cancel() {
  cancel_requested_ = true;
  char error[256];
  PQcancel(cancel_, error, sizeof error);
}

CopyIn Connection::CopyFrom(std::string_view copy_sql) {
  Run(copy_sql, {}, Mode::kCopyIn);
  return CopyIn(this);
}

int64_t Connection::CopyTo(std::string_view copy_sql,
                           const std::function<void(std::string_view)>& row) {
  Run(copy_sql, {}, Mode::kCopyOut);
  const std::string what = fmt::format("PostgreSQL, in '{}'", OneLine(std::string(copy_sql), 80));
  int64_t rows = 0;
  bool cancelled = false;
  while (true) {
    char* buffer = nullptr;
    int n = PQgetCopyData(conn_, &buffer, /*async=*/1);
    if (n > 0) {
      std::unique_ptr<char, decltype(&PQfreemem)> hold(buffer, &PQfreemem);
      ++rows;
      try {
        row(std::string_view(buffer, static_cast<size_t>(n)));
      } catch (...) {
        Cancel();
        DrainCopyOut();
        throw;
      }
      continue;
    }
    if (n == -1) break;  // the COPY is over; its result follows
    if (n == -2) ThrowFromConnection(what);
    WaitForInput(cancelled, what);
  }
  Result last(PQgetResult(conn_));
  while (PGresult* more = PQgetResult(conn_)) PQclear(more);
  if (last.result_ == nullptr) ThrowFromConnection(what);
  if (PQresultStatus(last.result_) != PGRES_COMMAND_OK) ThrowFromResult(last.result_, what);
  return rows;
}

void Connection::DrainCopyOut() {
  char* buffer = nullptr;
  int n;
  while ((n = PQgetCopyData(conn_, &buffer, /*async=*/0)) > 0) PQfreemem(buffer);
  while (PGresult* more = PQgetResult(conn_)) PQclear(more);
}

CopyIn::CopyIn(CopyIn&& other) noexcept : connection_(other.connection_) {
  other.connection_ = nullptr;
}

CopyIn::~CopyIn() {
  if (connection_ == nullptr) return;
  PGconn* conn = connection_->conn_;
  PQputCopyEnd(conn, "COPY abandoned by the client");
  while (PGresult* result = PQgetResult(conn)) PQclear(result);
}

void CopyIn::WriteRow(const std::vector<Param>& row) {
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) line += '\t';
    if (row[i].text()) {
      AppendCopyText(line, *row[i].text());
    } else {
      AppendCopyNull(line);
    }
  }
  line += '\n';
  WriteRaw(line);
}

void CopyIn::WriteRaw(std::string_view data) {
  PGconn* conn = connection_->conn_;
  while (!data.empty()) {
    // PQputCopyData takes an int length: a larger buffer goes in pieces.
    size_t piece = std::min<size_t>(data.size(), 1 << 30);
    if (PQputCopyData(conn, data.data(), static_cast<int>(piece)) != 1) {
      // The COPY is over (the connection broke): the server's error, when it sent one, says why.
      Result failed(PQgetResult(conn));
      while (PGresult* more = PQgetResult(conn)) PQclear(more);
      if (failed.result_ != nullptr && PQresultStatus(failed.result_) == PGRES_FATAL_ERROR) {
        connection_->ThrowFromResult(failed.result_, "PostgreSQL, in COPY");
      }
      connection_->ThrowFromConnection("PostgreSQL, in COPY");
    }
    data.remove_prefix(piece);
  }
}

int64_t CopyIn::Finish() {
  Connection* connection = connection_;
  connection_ = nullptr;
  PGconn* conn = connection->conn_;
  if (PQputCopyEnd(conn, nullptr) != 1) connection->ThrowFromConnection("PostgreSQL, ending COPY");
  Result last(PQgetResult(conn));
  while (PGresult* more = PQgetResult(conn)) PQclear(more);
  if (last.result_ == nullptr) connection->ThrowFromConnection("PostgreSQL, ending COPY");
  if (PQresultStatus(last.result_) != PGRES_COMMAND_OK) {
    connection->ThrowFromResult(last.result_, "PostgreSQL, in COPY");
  }
  return last.affected();
}

Transaction::Transaction(Connection& connection, Isolation isolation, bool read_only)
    : connection_(connection) {
  const char* level = isolation == Isolation::kSerializable     ? "SERIALIZABLE"
                      : isolation == Isolation::kRepeatableRead ? "REPEATABLE READ"
                                                                : "READ COMMITTED";
  connection_.Query(
      fmt::format("BEGIN ISOLATION LEVEL {}{}", level, read_only ? " READ ONLY" : ""));
}

Transaction::~Transaction() {
  if (!open_) return;
  PQclear(PQexec(connection_.conn_, "ROLLBACK"));
}

void Transaction::Commit() {
  open_ = false;
  if (PQtransactionStatus(connection_.conn_) == PQTRANS_INERROR) {
    PQclear(PQexec(connection_.conn_, "ROLLBACK"));
    throw Error(ErrorKind::kInternal, "pg.query", "25P02",
                "PostgreSQL: the transaction was not committed: a statement in it failed");
  }
  connection_.Query("COMMIT");
}

}  // namespace sluice::pg
