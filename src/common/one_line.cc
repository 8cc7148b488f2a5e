#include "common/one_line.h"

#include "common/strings.h"

namespace sluice {

std::string OneLine(std::string text, size_t max) {
  for (char& c : text) {
    if (c == '\r' || c == '\n' || c == '\t') {
      c = ' ';
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';  // never a terminal's escape sequence, never a cut at a NUL
    }
  }
  text = Trim(text);
  if (text.size() > max) text = text.substr(0, max) + "...";
  return text;
}

}  // namespace sluice
