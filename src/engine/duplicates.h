#pragma once
// sluice_duplicates(x BIGINT) -> BIGINT: the number of extra copies in a column, exactly
// count(x) - count(DISTINCT x) (non-NULL values less distinct non-NULL values; 0, never NULL, for
// no rows or only NULLs), as the data-quality rule IsUnique needs it, and much faster than
// count(DISTINCT x) on the usual id columns (dense ranges, with gaps, in any order).
//
// It takes BIGINT only: cast narrower integer columns at the call site
// (sluice_duplicates(CAST(id AS BIGINT)); INTEGER, SMALLINT, TINYINT and the unsigned types up to
// UINTEGER convert without loss, and DuckDB casts them implicitly too). UBIGINT, HUGEINT and the
// non-integer types are not for this function.
//
// How: each aggregate state (a pointer to a heap object, created on its first value) keeps the set
// of values it has seen, in one of two forms.
//  - A list of 64-bit values: a sorted, distinct prefix and an unsorted tail that is radix-sorted
//    and merged in once it is as long as the prefix (so memory stays within about twice the
//    distinct values, 8 bytes each). Every state starts this way (cheap for the many small states
//    of a GROUP BY), and sparse values (hashes, random 64-bit ids) stay this way: time and memory
//    about those of DuckDB's own count(DISTINCT), or better.
//  - Roaring bitmaps (CRoaring, Debian's libroaring-dev; its 32-bit Roaring, one bitmap per
//    distinct high 32 bits of the values): a few bits per value for dense data. Values are
//    gathered 64K at a time, radix-sorted, built into a fresh bitmap (appending, a container at a
//    time) and merged in by a union: about 30 ms for 5M shuffled ids on 2 cores.
//    A list turns into bitmaps when, at a merge, its values average at least 16 per block of 2^16
//    (a Roaring container). Bitmaps turn back into a list, for good, when a batch would open
//    thousands of new blocks with fewer than 4 values each on average, or when all the blocks
//    average fewer than 4 values: neither form blows up on the other's data.
// Thread-local states are merged (a union) when DuckDB combines them; merging only reads the
// source state, as DuckDB's window operator reuses sources. The answer is the count of non-NULL
// values added less the size of the set.
#include "engine/engine.h"

namespace sluice::engine {

inline constexpr const char* kDuplicatesFunction = "sluice_duplicates";

// Registers kDuplicatesFunction in the connection's database (every connection of that database
// sees it). Does nothing when it is already there, so it can be called for every connection.
void RegisterDuplicates(Connection& conn);

}  // namespace sluice::engine
