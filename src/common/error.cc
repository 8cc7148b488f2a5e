#include "common/error.h"

namespace sluice {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
      return "usage";
    case ErrorKind::kConfig:
      return "config";
    case ErrorKind::kInput:
      return "input";
    case ErrorKind::kIo:
      return "io";
    case ErrorKind::kQuality:
      return "quality";
    case ErrorKind::kInternal:
      return "internal";
    case ErrorKind::kInterrupted:
      return "interrupted";
    case ErrorKind::kConflict:
      return "conflict";
  }
  return "internal";
}

int ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
    case ErrorKind::kConfig:
      return 2;
    case ErrorKind::kQuality:
      return 3;
    case ErrorKind::kInterrupted:
      return 130;
    case ErrorKind::kConflict:
      return 75;  // EX_TEMPFAIL: the same command, run again, may succeed
    default:
      return 1;
  }
}

}  // namespace sluice
