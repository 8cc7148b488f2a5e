#include "lake/open.h"

#include "common/error.h"
#include "lake/local_store.h"

namespace sluice::lake {

std::shared_ptr<Store> Open(const std::string& uri) {
  const std::string file = "file://";
  if (uri.compare(0, file.size(), file) == 0) {
    return std::make_shared<LocalStore>(uri.substr(file.size()));
  }
  auto scheme = uri.find("://");
  if (scheme == std::string::npos) return std::make_shared<LocalStore>(uri);
  FailWithCode(ErrorKind::kConfig, "lake.unsupported_backend",
               "lake '{}': this build supports local folders only ({}:// lakes come with a later "
               "release)",
               uri, uri.substr(0, scheme));
}

}  // namespace sluice::lake
