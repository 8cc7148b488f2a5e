#pragma once
// Chooses the lake's backend from its URI.
#include <memory>
#include <string>

#include "lake/store.h"

namespace sluice::lake {

// A plain path or file://PATH: a LocalStore there (the folder is created). s3://... is
// Error(kConfig, code lake.unsupported_backend) in this build; any other scheme too.
std::shared_ptr<Store> Open(const std::string& uri);

}  // namespace sluice::lake
