// SqlConnection over the pg layer (sql_connection.h): statements go with their parameters typed by
// their C++ type (pg::Param), and their answers are read as text.
#include <charconv>
#include <optional>

#include "common/error.h"
#include "meta/sql_connection.h"
#include "pg/pg.h"

namespace sluice::meta {
namespace {

class PostgresConnection;

class PostgresCursor : public SqlCursor {
 public:
  PostgresCursor(PostgresConnection& connection, std::string sql)
      : connection_(connection), sql_(std::move(sql)) {}

  void Bind(int i, int64_t v) override { Set(i, pg::Param(v)); }
  void Bind(int i, const std::string& v) override;
  void BindReal(int i, double v) override { Set(i, pg::Param(v)); }
  void BindNull(int i) override { Set(i, pg::Param(nullptr)); }

  bool Step() override;
  int64_t Int(int col) override;
  double Double(int col) override;
  std::string Text(int col) override {
    return result_->IsNull(row_, col) ? "" : result_->Text(row_, col);
  }
  bool IsNull(int col) override { return result_->IsNull(row_, col); }
  int Columns() override { return result_->columns(); }
  std::string Name(int col) override { return result_->column_name(col); }
  SqlType Type(int col) override {
    if (result_->IsNull(row_, col)) return SqlType::kNull;
    switch (result_->type_oid(col)) {
      case 20:  // int8
      case 21:  // int2
      case 23:  // int4
        return SqlType::kInteger;
      case 700:   // float4
      case 701:   // float8
      case 1700:  // numeric
        return SqlType::kReal;
      default:
        return SqlType::kText;
    }
  }

 private:
  void Set(int i, pg::Param p) {
    if (params_.size() < static_cast<size_t>(i)) params_.resize(i, pg::Param(nullptr));
    params_[i - 1] = std::move(p);
  }

  PostgresConnection& connection_;
  std::string sql_;
  std::vector<pg::Param> params_;
  std::optional<pg::Result> result_;
  int row_ = -1;
};

class PostgresConnection : public SqlConnection {
 public:
  explicit PostgresConnection(std::string conninfo) : conninfo_(std::move(conninfo)) {
    Reconnect();
  }

  const std::string& where() const override { return where_; }
  void Exec(const std::string& sql) override { Session().Script(sql); }
  std::unique_ptr<SqlCursor> Prepare(const std::string& sql) override {
    return std::make_unique<PostgresCursor>(*this, sql);
  }
  int64_t Changes() override { return changes_; }
  void Begin(const std::string& begin) override {
    Session().Script(begin);
    in_transaction_ = true;
  }
  void Commit() override {
    in_transaction_ = false;
    session_->Script("COMMIT");
  }
  void Rollback() noexcept override {
    if (!in_transaction_) return;
    in_transaction_ = false;
    try {
      session_->Script("ROLLBACK");
    } catch (const std::exception&) {
      // The session is broken; the server ended the transaction with it.
    }
  }

  pg::Result Query(const std::string& sql, const std::vector<pg::Param>& params) {
    pg::Result result = Session().Query(sql, params);
    changes_ = result.affected();
    return result;
  }

 private:
  // The session, opened again when it broke while no transaction was open (a statement in a
  // broken transaction must fail: its earlier statements are gone).
  pg::Connection& Session() {
    if (session_->Broken() && !in_transaction_) Reconnect();
    return *session_;
  }
  // Throws pg.connect while the server is away, keeping the broken session, so every later
  // call tries again.
  void Reconnect() {
    auto fresh = std::make_unique<pg::Connection>(conninfo_);
    session_ = std::move(fresh);
    where_ = session_->Where();
  }

  std::string conninfo_;
  std::string where_;
  std::unique_ptr<pg::Connection> session_;
  int64_t changes_ = 0;
  bool in_transaction_ = false;
};

void PostgresCursor::Bind(int i, const std::string& v) {
  // libpq sends text parameters NUL-terminated: a NUL would cut the value short, silently.
  if (v.find('\0') != std::string::npos) {
    FailWithCode(ErrorKind::kIo, "meta.nul_in_text",
                 "metastore {}: PostgreSQL cannot store a text holding a NUL byte",
                 connection_.where());
  }
  Set(i, pg::Param(v));
}

bool PostgresCursor::Step() {
  if (!result_) result_.emplace(connection_.Query(sql_, params_));
  return ++row_ < result_->rows();
}

int64_t PostgresCursor::Int(int col) {
  if (result_->IsNull(row_, col)) return 0;
  std::string text = result_->Text(row_, col);
  if (text == "t" || text == "f") return text == "t";
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || (end != text.data() + text.size() && *end != '.')) {
    Fail(ErrorKind::kInternal, "metastore {}: '{}' is not an integer ({})", connection_.where(),
         text, sql_);
  }
  return v;
}

double PostgresCursor::Double(int col) {
  return result_->IsNull(row_, col) ? 0.0 : result_->Double(row_, col);
}

}  // namespace

std::unique_ptr<SqlConnection> ConnectPostgres(const std::string& conninfo) {
  return std::make_unique<PostgresConnection>(conninfo);
}

}  // namespace sluice::meta
