// `extract:` of a source (project.h: Extract, HttpExtract).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>

#include "common/error.h"
#include "common/redact.h"
#include "common/strings.h"
#include "project/reader.h"
#include "project/workflow.h"

namespace sluice::project {
namespace {

// An HTTP header name (RFC 9110's token), also what a query parameter name may be here.
bool IsToken(const std::string& name) {
  static const std::regex token(R"([!#$%&'*+.^_`|~0-9A-Za-z-]{1,100})");
  return std::regex_match(name, token);
}

// A dotted path into JSON ("data", "result.items", "$.data"): "" when `text` is none.
std::optional<std::string> ReadPath(FileReader& r, const YAML::Node& node, const std::string& what,
                                    bool empty_ok) {
  auto v = r.Scalar(node, what);
  if (!v) return std::nullopt;
  std::string path = *v;
  if (path == "$") path.clear();
  if (path.rfind("$.", 0) == 0) path = path.substr(2);
  static const std::regex re(R"([^.\s\[\]]+(\.[^.\s\[\]]+)*)");
  if ((path.empty() && empty_ok) ||
      (path.size() <= 200 && !HasControlCharacter(path) && std::regex_match(path, re))) {
    return path;
  }
  r.Error(node,
          path.empty() ? fmt::format("{} is empty", what)
                       : fmt::format("{} is not a dotted path of field names", what),
          "e.g. data, result.items");
  return std::nullopt;
}

std::optional<int64_t> ReadInt(FileReader& r, const YAML::Node& node, const std::string& what,
                               int64_t min, int64_t max) {
  auto v = r.Scalar(node, what);
  if (!v) return std::nullopt;
  static const std::regex re(R"(-?\d{1,15})");
  if (std::regex_match(*v, re)) {
    int64_t n = std::stoll(*v);
    if (n >= min && n <= max) return n;
  }
  r.Error(node, fmt::format("{} must be a whole number from {} to {}", what, min, max));
  return std::nullopt;
}

std::optional<int64_t> ReadDuration(FileReader& r, const YAML::Node& node, const std::string& what,
                                    int64_t min_ms) {
  auto v = r.Scalar(node, what);
  if (!v) return std::nullopt;
  auto ms = ParseDurationMs(*v);
  if (ms && *ms >= min_ms) return ms;
  r.Error(node, fmt::format("{} is not a duration of at least {} ms", what, min_ms),
          "e.g. 500ms, 30s, 5m");
  return std::nullopt;
}

// A secret written in the file: needed, and never shown.
std::string ReadSecret(FileReader& r, const YAML::Node& map, const std::string& key,
                       const std::string& what) {
  auto n = map[key];
  if (!n) {
    r.Error(map, fmt::format("{} needs `{}`", what, key),
            fmt::format("e.g. {}: \"${{env:API_TOKEN}}\"", key));
    return "";
  }
  std::string v = r.Scalar(n, what + " " + key).value_or("");
  if (HasControlCharacter(v)) {
    r.Error(n, fmt::format("{} {} holds a control character", what, key));
    return "";
  }
  if (!v.empty()) RegisterSecret(v);
  return v;
}

std::string ReadRequired(FileReader& r, const YAML::Node& map, const std::string& key,
                         const std::string& what, const std::string& example) {
  auto n = map[key];
  if (!n) {
    r.Error(map, fmt::format("{} needs `{}`", what, key), "e.g. " + example);
    return "";
  }
  auto v = r.Scalar(n, what + " " + key);
  if (v && (v->empty() || HasControlCharacter(*v) || v->size() > 2000)) {
    r.Error(n, fmt::format("{} {} is empty, too long or holds a control character", what, key));
    return "";
  }
  return v.value_or("");
}

// `params:` / `headers:`: a mapping of names to single values.
std::vector<std::pair<std::string, std::string>> ReadPairs(FileReader& r, const YAML::Node& node,
                                                           const std::string& what,
                                                           bool header_names) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!node.IsMap()) {
    r.Error(node, fmt::format("{} must be a mapping of names to values", what),
            header_names ? "e.g. headers: { Accept: application/json }"
                         : "e.g. params: { per_page: 100 }");
    return out;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string name = it->first.Scalar();
    if (header_names ? !IsToken(name)
                     : (name.empty() || name.size() > 100 || HasControlCharacter(name))) {
      r.Error(it->first, fmt::format("{}: '{}' is not a valid name", what,
                                     HasControlCharacter(name) || name.size() > 100 ? "?" : name));
      continue;
    }
    auto v = r.Scalar(it->second, fmt::format("{} {}", what, name));
    if (!v) continue;
    if (HasControlCharacter(*v)) {
      r.Error(it->second, fmt::format("{} {} holds a control character", what, name));
      continue;
    }
    out.emplace_back(name, *v);
  }
  return out;
}

