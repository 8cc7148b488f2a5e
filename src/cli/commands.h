#pragma once
// One function per command; each calls into the libraries and prints. Return: the exit code.
#include <string>
#include <vector>

namespace sluice::cli {

struct Global {
  std::string dir;  // -C
  std::string env = "dev";
};

int Init(const std::string& dir, const std::string& example, bool sample_data);
int Validate(const Global& g, const std::string& format);
int IngestFiles(const Global& g, const std::string& source, const std::vector<std::string>& paths,
                const std::string& format);
int CrawlSources(const Global& g, const std::vector<std::string>& sources,
                 const std::string& format);
int Run(const Global& g, const std::vector<std::string>& names, bool all,
        const std::string& format);
int Query(const Global& g, const std::string& sql, const std::string& format);
int Catalog(const Global& g, const std::string& table, const std::string& format);
int Runs(const Global& g, size_t limit, const std::string& format);
int RunsShow(const Global& g, int64_t id, const std::string& format);
int Demo(const std::string& dir, int days, int64_t rows_per_day);

}  // namespace sluice::cli
