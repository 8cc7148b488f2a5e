#pragma once
// The project model: what `sluice.yaml`, `sources/`, `jobs/` and `models/` say, already checked
// for shape. Loading collects every problem at once (Diagnostics) so `sluice validate` can print
// them all with file:line:col.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/files.h"
#include "project/definitions.h"

namespace sluice::project {

struct Location {
  std::string file;  // relative to the project root
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;
  std::string str() const;
};

// Where byte `offset` of `text`, the content of `file`, is: its line and column.
Location LocationIn(const std::string& file, const std::string& text, size_t offset);

struct Diagnostic {
  Location where;
  std::string message;
  std::string hint;  // e.g. "did you mean 'format'?"; may be empty
  // The stable code (docs/errors.md): config.unknown_key, config.env_unset, dqdl.syntax, ...;
  // config.invalid for every other problem of shape or value.
  std::string code = "config.invalid";
  std::string str() const;
};

class Diagnostics {
 public:
  void Add(Location where, std::string message, std::string hint = "",
           std::string code = "config.invalid");
  bool empty() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  // Throws sluice::Error(kConfig) listing every diagnostic, when there is any, with the first
  // diagnostic's code.
  void ThrowIfAny() const;

 private:
  std::vector<Diagnostic> items_;
};

// A table name as users write it: `db.name`.
struct TableName {
  std::string db, name;
  std::string str() const { return db + "." + name; }
  bool operator<(const TableName& o) const { return str() < o.str(); }
  bool operator==(const TableName& o) const { return db == o.db && name == o.name; }
  // Parses "db.name"; nullopt when it is not two plain names joined by a dot.
  static std::optional<TableName> Parse(const std::string& text);
};

// The longest name of a database, table, source or job: PostgreSQL's identifier limit (a
// longer name would be cut short there, and two names could meet).
inline constexpr size_t kMaxNameLength = 63;

// Why `name` (a `what`: "source name", "table name", ...) is too long; "" when it is not.
std::string NameLengthProblem(const std::string& what, const std::string& name);

// Why `table` cannot be a catalog table; "" when it can. Refused: a database name DuckDB keeps
// for its own catalogs (main, system, temp, memory, pg_catalog, information_schema) and parts
// over kMaxNameLength.
std::string TableNameProblem(const TableName& table);

struct Environment {
  std::string name;
  fs::path lake;       // local folder of the lake
  fs::path metastore;  // SQLite file (when metastore_uri is empty)
  // A PostgreSQL metastore: a postgresql:// URI, ${env:...} resolved. It may hold a password:
  // never print it (pg:: messages redact it).
  std::string metastore_uri;
  fs::path warehouse;  // the embedded warehouse: a DuckDB file (when warehouse_uri is empty)
  // A PostgreSQL warehouse: a libpq URI (postgresql://...) or keyword string, ${env:...}
  // resolved. It may hold a password: never print it (pg:: messages redact it).
  std::string warehouse_uri;
  // The warehouse setting's ${env:...} references to unset variables (config.env_unset):
  // validate reports them, and commands that use the warehouse refuse to start.
  std::vector<Diagnostic> warehouse_unset_env;
};

// How a load applies a catalog table's rows to its warehouse table.
enum class LoadMode {
  kAppend,     // inserts the rows (only those of new files when the catalog knows them)
  kOverwrite,  // replaces the contents in one transaction
  kMerge,      // upserts on the key; deletes rows missing from the source with delete_missing
};
std::string ToString(LoadMode mode);                           // append | overwrite | merge
std::optional<LoadMode> ParseLoadMode(std::string_view text);  // nullopt for any other text

// What meta::Open opens for `env`: its PostgreSQL URI, or sqlite:PATH.
std::string MetastoreUri(const Environment& env);

// Whether a `warehouse:` setting names a PostgreSQL server (a postgresql:// or postgres:// URI,
// or a libpq keyword string such as "host=... dbname=...") rather than a DuckDB file.
bool IsPostgresConninfo(std::string_view text);

// Where a catalog table lands in the warehouse: a job's or a model's `destination:`, a `load:`
// step, `sluice load`. Unset fields take their defaults where the load is made
// (warehouse::ResolveDestination): schema and table from the catalog table's db and name, mode
// and key from the job's output (a model: ModelOutputMode and its unique_key).
struct Destination {
  std::string schema, table;     // "" for the default
  std::optional<LoadMode> mode;  // nullopt for the default
  std::vector<std::string> key;  // empty for the default
  bool delete_missing = false;   // merge: delete warehouse rows whose key the source lacks
  Location where;
};

// A project-defined sensitive-data entity: values matching `regex`; `context` words in a column
// name raise the confidence.
struct PiiEntity {
  std::string name, regex;
  std::vector<std::string> context;
};

// sluice.yaml's `pii:`: what `pii: auto` jobs do to tagged columns, and custom entities.
struct PiiSettings {
  std::string mask = "hash";  // hash | redact | tokenize
  std::vector<PiiEntity> entities;
};

struct CheckSpec {
  std::string rule;              // one DQDL rule, or a `Rules = [ ... ]` set
  std::string file;              // or a DQDL file, relative to the project root
  std::string on_fail = "fail";  // fail | warn | quarantine
  Location where;
  // The `file`'s text as loaded, or why it could not be read (reported when the rules parse):
  // nothing reads a rule file again after the project loads.
  std::string file_text;
  std::optional<Diagnostic> file_problem;
};

// The text encoding of a source's CSV files (docs/project-reference.md, `csv`).
enum class CsvEncoding {
  kUtf8,
  kLatin1,       // ISO-8859-1
  kWindows1252,  // Latin-1 with € ’ “ ” ... in 0x80-0x9F
  kUtf16,        // either byte order, told by the byte order mark the file must start with
  kUtf16Le,      // a byte order mark, if any, must agree
  kUtf16Be,
};
// "utf-8", "latin-1", "windows-1252", "utf-16", "utf-16le", "utf-16be".
std::string ToString(CsvEncoding encoding);
// A name as ToString gives it or an alias (iso-8859-1, latin1, cp1252, utf8, ...), in any case;
// nullopt for any other.
std::optional<CsvEncoding> ParseCsvEncoding(std::string_view name);
// Every name ParseCsvEncoding takes as written in ToString, for messages.
std::vector<std::string> CsvEncodingNames();

// DuckDB's default longest line, in bytes.
inline constexpr int64_t kDefaultMaxLineSize = int64_t{2} << 20;

// `extract: { http: ... }` of a source: an HTTP API whose records land as JSON lines (dlt's
// names for the paginators and their parameters). Secrets are resolved `${env:...}` values.
enum class HttpAuthKind { kNone, kBearer, kBasic, kApiKey, kOAuth2ClientCredentials };
struct HttpAuth {
  HttpAuthKind kind = HttpAuthKind::kNone;
  std::string token;                            // bearer
  std::string username, password;               // basic
  std::string name = "Authorization", api_key;  // api_key: the header or query parameter
  bool in_query = false;                        // api_key: location query (else header)
  std::string access_token_url, client_id, client_secret, scope;  // oauth2_client_credentials
};

enum class PaginatorKind { kSinglePage, kPageNumber, kOffset, kCursor, kJsonLink, kHeaderLink };
struct Paginator {
  PaginatorKind kind = PaginatorKind::kSinglePage;
  std::string page_param = "page";  // page_number
  int64_t base_page = 0;
  std::optional<int64_t> maximum_page;
  int64_t limit = 0, offset = 0;  // offset
  std::string offset_param = "offset", limit_param = "limit";
  std::optional<int64_t> maximum_offset;
  std::string total_path = "total";  // page_number (pages), offset (records): "" none
  std::string cursor_path = "cursors.next", cursor_param = "cursor";  // cursor
  std::string next_url_path = "next";                                 // json_link
  std::string links_next_key = "next";                                // header_link
};

struct HttpIncremental {
  std::string cursor;         // a dotted path into each record
  std::string param;          // the query parameter that carries the last value ("" none: the API
                              // sends everything, and the records before the cursor are skipped)
  std::string initial_value;  // sent on the first run ("" none: the first run takes all)
  double lag = 0;             // subtracted from the last value sent: seconds for a timestamp cursor
};

struct HttpExtract {
  std::string base_url, path;
  std::vector<std::pair<std::string, std::string>> params, headers;
  HttpAuth auth;
  Paginator paginator;
  std::string records;  // a dotted path to the records of each response; "" the body
  std::optional<HttpIncremental> incremental;
  int attempts = 5;  // tries of one request, the first included
  int64_t backoff_ms = 1000, max_delay_ms = 60'000;
  int64_t timeout_ms = 30'000;
  double requests_per_second = 0;  // 0: no limit
  int64_t max_page_bytes = 16 << 20;
  int64_t file_records = 100'000;  // records per landed file
  int64_t max_pages = 100'000;     // a pagination longer than this fails the run
};

// A program Sluice runs (a `command:` step, a job's `script:`): its arguments (no shell), its
// working folder (relative to the project folder; "" the project folder), environment settings
// over Sluice's, and the settings naming an unset ${env:...} (it refuses to run while there are
// any).
struct ProgramSettings {
  std::vector<std::string> command;
  std::string workdir;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<Diagnostic> unset_env;
};

// `extract: { database: ... }`: rows of a table or a query of a PostgreSQL or SQLite database.
struct DatabaseExtract {
  enum class Kind { kPostgres, kSqlite };
  Kind kind = Kind::kPostgres;
  std::string uri;     // PostgreSQL: a postgresql:// URI or a conninfo (may hold a secret)
  std::string sqlite;  // SQLite: the file as written after `sqlite:` (relative: the project's)
  std::string table;   // [schema.]table, or
  std::string query;   // a SELECT (without a trailing ';')
  std::string cursor;  // the column that only grows ("" none: every run reads everything)
  std::vector<std::string> key;  // columns unique per row: the cursor's tie-breaker
  std::string initial_value;     // the first run reads rows with a cursor above it ("" all)
  int64_t chunk_rows = 100'000;  // rows per landed Parquet file
  bool detect_deletes = false;   // `deletes: detect`
};

struct Extract {
  std::optional<HttpExtract> http;
  std::optional<DatabaseExtract> database;
  Location where;
  // Settings naming an unset ${env:...}: an extraction reports them; the rest of the project
  // does not need them.
  std::vector<Diagnostic> unset_env;
};

struct Source {
  std::string name;
  std::optional<Extract> extract;           // an extractor lands the source's files
  std::string format = "auto";              // csv | json | parquet | auto
  std::string on_schema_change = "evolve";  // evolve | fail | quarantine
  // CSV dialect overrides; empty means detected.
  std::string delimiter, quote;
  std::optional<bool> header;
  // CSV reading options (`csv:` of the source): they apply to every file of the table.
  CsvEncoding encoding = CsvEncoding::kUtf8;
  int64_t max_line_size = kDefaultMaxLineSize;  // bytes of a line as it landed
  std::vector<std::string> null_values;         // texts read as NULL; empty: DuckDB's ("")
  int64_t skip_lines = 0;                       // lines before the header (or the first row)
  std::string date_format, timestamp_format;    // strptime formats; "" detected
  std::vector<PiiEntity> pii_entities;          // the project's custom entities, for the crawler
  // Rules over each crawl's new files: fail publishes none of them, warn publishes and says so,
  // quarantine keeps out whole files holding rows that break a row-level rule.
  std::vector<CheckSpec> checks;
  Location where;
};

struct MaskSpec {
  std::string method;  // hash | redact | partial | tokenize
  int keep = 4;        // partial: trailing characters kept
  int keep_left = 0;   // partial: leading characters kept
};

struct Step {
  std::string kind;  // select rename cast filter derive fill_null dedupe mask sql
  Location where;
  std::vector<std::string> columns;                        // select
  std::vector<std::pair<std::string, std::string>> pairs;  // rename/cast/derive/fill_null
  std::vector<std::pair<std::string, MaskSpec>> masks;     // mask
  std::string text;                                        // filter/sql
  // Where each pair's value (rename/cast/derive/fill_null) or the text (filter/sql) starts.
  std::vector<Location> value_where;
  std::vector<std::string> key, order_by;  // dedupe
  std::string keep = "last";               // dedupe
  bool optional_columns = false;           // mask: skip columns the data no longer has (pii: auto)
};

struct Output {
  TableName table;
  std::string mode = "append";  // append | overwrite | merge
  std::vector<std::string> key, partition_by;
  std::optional<Destination> destination;  // loaded after every successful run
  Location where;
};

// A job's `script:`: a program that makes the job's output from the rows its steps leave
// (Sluice hands it those rows as files and reads back the files it writes).
struct Script {
  ProgramSettings program;
  int64_t timeout_ms = 0;          // 0: none
  std::string format = "parquet";  // of the files it reads and writes: parquet | jsonl | csv
  Location where;
};

struct Job {
  std::string name;
  TableName input;
  Location input_where;
  bool incremental = false;
  Output output;
  std::vector<Step> steps;
  std::optional<Script> script;
  std::vector<CheckSpec> checks;
  bool pii_auto = false;  // mask every column the catalog tags as sensitive (pii: auto)
  Location where;
};

struct Ref {
  TableName table;
  Location where;
  size_t offset = 0;  // of its {{ ref() }} in the model's SQL; 0 for a job's input
};

struct Model {
  TableName table;
  // `materialized:` of its settings file: table (the default), incremental, warehouse or
  // warehouse_incremental. In the warehouse: its SQL runs there, over destinations and other
  // warehouse models. Incremental: once its table exists, a run adds its rows to the table (or
  // merges them on unique_key) instead of replacing it, and the SQL's {{ if incremental }}
  // blocks are kept.
  bool in_warehouse = false;
  bool incremental = false;
  std::vector<std::string> unique_key;  // an incremental model's merge key; empty: appended
  // `materialized: snapshot`: the table keeps SCD type 2 history of the rows the SQL returns (one
  // per unique_key), each version with valid_from and valid_to (NULL while current). A row
  // changed when its `updated_at` column grew, or (without one) when a `check_columns` value
  // differs; `invalidate_hard_deletes` ends the current version of a key the SQL no longer has.
  bool snapshot = false;
  std::string updated_at;
  std::vector<std::string> check_columns;  // empty with updated_at set; {"all"} for every column
  bool invalidate_hard_deletes = false;
  std::string sql;  // as written, with {{ ref() }} still in
  std::vector<Ref> refs;
  // From models/<db>/<name>.yaml beside the SQL (a model's settings file), if there is one.
  std::vector<CheckSpec> checks;
  std::optional<Destination> destination;  // loaded after every successful run
  Location where;
};

// A notification channel from sluice.yaml's `notifications:` (the SNS topic of the AWS design).
struct Channel {
  std::string name;
  std::string type;    // webhook | email | command | file
  std::string target;  // webhook: URL; email: smtp[s]://host:port; command: shell; file: path
  // Event types it receives (see kEventTypes); aliases such as `failure` are already expanded.
  std::vector<std::string> events;
  std::string secret;              // webhook: HMAC-SHA256 key for the X-Sluice-Signature header
  std::vector<std::string> to;     // email recipients
  std::string from;                // email sender
  std::string username, password;  // SMTP login (usually ${env:...})
  std::string tls = "starttls";    // email: starttls (required) | try | none
  int attempts = 4;                // webhook/email deliveries tried before giving up
  Location where;
  // Its settings' ${env:...} references to unset variables (config.env_unset, naming the
  // channel): read-only commands never need them; CheckChannelSecrets reports them.
  std::vector<Diagnostic> unset_env;
};

// Every event type a channel can subscribe to.
inline const std::vector<std::string> kEventTypes = {
    "run_succeeded",  "run_failed",     "step_retried", "step_caught",
    "quality_warned", "quality_failed", "schema_drift", "file_quarantined"};

// OpenLineage: run events POSTed to `url` (none when empty).
// sluice.yaml's `query:`: the limits of `sluice query` (see docs/project-reference.md).
struct QuerySettings {
  int64_t timeout_ms = 10 * 60 * 1000;
  std::string memory_limit;   // DuckDB's notation, e.g. "4GB"; "" for half the machine's memory
  int64_t max_rows = 100000;  // more is an error (query.row_limit); 0 lifts the limit
};

struct Lineage {
  std::string url;
  std::string namespace_name = "sluice";
};

// `serve:` of sluice.yaml: who may reach `sluice serve` and how much one client may take of it
// (docs/project-reference.md, docs/api.md).
enum class ServeAuth {
  kAuto,      // bearer tokens when the server listens beyond loopback
  kRequired,  // bearer tokens always (except /api/health)
};
struct ServeSettings {
  // Host names (besides the listen address and loopback names) the Host header and a
  // cross-origin Origin may name: the names a proxy or the other nodes are reached by.
  std::vector<std::string> allowed_hosts;
  ServeAuth auth = ServeAuth::kAuto;
  int64_t max_body = 1 << 20;  // bytes of a request body
  int max_connections = 512;   // connections open at once; more wait to be accepted
  // Connections one client address may hold open at once; more are closed as they arrive.
  // Half of max_connections unless set.
  int max_connections_per_client = 256;
  int max_followers = 64;    // `logs?follow=1` streams at once; more are refused (503)
  int runs_per_minute = 60;  // runs created through the API (POST .../runs, retry)
};

struct Project {
  fs::path root;
  std::string name;
  Environment env;
  std::vector<std::string> environment_names;
  std::map<std::string, Source> sources;
  std::map<std::string, Job> jobs;
  std::map<TableName, Model> models;
  std::map<std::string, Channel> channels;
  PiiSettings pii;
  Lineage lineage;
  ServeSettings serve;
  QuerySettings query;