void ReadAuth(FileReader& r, const YAML::Node& node, HttpAuth& auth) {
  if (!node.IsMap()) {
    r.Error(node, "auth must be a mapping", "e.g. auth: { type: bearer, token: \"${env:TOKEN}\" }");
    return;
  }
  static const std::vector<std::string> kinds = {"bearer", "basic", "api_key",
                                                 "oauth2_client_credentials"};
  auto type = node["type"] ? r.Choice(node["type"], "auth type", kinds) : std::nullopt;
  if (!node["type"]) r.Error(node, "auth needs `type`", "one of: " + Join(kinds, ", "));
  if (!type) return;
  if (*type == "bearer") {
    r.CheckKeys(node, {"type", "token"}, "bearer auth");
    auth.kind = HttpAuthKind::kBearer;
    auth.token = ReadSecret(r, node, "token", "bearer auth");
  } else if (*type == "basic") {
    r.CheckKeys(node, {"type", "username", "password"}, "basic auth");
    auth.kind = HttpAuthKind::kBasic;
    auth.username = ReadRequired(r, node, "username", "basic auth", "username: reader");
    auth.password = ReadSecret(r, node, "password", "basic auth");
    if (auth.username.find(':') != std::string::npos) {
      r.Error(node["username"], "basic auth username holds ':', which basic auth cannot send");
    }
  } else if (*type == "api_key") {
    r.CheckKeys(node, {"type", "name", "api_key", "location"}, "api_key auth");
    auth.kind = HttpAuthKind::kApiKey;
    auth.api_key = ReadSecret(r, node, "api_key", "api_key auth");
    if (auto n = node["location"]) {
      if (auto v = r.Choice(n, "api_key auth location", {"header", "query"})) {
        auth.in_query = *v == "query";
      }
    }
    if (auto n = node["name"]) {
      auto v = r.Scalar(n, "api_key auth name");
      if (v && !IsToken(*v)) {
        r.Error(n, "api_key auth name is not a valid header or parameter name");
      } else if (v) {
        auth.name = *v;
      }
    } else if (auth.in_query) {
      r.Error(node, "api_key auth in the query needs `name`", "e.g. name: api_key");
    }
  } else {
    r.CheckKeys(node, {"type", "access_token_url", "client_id", "client_secret", "scope"},
                "oauth2_client_credentials auth");
    auth.kind = HttpAuthKind::kOAuth2ClientCredentials;
    auth.access_token_url = ReadRequired(r, node, "access_token_url", "oauth2 auth",
                                         "access_token_url: https://auth.example.com/token");
    if (!auth.access_token_url.empty() && auth.access_token_url.rfind("http://", 0) != 0 &&
        auth.access_token_url.rfind("https://", 0) != 0) {
      r.Error(node["access_token_url"], "oauth2 access_token_url must be an http(s) URL");
    }
    auth.client_id = ReadRequired(r, node, "client_id", "oauth2 auth", "client_id: sluice");
    auth.client_secret = ReadSecret(r, node, "client_secret", "oauth2 auth");
    if (auto n = node["scope"]) auth.scope = r.Scalar(n, "oauth2 auth scope").value_or("");
  }
}

