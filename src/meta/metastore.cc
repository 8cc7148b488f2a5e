#include "meta/metastore.h"

#include "common/time.h"

namespace sluice::meta {

void Metastore::FailRun(Run run, const std::string& error, const std::vector<RunStep>& steps,
                        const std::vector<CheckResult>& checks) {
  run.status = "failed";
  run.error = error;
  run.ended_ms = NowMs();
  FinishRun(run, steps, checks);
}

}  // namespace sluice::meta
