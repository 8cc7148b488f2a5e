#include "extract/extract.h"

#include <fmt/format.h>

#include <fstream>
#include <set>

#include "catalog/extracted.h"
#include "common/error.h"
#include "common/files.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "extract/database.h"
#include "extract/http_pull.h"
#include "extract/landing.h"

namespace sluice::extract {
namespace {

using json = nlohmann::json;

// At most this many hashes of the records at the cursor are kept (see Cursor): more records
// sharing the last cursor value than this may land twice.
constexpr size_t kMaxBoundary = 100'000;

// The state an incremental HTTP extraction keeps between runs: the greatest cursor value landed,
// and a hash of each record landed with exactly that value. An API asked for records from the
// cursor on (>=) sends those again; they are recognised and not landed twice, while a record
// that newly has that value is.
struct Cursor {
  std::optional<json> value;
  std::set<std::string> boundary;

  static Cursor Parse(const std::string& text) {
    Cursor c;
    json j = json::parse(text, nullptr, false);
    if (!j.is_object()) return c;
    if (j.contains("cursor") && !j["cursor"].is_null()) c.value = j["cursor"];
    if (j.contains("at_cursor") && j["at_cursor"].is_array()) {
      for (const auto& h : j["at_cursor"]) {
        if (h.is_string()) c.boundary.insert(h.get<std::string>());
      }
    }
    return c;
  }
  std::string Dump() const {
    json j = {{"cursor", value ? *value : json()},
              {"at_cursor", json(std::vector<std::string>(boundary.begin(), boundary.end()))}};
    return j.dump();
  }
};

// An initial_value as the API's cursor values come: a number when it reads as one.
json InitialValue(const std::string& text) {
  if (text.empty()) return json();
  json j = json::parse(text, nullptr, false);
  if (j.is_number()) return j;
  return text;
}

// What identifies a record at the cursor between runs: its JSON text, hashed.
std::string Hash(const std::string& line) { return Sha256Hex(line).substr(0, 32); }

std::string CursorParam(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// JSON-lines files in the run's scratch folder, a new one every `per_file` records.
class Writer {
 public:
  Writer(fs::path dir, int64_t per_file) : dir_(std::move(dir)), per_file_(per_file) {}

  // `line`: a record's JSON text, without the line end.
  void Add(const std::string& line) {
    if (!out_.is_open() || in_file_ >= per_file_) Next();
    out_ << line << '\n';
    if (!out_) Fail(ErrorKind::kIo, "cannot write {}", files_.back().string());
    ++in_file_;
  }
  // Closes the last file and makes every file durable: the cursor commits only after.
  std::vector<fs::path> Close() {
    if (out_.is_open()) {
      out_.close();
      if (!out_) Fail(ErrorKind::kIo, "cannot write {}", files_.back().string());
    }
    SyncFiles(files_);
    return files_;
  }

 private:
  void Next() {
    if (out_.is_open()) out_.close();
    files_.push_back(dir_ / fmt::format("part-{:05}.jsonl", files_.size()));
    out_.open(files_.back(), std::ios::binary | std::ios::trunc);
    if (!out_) Fail(ErrorKind::kIo, "cannot create {}", files_.back().string());
    in_file_ = 0;
  }

  fs::path dir_;
  int64_t per_file_;
  std::ofstream out_;
  std::vector<fs::path> files_;
  int64_t in_file_ = 0;
};

// Pulls what an HTTP source has that is new since `state` (its JSON, "" none).
Pulled PullHttp(const std::string& name, const project::HttpExtract& spec, const std::string& state,
                const fs::path& scratch, const ExtractOptions& options, ExtractReport& report) {
  Cursor last = !state.empty() && !options.full_refresh ? Cursor::Parse(state) : Cursor{};
  const auto& inc = spec.incremental;
  // Where this run starts: the cursor less the lag, else the initial value.
  std::optional<json> start;
  if (inc) {
    if (last.value) {
      start = LaggedCursor(*last.value, inc->lag);
    } else if (json initial = InitialValue(inc->initial_value); !initial.is_null()) {
      start = initial;
    }
  }
  // The value sent: the initial value as written (the API's own spelling), else the cursor.
  std::optional<std::string> since;
  if (start) since = last.value ? CursorParam(*start) : inc->initial_value;
  const bool dedupe = inc && last.value && inc->lag <= 0;

  Writer writer(scratch, spec.file_records);
  // The greatest value seen from `start` on, and its records: hashes of those the run before
  // landed, and the texts of this run's (hashed at the end).
  Cursor next = last;
  std::optional<CursorKey> next_key, start_key, last_key;
  if (last.value) next_key = last_key = CursorKeyOf(*last.value);
  if (start) start_key = CursorKeyOf(*start);
  std::vector<std::string> at_next;
  PullStats stats = Pull(spec, since, [&](std::vector<json>& records) {
    for (const auto& record : records) {
      if (record.contains("extracted_at")) {
        FailWithCode(ErrorKind::kInput, "extract.bad_page",
                     "a record of source {} has a field `extracted_at`, the partition column "
                     "Sluice lands its files under (landing/{}/extracted_at=DATE/); the "
                     "crawler would refuse the file",
                     name, name);
      }
      const std::string line = record.dump();
      if (inc) {
        const json* v = JsonAt(record, inc->cursor);
        if (!v || v->is_null()) {
          // The record's field names only: its values may be personal data.
          std::vector<std::string> fields;
          if (record.is_object()) {
            for (const auto& [k, v] : record.items()) {
              if (fields.size() == 20) {
                fields.push_back("...");
                break;
              }
              fields.push_back(k.size() > 64 ? k.substr(0, 64) + "..." : k);
            }
          }
          FailWithCode(ErrorKind::kInput, "extract.bad_cursor",
                       "a record of source {} has no `{}` (its incremental cursor); the "
                       "record is {}",
                       name, inc->cursor,
                       record.is_object() ? "an object with fields " + Join(fields, ", ")
                                          : std::string("no object but ") + record.type_name());
        }
        CursorKey key = CursorKeyOf(*v);
        if (start_key && CompareKeys(key, *start_key) < 0) continue;  // landed before
        int to_next = next_key ? CompareKeys(key, *next_key) : 1;
        if (to_next > 0) {  // a new greatest value: its records start over
          next_key = key;
          next.value = *v;
          next.boundary.clear();
          at_next.clear();
        }
        if (to_next >= 0 && next.boundary.size() + at_next.size() < kMaxBoundary) {
          at_next.push_back(line);  // hashed once the run is done with them
        }
        if (dedupe && CompareKeys(key, *last_key) == 0 && last.boundary.count(Hash(line))) {
          continue;  // sent again from the cursor on: landed by the run before
        }
      }
      writer.Add(line);
      ++report.rows;
    }
    if (options.progress) options.progress(report.rows);
  });
  for (const auto& line : at_next) next.boundary.insert(Hash(line));
  report.requests = stats.requests;
  report.pages = stats.pages;
  if (inc) report.cursor = next.value ? *next.value : json();
  Pulled pulled;
  pulled.files = writer.Close();
  pulled.extension = "jsonl";
  pulled.state = inc ? next.Dump() : "{}";
  report.message =
      report.rows == 0
          ? fmt::format("source {}: nothing new ({} request(s))", name, report.requests)
          : fmt::format("source {}: landed {} record(s) in {} file(s) from {} request(s){}", name,
                        report.rows, pulled.files.size(), report.requests,
                        report.cursor && !report.cursor->is_null()
                            ? "; cursor " + Redact(CursorParam(*report.cursor))
                            : "");
  return pulled;
}

}  // namespace

ExtractReport ExtractSource(transform::Workspace& ws, const std::string& name,
                            const ExtractOptions& options) {
  auto it = ws.project.sources.find(name);
  if (it == ws.project.sources.end()) {
    std::vector<std::string> names;
    for (const auto& [n, s] : ws.project.sources) {
      if (s.extract) names.push_back(n);
    }
    std::string near = Nearest(name, names);
    FailWithCode(
        ErrorKind::kConfig, "config.unknown_target", "no source '{}' in the project{}", name,
        near.empty() ? (names.empty() ? "" : "; sources with extract: " + Join(names, ", "))
                     : fmt::format("; did you mean '{}'?", near));
  }
  const project::Source& source = it->second;
  if (!source.extract) {
    FailWithCode(ErrorKind::kConfig, "config.not_extracted",
                 "source '{}' has no extract: its files are landed by others (sluice ingest, a "
                 "partner's upload); add `extract: {{ http: ... }}` or `extract: {{ database: "
                 "... }}` to {} to pull them",
                 name, source.where.file);
  }
  project::RequireSet(source.extract->unset_env);
  meta::Metastore& metastore = *ws.metastore;
  lake::Store& store = *ws.store;
  // What an earlier run of this source left half done.
  auto recovered = catalog::FinishExtractFiles(store, metastore, name);

  ExtractReport report;
  report.source = name;
  const int64_t started = NowMs();
  report.run_id =
      metastore.StartRun("extract", name, options.trigger, transform::RecordSnapshot(ws));
  if (options.on_start) options.on_start(report.run_id);
  meta::Run run{report.run_id,   "extract", name, meta::RunStatus::kRunning,
                options.trigger, started};
  ScopedFolder scratch;  // removed however the run ends
  try {
    auto state = metastore.GetExtractState(name);
    const int64_t base_version = state ? state->version : 0;
    const std::string last_state = state ? state->state : "";
    scratch.path = store.ScratchDir();
    const std::string run_tag = fmt::format("{}-{}", started, report.run_id);
    Pulled pulled =
        source.extract->http
            ? PullHttp(name, *source.extract->http, last_state, scratch.path, options, report)
            : PullDatabase(ws, name, *source.extract->database, last_state, run_tag, scratch.path,
                           options, report);
    std::string moving_later;  // why committed files wait for the next command to land
    if (!pulled.files.empty() || pulled.commit_state) {
      Landed landed = Land(store, metastore, name, run_tag, pulled, base_version);
      report.keys = landed.keys;
      report.files = static_cast<int64_t>(landed.keys.size());
      moving_later = landed.moving_later;
    }
    if (!recovered.lost.empty()) {
      report.message += fmt::format(
          "\nwarning: {} file(s) an earlier run committed are gone from the lake ({}); their "
          "records come again only with --full-refresh",
          recovered.lost.size(), Join(recovered.lost, ", "));
    }
    if (!moving_later.empty()) {
      report.message += fmt::format(
          " (committed; the files land at the next sluice command: moving them failed: {})",
          moving_later);
    }
    run.status = meta::RunStatus::kSucceeded;
    run.ended_ms = NowMs();
    run.rows_out = report.rows;
    json details = {{"requests", report.requests},
                    {"pages", report.pages},
                    {"deletes", report.deletes},
                    {"files", report.keys},
                    {"message", report.message}};
    if (report.cursor) details["cursor"] = *report.cursor;
    run.details = RedactJson(details).dump();
    metastore.FinishRun(run, {}, {});
    report.duration_ms = run.ended_ms - started;
    return report;
  } catch (const std::exception& e) {
    // Nothing of this run lands (Land cleaned up after itself), its cursor stays.
    run.rows_out = 0;
    metastore.StopRun(run, e, Redact(e.what()), {}, {});
    throw;
  }
}

}  // namespace sluice::extract