void ReadPaginator(FileReader& r, const YAML::Node& node, Paginator& p) {
  if (!node.IsMap()) {
    r.Error(node, "paginator must be a mapping", "e.g. paginator: { type: page_number }");
    return;
  }
  static const std::vector<std::string> kinds = {"single_page", "page_number", "offset",
                                                 "cursor",      "json_link",   "header_link"};
  if (!node["type"]) {
    r.Error(node, "paginator needs `type`", "one of: " + Join(kinds, ", "));
    return;
  }
  auto type = r.Choice(node["type"], "paginator type", kinds);
  if (!type) return;
  const std::string what = *type + " paginator";
  auto param = [&](const char* key, std::string& out) {
    if (auto n = node[key]) {
      auto v = r.Scalar(n, fmt::format("{} {}", what, key));
      if (v && (v->empty() || v->size() > 100 || HasControlCharacter(*v))) {
        r.Error(n, fmt::format("{} {} is not a parameter name", what, key));
      } else if (v) {
        out = *v;
      }
    }
  };
  auto path = [&](const char* key, std::string& out, bool empty_ok) {
    if (auto n = node[key]) {
      if (auto v = ReadPath(r, n, fmt::format("{} {}", what, key), empty_ok)) out = *v;
    }
  };
  constexpr int64_t kMax = 1'000'000'000'000;
  if (*type == "single_page") {
    r.CheckKeys(node, {"type"}, what);
    p.kind = PaginatorKind::kSinglePage;
  } else if (*type == "page_number") {
    r.CheckKeys(node, {"type", "page_param", "base_page", "total_path", "maximum_page"}, what);
    p.kind = PaginatorKind::kPageNumber;
    param("page_param", p.page_param);
    if (auto n = node["base_page"])
      p.base_page = ReadInt(r, n, what + " base_page", 0, 1).value_or(0);
    path("total_path", p.total_path, true);
    if (auto n = node["maximum_page"])
      p.maximum_page = ReadInt(r, n, what + " maximum_page", 0, kMax);
  } else if (*type == "offset") {
    r.CheckKeys(
        node,
        {"type", "limit", "offset", "offset_param", "limit_param", "total_path", "maximum_offset"},
        what);
    p.kind = PaginatorKind::kOffset;
    if (auto n = node["limit"]) {
      p.limit = ReadInt(r, n, what + " limit", 1, 1'000'000).value_or(0);
    } else {
      r.Error(node, "offset paginator needs `limit` (records per page)", "e.g. limit: 100");
    }
    if (auto n = node["offset"]) p.offset = ReadInt(r, n, what + " offset", 0, kMax).value_or(0);
    param("offset_param", p.offset_param);
    param("limit_param", p.limit_param);
    path("total_path", p.total_path, true);
    if (auto n = node["maximum_offset"]) {
      p.maximum_offset = ReadInt(r, n, what + " maximum_offset", 0, kMax);
    }
  } else if (*type == "cursor") {
    r.CheckKeys(node, {"type", "cursor_path", "cursor_param"}, what);
    p.kind = PaginatorKind::kCursor;
    path("cursor_path", p.cursor_path, false);
    param("cursor_param", p.cursor_param);
  } else if (*type == "json_link") {
    r.CheckKeys(node, {"type", "next_url_path"}, what);
    p.kind = PaginatorKind::kJsonLink;
    path("next_url_path", p.next_url_path, false);
  } else {
    r.CheckKeys(node, {"type", "links_next_key"}, what);
    p.kind = PaginatorKind::kHeaderLink;
    param("links_next_key", p.links_next_key);
  }
}

