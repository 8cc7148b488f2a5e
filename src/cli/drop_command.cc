// sluice drop TABLE [--yes]: a table leaves the catalog and the lake, after a confirmation.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

#include "catalog/landing.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/support.h"
#include "common/error.h"
#include "common/strings.h"
#include "transform/drop.h"

namespace sluice::cli {

int Drop(const Global& g, const std::string& text, bool yes, const std::string& format) {
  auto ws = Open(g);
  auto name = CatalogTable(ws, text);
  auto table = transform::TableToDrop(ws, name);
  if (!yes) {
    if (!isatty(STDIN_FILENO)) {
      FailWithCode(ErrorKind::kUsage, "usage.confirm",
                   "sluice drop {} needs a confirmation: pass --yes (standard input is not a "
                   "terminal to ask on)",
                   name.str());
    }
    std::cerr << fmt::format(
        "drop {} (version {}) with every version and its files? type its name to confirm: ",
        name.str(), table.version);
    std::string answer;
    if (!std::getline(std::cin, answer) || Trim(answer) != name.str()) {
      FailWithCode(ErrorKind::kUsage, "usage.confirm", "not confirmed: {} was not dropped",
                   name.str());
    }
  }
  auto report = transform::DropTable(ws, name, table.version, catalog::CurrentUser());
  if (format == "json") {
    PrintJson({{"table", report.table},
               {"version", report.version},
               {"run_id", report.run_id},
               {"writer", report.writer},
               {"files_removed", report.files},
               {"bytes_removed", report.bytes},
               {"errors", report.errors}});
  } else {
    std::cout << fmt::format("dropped {} (version {}): {} file{} removed ({}), run {}\n",
                             report.table, report.version, report.files,
                             report.files == 1 ? "" : "s", HumanBytes(report.bytes), report.run_id);
    if (!report.writer.empty()) {
      std::cout << fmt::format("  {} still writes it: its next run rebuilds it from every file\n",
                               report.writer);
    }
  }
  for (const auto& e : report.errors) {
    std::cerr << fmt::format("error[io]: could not remove {}\n", e);
  }
  if (!report.errors.empty()) {
    std::cerr << "  hint: no version lists them any more; `sluice vacuum --yes` removes them\n";
    return 1;
  }
  return 0;
}

}  // namespace sluice::cli
