// The project reader (project/, transform/validate.h, orchestrator/workflow_resolve.h's ValidateWorkflows):
// the input's first byte chooses which file of a small valid project it replaces ('0'
// sluice.yaml, '1' a source, '2' a job, '3' a workflow, '4' a model's settings), the rest is
// that file's text; the project is then loaded and validated as `sluice validate` does.
#include <unistd.h>

#include <array>
#include <cstdlib>

#include "common/files.h"
#include "fuzz/fuzz.h"
#include "orchestrator/workflow_resolve.h"
#include "transform/validate.h"

namespace {

namespace fs = std::filesystem;

struct ProjectFile {
  const char* path;
  const char* baseline;
};

const std::array<ProjectFile, 5> kFiles = {{
    {"sluice.yaml", "project: fuzz\n"},
    {"sources/orders.yaml", "source: orders\nformat: csv\n"},
    {"jobs/clean.yaml",
     "job: clean\ninput: bronze.orders\noutput: silver.orders\nchecks:\n  - rule: RowCount > 0\n"},
    {"workflows/daily.yaml",
     "workflow: daily\ntriggers:\n  - on_arrival: orders\nsteps:\n  - crawl: orders\n  - job: "
     "clean\n"},
    {"models/gold/totals.yaml", "checks:\n  - RowCount > 0\n"},
}};

// A project folder of this process, removed at exit.
const fs::path& Root() {
  static const fs::path root = [] {
    fs::path r = fs::temp_directory_path() / ("sluice-fuzz-project-" + std::to_string(getpid()));
    for (const auto& f : kFiles) sluice::WriteFileAtomic(r / f.path, f.baseline);
    sluice::WriteFileAtomic(r / "models/gold/totals.sql",
                            "SELECT count(*) AS n FROM {{ ref('silver.orders') }}\n");
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(Root(), ec);
    });
    return r;
  }();
  return root;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ProjectFile& file = kFiles[static_cast<uint8_t>(data[0] - '0') % kFiles.size()];
  sluice::WriteFileAtomic(Root() / file.path, sluice::fuzz::Text(data + 1, size - 1));
  sluice::fuzz::AcceptRejection([&] {
    sluice::project::Diagnostics diagnostics;
    sluice::transform::Workspace ws;
    ws.project = sluice::project::Load(Root(), "dev", diagnostics);
    ws.workflows = sluice::project::LoadWorkflows(Root(), diagnostics);
    sluice::transform::Validate(ws.project, diagnostics);
    sluice::orchestrator::ValidateWorkflows(ws, diagnostics);
  });
  sluice::WriteFileAtomic(Root() / file.path, file.baseline);
  return 0;
}