void ReadIncremental(FileReader& r, const YAML::Node& node, HttpIncremental& inc) {
  if (!node.IsMap()) {
    r.Error(node, "incremental must be a mapping",
            "e.g. incremental: { cursor: updated_at, param: updated_since }");
    return;
  }
  r.CheckKeys(node, {"cursor", "param", "initial_value", "lag"}, "incremental");
  if (auto n = node["cursor"]) {
    inc.cursor = ReadPath(r, n, "incremental cursor", false).value_or("");
  } else {
    r.Error(node, "incremental needs `cursor`: the field of each record that only grows",
            "e.g. cursor: updated_at");
  }
  if (node["param"]) {
    inc.param = ReadRequired(r, node, "param", "incremental", "param: updated_since");
  }
  if (auto n = node["initial_value"]) {
    inc.initial_value = r.Scalar(n, "incremental initial_value").value_or("");
    if (HasControlCharacter(inc.initial_value) || inc.initial_value.size() > 200) {
      r.Error(n, "incremental initial_value is too long or holds a control character");
      inc.initial_value.clear();
    }
  }
  if (auto n = node["lag"]) {
    auto v = r.Scalar(n, "incremental lag");
    if (v) {
      char* end = nullptr;
      double d = std::strtod(v->c_str(), &end);
      if (!v->empty() && end && *end == '\0' && std::isfinite(d) && d >= 0 && d <= 1e12) {
        inc.lag = d;
      } else if (auto ms = ParseDurationMs(*v)) {
        inc.lag = static_cast<double>(*ms) / 1000.0;
      } else {
        r.Error(n,
                "incremental lag must be a number (seconds for a timestamp cursor) or a "
                "duration",
                "e.g. lag: 3600, lag: 1h");
      }
    }
  }
}

