#pragma once
#include <cstddef>
#include <string>

namespace sluice {

// `text` on one line (CR, LF and tab become spaces), trimmed, cut at `max` bytes with "...", for
// a server's or a command's words quoted in a message.
std::string OneLine(std::string text, size_t max = 200);

}  // namespace sluice
