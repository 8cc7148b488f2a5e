#pragma once
// PostgreSQL's COPY text format, written by hand for speed (the COPY path of the warehouse
// encodes every value of a load through here). A row is its values separated by a tab and ended
// by a newline; a value is its text with backslash, backspace, form feed, newline, carriage
// return, tab and vertical tab written as \\, \b, \f, \n, \r, \t and \v (as PostgreSQL's own
// COPY TO writes them); NULL is \N. Every other byte passes through unchanged (UTF-8 included),
// so the server decodes exactly the text given; a NUL byte, which no PostgreSQL text can hold,
// is passed through for the server to refuse.
#include <string>
#include <string_view>

namespace sluice::pg {

// Appends `value` escaped for the text format (no separator, no newline). Allocates nothing
// beyond the growth of `out`: runs of plain bytes are copied whole.
void AppendCopyText(std::string& out, std::string_view value);

// Appends the text format's NULL: \N.
inline void AppendCopyNull(std::string& out) { out.append("\\N", 2); }

}  // namespace sluice::pg