void ReadHttp(FileReader& r, const YAML::Node& node, HttpExtract& h) {
  if (!node.IsMap()) {
    r.Error(node, "extract http must be a mapping",
            "e.g. http: { base_url: https://api.example.com, path: /v1/orders }");
    return;
  }
  r.CheckKeys(
      node,
      {"base_url", "path", "params", "headers", "auth", "paginator", "records", "incremental",
       "retries", "timeout", "rate_limit", "max_page_bytes", "file_records", "max_pages"},
      "extract http");
  h.base_url =
      ReadRequired(r, node, "base_url", "extract http", "base_url: https://api.example.com");
  if (!h.base_url.empty()) {
    static const std::regex url(R"(https?://[^/?#@\s]+(/[^?#\s]*)?)", std::regex::icase);
    if (!std::regex_match(h.base_url, url)) {
      r.Error(node["base_url"],
              "extract http base_url must be http(s)://host[:port][/path], without a user, a "
              "query or spaces",
              "credentials go in auth:, query parameters in params:");
      h.base_url.clear();
    }
  }
  if (auto n = node["path"]) {
    h.path = r.Scalar(n, "extract http path").value_or("");
    if (HasControlCharacter(h.path) || h.path.find_first_of(" ?#") != std::string::npos ||
        h.path.find("://") != std::string::npos || h.path.size() > 2000) {
      r.Error(n, "extract http path must be a URL path, without a query, spaces or a scheme",
              "e.g. path: /v1/orders; query parameters go in params:");
      h.path.clear();
    }
  }
  if (auto n = node["params"]) h.params = ReadPairs(r, n, "params", false);
  if (auto n = node["headers"]) h.headers = ReadPairs(r, n, "headers", true);
  if (auto n = node["auth"]) ReadAuth(r, n, h.auth);
  if (auto n = node["paginator"]) ReadPaginator(r, n, h.paginator);
  if (auto n = node["records"]) h.records = ReadPath(r, n, "records", true).value_or("");
  if (auto n = node["incremental"]) {
    h.incremental.emplace();
    ReadIncremental(r, n, *h.incremental);
  }
  if (auto n = node["retries"]) {
    if (!n.IsMap()) {
      r.Error(n, "retries must be a mapping", "e.g. retries: { attempts: 5, backoff: 1s }");
    } else {
      r.CheckKeys(n, {"attempts", "backoff", "max_delay"}, "retries");
      if (auto a = n["attempts"]) {
        h.attempts = static_cast<int>(ReadInt(r, a, "retries attempts", 1, 20).value_or(5));
      }
      if (auto b = n["backoff"])
        h.backoff_ms = ReadDuration(r, b, "retries backoff", 1).value_or(1000);
      if (auto m = n["max_delay"]) {
        h.max_delay_ms = ReadDuration(r, m, "retries max_delay", 1).value_or(60'000);
      }
    }
  }
  if (auto n = node["timeout"]) {
    h.timeout_ms = ReadDuration(r, n, "timeout", 100).value_or(30'000);
    if (h.timeout_ms > 3'600'000) {
      r.Error(n, "timeout is longer than 1h: a request that slow is better failed and retried");
      h.timeout_ms = 30'000;
    }
  }
  if (auto n = node["rate_limit"]) {
    if (n.IsMap()) r.CheckKeys(n, {"requests_per_second"}, "rate_limit");
    if (!n.IsMap() || !n["requests_per_second"]) {
      r.Error(n, "rate_limit must be a mapping with requests_per_second",
              "e.g. rate_limit: { requests_per_second: 5 }");
    } else {
      auto v = r.Scalar(n["requests_per_second"], "rate_limit requests_per_second");
      char* end = nullptr;
      double d = v ? std::strtod(v->c_str(), &end) : 0;
      if (v &&
          (v->empty() || !end || *end != '\0' || !std::isfinite(d) || d < 0.001 || d > 10000)) {
        r.Error(n["requests_per_second"],
                "rate_limit requests_per_second must be a number from 0.001 to 10000");
      } else if (v) {
        h.requests_per_second = d;
      }
    }
  }
  if (auto n = node["max_page_bytes"]) {
    auto v = r.Scalar(n, "max_page_bytes");
    static const std::regex re(R"((\d{1,10})\s*(B|KB|MB|GB)?)", std::regex::icase);
    std::smatch m;
    if (v && std::regex_match(*v, m, re)) {
      int64_t unit = 1;
      std::string u = ToUpper(m[2].str());
      if (u == "KB") unit = 1 << 10;
      if (u == "MB") unit = 1 << 20;
      if (u == "GB") unit = 1 << 30;
      int64_t bytes = std::stoll(m[1].str()) * unit;
      if (bytes >= 1024 && bytes <= (int64_t{256} << 20)) {
        h.max_page_bytes = bytes;
      } else {
        r.Error(n, "max_page_bytes must be from 1KB to 256MB");
      }
    } else if (v) {
      r.Error(n, "max_page_bytes must be a size", "e.g. 16MB");
    }
  }
  if (auto n = node["max_pages"]) {
    h.max_pages = ReadInt(r, n, "max_pages", 1, 100'000'000).value_or(h.max_pages);
  }
  if (auto n = node["file_records"]) {
    h.file_records = ReadInt(r, n, "file_records", 1, 100'000'000).value_or(h.file_records);
  }
}

// A column, table or schema name as the database spells it (quoted by Sluice, so any
// printable text).
bool IsName(const std::string& name) {
  return !name.empty() && name.size() <= 63 && !HasControlCharacter(name) &&
         name.find('"') == std::string::npos;
}

std::string ReadName(FileReader& r, const YAML::Node& node, const std::string& what) {
  auto v = r.Scalar(node, what);
  if (!v) return "";
  if (!IsName(*v)) {
    r.Error(node, fmt::format("{} must be a column name of 1 to 63 characters, without '\"' or a "
                              "control character",
                              what));
    return "";
  }
  return *v;
}

void ReadDatabase(FileReader& r, const YAML::Node& node, DatabaseExtract& d) {
  auto where = r.Scalar(node["database"], "extract database");
  if (!where) return;
  if (where->rfind("sqlite:", 0) == 0) {
    d.kind = DatabaseExtract::Kind::kSqlite;
    // SQLAlchemy's (and dlt's) forms too: sqlite:///relative.db, sqlite:////absolute.db.
    d.sqlite = where->substr(7);
    if (d.sqlite.rfind("//", 0) == 0) d.sqlite = d.sqlite.substr(2);
    if (d.sqlite.rfind("/", 0) == 0 && where->rfind("sqlite:///", 0) == 0) {
      d.sqlite = d.sqlite.substr(1);
    }
    if (d.sqlite.empty() || HasControlCharacter(d.sqlite) || d.sqlite.size() > 1000) {
      r.Error(node["database"], "extract database sqlite: needs the database file's path",
              "e.g. database: sqlite:data/shop.db (relative to the project folder)");
    }
  } else if (IsPostgresConninfo(*where)) {
    d.kind = DatabaseExtract::Kind::kPostgres;
    d.uri = *where;
  } else {
    // Not echoed: a URI may hold a password.
    r.Error(node["database"], "extract database must be postgresql://... or sqlite:PATH",
            "e.g. database: \"postgresql://reader:${env:SHOP_PASSWORD}@db.internal/shop\"");
  }
  const bool has_table = static_cast<bool>(node["table"]);
  if (has_table == static_cast<bool>(node["query"])) {
    r.Error(node, "extract database needs exactly one of `table` and `query`",
            "e.g. table: public.orders, or query: SELECT id, total FROM orders");
  }
  if (has_table) {
    d.table = r.Scalar(node["table"], "extract table").value_or("");
    std::vector<std::string> parts = Split(d.table, '.');
    if (parts.size() > 2 || !std::all_of(parts.begin(), parts.end(), IsName)) {
      r.Error(node["table"], "extract table must be TABLE or SCHEMA.TABLE",
              "names without '\"', dots or control characters; use query: for anything else");
      d.table.clear();
    }
  } else if (node["query"]) {
    d.query = r.Scalar(node["query"], "extract query").value_or("");
    while (!d.query.empty() &&
           (std::isspace(static_cast<unsigned char>(d.query.back())) || d.query.back() == ';')) {
      d.query.pop_back();
    }
    if (d.query.empty() || d.query.size() > 100'000 || d.query.find('\0') != std::string::npos) {
      r.Error(node["query"], "extract query must be one SELECT of at most 100000 characters");
      d.query.clear();
    }
  }
  if (auto n = node["cursor"]) d.cursor = ReadName(r, n, "extract cursor");
  if (auto n = node["key"]) {
    if (n.IsScalar()) {
      if (auto k = ReadName(r, n, "extract key"); !k.empty()) d.key.push_back(k);
    } else if (n.IsSequence() && n.size() > 0 && n.size() <= 16) {
      for (const auto& k : n) {
        if (auto name = ReadName(r, k, "extract key"); !name.empty()) d.key.push_back(name);
      }
    } else {
      r.Error(n, "extract key must be a column or a list of 1 to 16 columns",
              "e.g. key: [order_id, line]");
    }
  }
  if (!d.cursor.empty() && d.key.empty() && !node["key"]) {
    r.Error(node,
            "an incremental extraction (cursor:) needs `key`, the columns unique per row: many "
            "rows may share one cursor value, and the key orders them so that none is read "
            "twice or skipped",
            "e.g. key: [id]");
  }
  if (auto n = node["initial_value"]) {
    d.initial_value = r.Scalar(n, "extract initial_value").value_or("");
    if (HasControlCharacter(d.initial_value) || d.initial_value.size() > 200) {
      r.Error(n, "extract initial_value is too long or holds a control character");
      d.initial_value.clear();
    }
    if (d.cursor.empty()) r.Error(n, "extract initial_value needs a cursor:");
  }
  if (auto n = node["chunk_rows"]) {
    d.chunk_rows = ReadInt(r, n, "chunk_rows", 1000, 100'000'000).value_or(d.chunk_rows);
  }
  if (auto n = node["deletes"]) {
    auto v = r.Scalar(n, "extract deletes");
    if (v && *v == "detect") {
      d.detect_deletes = true;
      if (d.key.empty() && !node["key"]) {
        r.Error(n, "deletes: detect needs `key`: the rows gone are the keys gone",
                "e.g. key: [id]");
      }
    } else if (v && *v != "ignore") {
      r.Error(n, "extract deletes must be detect or ignore");
    }
  }
}

}  // namespace

void ReadExtract(FileReader& r, const YAML::Node& node, Source& s) {
  Extract e;
  e.where = r.At(node);
  if (!node.IsMap()) {
    r.Error(node, "extract must be a mapping", "e.g. extract: { http: { base_url: ... } }");
    return;
  }
  // A misspelled key is named as such, before the question of which kind of extract it is.
  r.CheckKeys(node,
              {"http", "database", "table", "query", "cursor", "key", "initial_value", "chunk_rows",
               "deletes"},
              "extract");
  if (static_cast<bool>(node["http"]) == static_cast<bool>(node["database"])) {
    r.Error(node,
            "extract needs exactly one of `http` (an API to pull records from) and `database` (a "
            "database to read rows from)",
            "e.g. extract: { database: sqlite:data/shop.db, table: orders }");
    return;
  }
  Diagnostics unset;
  r.DivertUnsetEnv(&unset);
  if (node["http"]) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.Scalar() != "http") {
        r.Error(it->first, fmt::format("extract http takes no `{}` beside it (it belongs to "
                                       "database sources)",
                                       it->first.Scalar()));
      }
    }
    e.http.emplace();
    ReadHttp(r, node["http"], *e.http);
  } else {
    e.database.emplace();
    ReadDatabase(r, node, *e.database);
  }
  r.DivertUnsetEnv(nullptr);
  for (const auto& d : unset.items()) {
    e.unset_env.push_back(
        {d.where, fmt::format("{} (extract of source '{}')", d.message, s.name), d.hint, d.code});
  }
  s.extract = std::move(e);
}

