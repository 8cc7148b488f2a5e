#include "cli/support.h"

#include <fmt/format.h>

#include "common/time.h"
#include "orchestrator/plan.h"

namespace sluice::cli {

fs::path Root(const Global& g) { return project::FindRoot(g.dir.empty() ? "." : g.dir); }

transform::Workspace Open(const Global& g) {
  auto ws = transform::Workspace::Open(Root(g), g.env);
  project::Diagnostics diagnostics;
  orchestrator::ValidateWorkflows(ws, diagnostics);
  diagnostics.ThrowIfAny();
  return ws;
}

std::string Time(int64_t ms) { return ms ? Rfc3339(ms) : ""; }

std::string Duration(int64_t ms) {
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60000) return fmt::format("{:.1f} s", ms / 1000.0);
  return fmt::format("{}m{:02}s", ms / 60000, (ms / 1000) % 60);
}

}  // namespace sluice::cli