  // The model SQL with every {{ ref('db.table') }} replaced by the table's SQL name (`name_of`
  // the reference; default: db.table), {{ this }} by `this_name` (default: the model's db.name),
  // and the text of each {{ if incremental }} ... {{ end }} block kept for an `incremental` run,
  // left out otherwise.
  std::string CompiledModelSql(const Model& model, bool incremental = false,
                               const std::function<std::string(const Ref&)>& name_of = nullptr,
                               const std::string& this_name = "") const;
  // The SQL of an incremental run with each name padded with blanks to the length of its
  // {{ ref() }}, and the {{ }} of blocks blanked: an offset in it is the same offset in the
  // model's file (up to a {{ this }} longer than its name), for messages that point into it.
  std::string AlignedModelSql(const Model& model) const;
};

// Reads through `files` the text of every check's `file:` in `checks` into its file_text, or
// the reason it cannot into its file_problem: rule files are read when the project loads, never
// again at run time.
void ReadRuleFiles(DefinitionReader& files, std::vector<CheckSpec>& checks);

// Refuses to go on while `unset` (settings naming an unset ${env:...}) holds any: throws the
// first as Error(kConfig) with its code, file:line:col and hint.
void RequireSet(const std::vector<Diagnostic>& unset);

// Adds every channel's unset_env to `diagnostics`: validate reports them, and commands that send
// notifications refuse to start (notify::Channels) until they are set.
void CheckChannelSecrets(const Project& project, Diagnostics& diagnostics);
// Adds every source's extract unset_env to `diagnostics`: validate reports them, and an
// extraction of that source refuses to start until they are set.
void CheckExtractSecrets(const Project& project, Diagnostics& diagnostics);

// Finds the project folder: `start` itself or the nearest parent holding sluice.yaml.
fs::path FindRoot(const fs::path& start);

// Loads and checks the shape of every project file, reading only through `files` (a folder or a
// stored manifest; rule files included). Problems go into `diagnostics` (loading goes on past
// them, to report as many as possible); the project holds what could be read.
Project Load(DefinitionReader& files, const std::string& env, Diagnostics& diagnostics);
// Load from the folder `root`.
Project Load(const fs::path& root, const std::string& env, Diagnostics& diagnostics);

// The destination a load of `table` uses: the fields `given` sets, then those of the
// `destination:` of the job or model that writes `table`, then the defaults: schema and table
// from the table's db and name, mode and key from the job's output (a model: ModelOutputMode; a
// table no job writes: append). Throws Error(kUsage, load.key) for a merge without a key or
// delete_missing without merge.
Destination ResolveDestination(const Project& project, const TableName& table,
                               const Destination& given);

// The key a load of `table` into its declared `destination:` merges on, or empty when the job or
// model writing `table` declares no destination or its destination does not merge. A row with a
// NULL in that key cannot be placed by the merge: the run sets it aside before it publishes.
std::vector<std::string> DestinationMergeKey(const Project& project, const TableName& table);

// How a run of a lake model changes its table once it exists: overwrite, or for an incremental
// model merge (on its unique_key) or append (without one).
std::string ModelOutputMode(const Model& model);

// Whether `table` is built by a warehouse model (`materialized: warehouse` or
// `warehouse_incremental`).
bool IsWarehouseModel(const Project& project, const TableName& table);

// The warehouse table a warehouse model reads for ref('table'): a warehouse model's own table
// (schema and name its db and name), or where the `destination:` declared by the job or model
// writing `table` loads it (schema and table set, the rest as ResolveDestination gives); nullopt
// when `table` reaches the warehouse neither way.
std::optional<Destination> WarehouseTable(const Project& project, const TableName& table);

}  // namespace sluice::project
