#pragma once
// Printing for the command line: aligned tables, CSV and JSON. Nothing here decides anything.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/engine.h"

namespace sluice::cli {

struct TextTable {
  std::vector<std::string> headers;
  std::vector<bool> right;  // right-align this column (numbers)
  std::vector<std::vector<std::string>> rows;
  std::string Render() const;  // aligned lines, as they are
  void Print() const;          // Render() to stdout, secrets redacted (listings, not data)
};

// Prints a query answer as table | csv | json, values as they are (not redacted: they are the
// user's data; secrets are redacted where Sluice's own messages go).
void PrintResult(engine::Result& result, const std::string& format);
// The same for an answer already read: column names, which are numbers, rows (NULL: nullopt).
void PrintRows(const std::vector<std::string>& columns, const std::vector<bool>& numeric,
               const std::vector<std::vector<std::optional<std::string>>>& rows,
               const std::string& format);

void PrintJson(const nlohmann::json& value);

// An error that ends a command, on stderr: `error[CODE]: text` for people, or with --format json
// one line of api::ErrorJson, {"error": text, "code": CODE}, as the HTTP API answers.
void PrintError(const Error& error, const std::string& format);

// Whether stderr is a terminal (progress is shown only there).
bool StderrIsTerminal();

// Routes std::cout and std::cerr through Redact, line by line, for the life of the process:
// no secret reaches the terminal in Sluice's messages, listings and logs, whichever code path
// prints them. Query answers (PrintResult) bypass it: data is printed as it is.
void RedactStandardStreams();

}  // namespace sluice::cli
