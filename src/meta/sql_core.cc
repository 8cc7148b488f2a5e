#include "meta/sql_core.h"

#include <fmt/format.h>

#include "common/error.h"

namespace sluice::meta {

SqlCore::SqlCore(std::unique_ptr<SqlConnection> connection, std::unique_ptr<Dialect> dialect,
                 bool migrate)
    : dialect_(std::move(dialect)), connection_(std::move(connection)) {
  if (migrate) Migrate();
}

SqlCore::~SqlCore() = default;

void SqlCore::Exec(const std::string& sql) { connection_->Exec(sql); }

int64_t SqlCore::Changes() { return connection_->Changes(); }

SqlCore::Statement::Statement(SqlCore& core, std::string_view sql)
    : cursor_(core.connection_->Prepare(core.dialect().Placeholders(sql))) {}

SqlCore::Statement& SqlCore::Statement::Bind(int i, int64_t v) {
  cursor_->Bind(i, v);
  return *this;
}

SqlCore::Statement& SqlCore::Statement::Bind(int i, const std::string& v) {
  cursor_->Bind(i, v);
  return *this;
}

SqlCore::Statement& SqlCore::Statement::BindReal(int i, double v) {
  cursor_->BindReal(i, v);
  return *this;
}

SqlCore::Statement& SqlCore::Statement::BindNull(int i) {
  cursor_->BindNull(i);
  return *this;
}

SqlCore::Statement& SqlCore::Statement::BindOrNull(int i, int64_t v) {
  return v ? Bind(i, v) : BindNull(i);
}

bool SqlCore::Statement::Step() { return cursor_->Step(); }

void SqlCore::Statement::Run() {
  while (Step()) {
  }
}

int64_t SqlCore::Statement::Int(int col) { return cursor_->Int(col); }

double SqlCore::Statement::Double(int col) { return cursor_->Double(col); }

std::string SqlCore::Statement::Text(int col) { return cursor_->Text(col); }

bool SqlCore::Statement::IsNull(int col) { return cursor_->IsNull(col); }

int SqlCore::Statement::Columns() { return cursor_->Columns(); }

std::string SqlCore::Statement::Name(int col) { return cursor_->Name(col); }

SqlType SqlCore::Statement::Type(int col) { return cursor_->Type(col); }

void SqlCore::ResumeKeys(const std::string& table) {
  for (const auto& sql : dialect_->ResumeKeys(table)) Exec(sql);
}

SqlCore::Transaction::Transaction(SqlCore& core) : core_(core), lock_(core.mu_) {
  core_.connection_->Begin(std::string(core_.dialect().BeginWrite()));
}

SqlCore::Transaction::~Transaction() { core_.connection_->Rollback(); }

void SqlCore::Transaction::Commit() { core_.connection_->Commit(); }

int SqlCore::ReadVersion(bool& recorded) {
  Statement exists(*this, dialect_->TableExists());
  exists.Bind(1, std::string("schema_version"));
  recorded = exists.Step();
  if (recorded) {
    Statement s(*this, "SELECT coalesce(max(version), 0) FROM schema_version");
    s.Step();
    return static_cast<int>(s.Int(0));
  }
  std::string legacy = dialect_->LegacyVersionRead();
  if (legacy.empty()) return 0;
  Statement s(*this, legacy);
  s.Step();
  return static_cast<int>(s.Int(0));
}

int SqlCore::schema_version() {
  auto lock = Lock();
  bool recorded = false;
  return ReadVersion(recorded);
}

void SqlCore::Migrate() {
  const std::vector<std::string> migrations = dialect_->Migrations();
  const int target = static_cast<int>(migrations.size());
  auto refuse_newer = [&](int current) {
    if (current <= target) return;
    FailWithCode(ErrorKind::kIo, "meta.schema_too_new",
                 "the metastore {} has schema version {}, newer than this sluice ({})\n  hint: "
                 "use the sluice release that wrote it, or a newer one",
                 connection_->where(), current, target);
  };
  bool recorded = false;
  {
    auto lock = Lock();
    int current = ReadVersion(recorded);
    refuse_newer(current);
    if (recorded && current == target) return;
  }
  Transaction tx(*this);
  int current = ReadVersion(recorded);  // again under the write lock: another process may have won
  refuse_newer(current);
  auto record = [&](int version) {
    Statement s(*this, fmt::format("INSERT INTO schema_version (version, dialect, applied_ms) "
                                   "VALUES (?, ?, {})",
                                   dialect_->NowMs()));
    s.Bind(1, int64_t{version}).Bind(2, std::string(dialect_->name())).Run();
  };
  if (!recorded) {
    Exec(
        fmt::format("CREATE TABLE schema_version (version {0} PRIMARY KEY, dialect {1} NOT NULL, "
                    "applied_ms {0} NOT NULL)",
                    dialect_->IntegerType(), dialect_->TextType()));
    if (current > 0) record(current);  // adopted from the legacy record
  }
  for (int v = current; v < target; ++v) {
    Exec(migrations[v]);
    record(v + 1);
  }
  applied_ = target - current;
  // Binaries from before schema_version read only the legacy record: keep it, so they refuse a
  // schema newer than theirs.
  if (std::string legacy = dialect_->LegacyVersionWrite(target); !legacy.empty()) Exec(legacy);
  tx.Commit();
}

}  // namespace sluice::meta
