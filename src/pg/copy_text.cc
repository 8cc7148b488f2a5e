#include "pg/copy_text.h"

#include <array>
#include <cstdint>

namespace sluice::pg {
namespace {

// For each byte, the letter of its escape (\<letter>), or 0 when it passes through.
constexpr std::array<char, 256> MakeEscapes() {
  std::array<char, 256> escapes{};
  escapes['\\'] = '\\';
  escapes['\b'] = 'b';
  escapes['\f'] = 'f';
  escapes['\n'] = 'n';
  escapes['\r'] = 'r';
  escapes['\t'] = 't';
  escapes['\v'] = 'v';
  return escapes;
}
constexpr std::array<char, 256> kEscapes = MakeEscapes();

}  // namespace

void AppendCopyText(std::string& out, std::string_view value) {
  const char* p = value.data();
  const char* end = p + value.size();
  while (p < end) {
    const char* run = p;
    while (p < end && kEscapes[static_cast<uint8_t>(*p)] == 0) ++p;
    out.append(run, p - run);
    if (p == end) break;
    const char escaped[2] = {'\\', kEscapes[static_cast<uint8_t>(*p)]};
    out.append(escaped, 2);
    ++p;
  }
}

}  // namespace sluice::pg
