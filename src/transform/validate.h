#pragma once
// Whole-project checks beyond the shape of each file: references between resources, one writer
// per table, the dependency graph (no cycles), and check rules that parse.
#include <map>
#include <string>
#include <vector>

#include "meta/catalog_store.h"
#include "project/project.h"

namespace sluice::transform {

// A job or a model: something that writes one table.
struct Node {
  std::string kind;  // job | model
  std::string name;  // job name, or the model's table
  project::TableName output;
  std::vector<project::Ref> inputs;
  project::Location where;
};

struct Dag {
  std::vector<Node> nodes;
  // Node indexes in an order where every node comes after the nodes it reads from.
  std::vector<size_t> order;
  // The node that writes a table, or -1.
  int WriterOf(const project::TableName& table) const;
  // Index of the node named `name` (a job name or a model table), or -1.
  int Find(const std::string& name) const;
};

// Adds problems to `diagnostics`; returns the graph (ordered when there is no cycle).
Dag BuildDag(const project::Project& project, project::Diagnostics& diagnostics);

// The nodes of `dag` that cannot run yet because a source they read (directly, or through the
// nodes they read) has never been crawled: its table is not in `catalog`. Each with the reason,
// one line naming the source and the commands that land and crawl it. `sluice run --all` skips
// them, so that a fresh project whose extracted sources have not run yet builds the rest.
std::map<size_t, std::string> WaitingForSources(const Dag& dag, const project::Project& project,
                                                meta::CatalogStore& catalog);

// The quarantine table of a model (quarantine.<db>_<name>) that sets rows aside.
std::string QuarantineName(const project::TableName& model);

// Model SQL, `sql` steps, `filter`/`derive` expressions and `cast` type names, by DuckDB's
// parser (no data, nothing read from the lake): syntax errors at the file's line:col
// (config.sql_syntax, config.bad_expression, config.bad_type), a model or `sql` step that is not
// one SELECT statement (config.not_select).
void ValidateSql(const project::Project& project, project::Diagnostics& diagnostics);

// Every whole-project check, ValidateSql included.
void Validate(const project::Project& project, project::Diagnostics& diagnostics);

}  // namespace sluice::transform
