#pragma once
// Schema evolution rules: which DuckDB column types widen into which.
#include <string>

namespace sluice::catalog {

// The narrowest type that holds every value of `a` and of `b` (VARCHAR as the last resort).
std::string WidenType(const std::string& a, const std::string& b);
// True when every value of type `narrow` fits `wide` unchanged.
bool FitsIn(const std::string& narrow, const std::string& wide);

}  // namespace sluice::catalog
