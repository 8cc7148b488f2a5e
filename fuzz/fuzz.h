#pragma once
// Fuzz targets: each defines libFuzzer's entry point, LLVMFuzzerTestOneInput, over one parser.
// A clear rejection (sluice::Error) is a correct answer to bad input; anything else escaping a
// target (another exception), a crash or a hang is a bug. Built two ways (CMakeLists.txt):
// with clang's -fsanitize=fuzzer for open-ended fuzzing (`make fuzz`), and with driver.cc for
// the deterministic replay that `make test` runs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"

namespace sluice::fuzz {

// Runs `parse`, taking a sluice::Error as the clear rejection it is meant to be.
template <typename F>
void AcceptRejection(F&& parse) {
  try {
    parse();
  } catch (const Error&) {  // bad input, refused with a message: the outcome wanted
  }
}

inline std::string Text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