void ReadProgramSettings(FileReader& r, const YAML::Node& map, ProgramSettings& out,
                         const std::string& what) {
  const YAML::Node body = map["command"];
  constexpr size_t kMaxArgs = 1000, kMaxArg = 8192;
  if (!body.IsSequence() || body.size() == 0) {
    r.Error(body, "command must be a list: the program, then its arguments (no shell)",
            "e.g. command: [python3, scripts/score.py, --day, \"${params.day}\"]; for a "
            "shell, [sh, -c, \"...\"]");
    return;
  }
  Diagnostics unset;
  r.DivertUnsetEnv(&unset);
  for (const auto& arg : body) {
    auto v = r.Scalar(arg, "command argument");
    if (!v) continue;
    if (v->find('\0') != std::string::npos || v->size() > kMaxArg) {
      r.Error(arg, fmt::format("a command argument holds a NUL byte or is longer than {} bytes",
                               kMaxArg));
      continue;
    }
    out.command.push_back(*v);
  }
  if (body.size() > kMaxArgs) {
    r.Error(body, fmt::format("command has {} arguments, more than {}", body.size(), kMaxArgs));
  }
  if (!out.command.empty() && out.command[0].empty()) {
    r.Error(body, "command names no program (its first item is empty)");
  }
  if (auto w = map["workdir"]) {
    out.workdir = r.Scalar(w, "workdir").value_or("");
    fs::path p(out.workdir);
    bool escapes = p.is_absolute();
    for (const auto& part : p) escapes = escapes || part == "..";
    if (escapes || out.workdir.find('\0') != std::string::npos) {
      r.Error(w, "workdir must be a folder inside the project, relative to it",
              "e.g. workdir: scripts");
      out.workdir.clear();
    }
  }
  if (auto e = map["env"]) {
    static const std::regex name(R"([A-Za-z_][A-Za-z0-9_]{0,127})");
    auto pairs = r.Pairs(e, "env");
    for (const auto& [k, v] : pairs) {
      if (!std::regex_match(k, name)) {
        r.Error(e, fmt::format("env: '{}' is not a variable name", k.substr(0, 130)));
      } else if (v.find('\0') != std::string::npos) {
        r.Error(e, fmt::format("env {} holds a NUL byte", k));
      } else {
        out.env.emplace_back(k, v);
      }
    }
  }
  r.DivertUnsetEnv(nullptr);
  for (const auto& d : unset.items()) {
    out.unset_env.push_back({d.where, fmt::format("{} ({})", d.message, what), d.hint, d.code});
  }
}

fs::path ProgramFolder(const fs::path& root, const ProgramSettings& program,
                       const Location& where) {
  if (!InsideProject(root, program.workdir.empty() ? fs::path(".") : fs::path(program.workdir))) {
    FailWithCode(ErrorKind::kConfig, "command.not_found",
                 "{}: workdir '{}' leads outside the project folder (through a symbolic link)",
                 where.str(), program.workdir);
  }
  return root / program.workdir;
}

}  // namespace sluice::project
