#include "common/process.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace sluice {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// Field 22 of /proc/PID/stat (after the parenthesized command, which may hold spaces); "" for
// a process that is gone or a zombie (dead, waiting to be reaped).
std::string StartTicks(long pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  std::string state;
  rest >> state;
  if (state == "Z" || state == "X") return "";
  for (int i = 4; i <= 22 && (rest >> field); ++i) {
    if (i == 22) return field;
  }
  return "";
}

}  // namespace

const std::string& ProcessOwner() {
  static const std::string owner =
      fmt::format("{}:{}:{}", HostName(), static_cast<long>(getpid()), StartTicks(getpid()));
  return owner;
}

bool OwnerAlive(const std::string& owner) {
  auto parts = Split(owner, ':');
  if (parts.size() != 3) return false;
  if (parts[0] != HostName()) return true;
  long pid = 0;
  try {
    pid = std::stol(parts[1]);
  } catch (const std::exception&) {
    return false;
  }
  std::string ticks = StartTicks(pid);
  return !ticks.empty() && ticks == parts[2];
}

}  // namespace sluice
