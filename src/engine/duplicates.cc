#include "engine/duplicates.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <iterator>
#include <map>
#include <roaring/roaring.hh>
#include <utility>
#include <vector>

#include "engine/aggregate.h"

namespace sluice::engine {

namespace {

// A list's unsorted tail is merged in when it is at least this long and as long as the prefix.
constexpr size_t kFirstMerge = 4096;
// Values per block of 2^16 (a Roaring container) from which a list becomes bitmaps, and below
// which bitmaps of at least kMinDemoteBlocks blocks become a list again.
constexpr uint64_t kPromotePerBlock = 16;
constexpr uint64_t kDemotePerBlock = 4;
constexpr uint64_t kMinDemoteBlocks = 4096;
// With bitmaps, values are gathered in a list this long before they are added.
constexpr size_t kBatch = 65536;
// Bitmaps are checked after this many values, or an eighth of those seen so far if more.
constexpr uint64_t kMinCheckInterval = 65536;

// Sorts data[0, n) by bits 8 * first_byte and up (LSD radix sort, a byte at a time, skipping the
// bytes all values share), using `scratch` as room for n values.
void RadixSort(uint64_t* data, size_t n, int first_byte, std::vector<uint64_t>& scratch) {
  if (n < 512) {
    std::sort(data, data + n);  // sorted by all bits is sorted by some
    return;
  }
  uint64_t varying = 0;
  for (size_t i = 0; i < n; ++i) varying |= data[i] ^ data[0];
  int shifts[8];
  int digits = 0;
  for (int d = first_byte; d < 8; ++d) {
    if ((varying >> (8 * d)) & 255) shifts[digits++] = 8 * d;
  }
  if (digits == 0) return;
  std::vector<size_t> counts(static_cast<size_t>(digits) * 256);
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = data[i];
    for (int d = 0; d < digits; ++d) ++counts[d * 256 + ((v >> shifts[d]) & 255)];
  }
  scratch.resize(n);
  uint64_t* from = data;
  uint64_t* to = scratch.data();
  for (int d = 0; d < digits; ++d) {
    size_t* count = &counts[d * 256];
    size_t offset = 0;
    for (int b = 0; b < 256; ++b) offset += std::exchange(count[b], offset);
    int shift = shifts[d];
    for (size_t i = 0; i < n; ++i) {
      uint64_t v = from[i];
      to[count[(v >> shift) & 255]++] = v;
    }
    std::swap(from, to);
  }
  if (from != data) std::memcpy(data, from, n * sizeof *data);
}

// The set of values one aggregate state has seen, and how many values (with repeats) it was given.
class DistinctSet {
 public:
  // Adds the valid values among values[begin, end).
  void Add(const int64_t* values, const uint64_t* validity, idx_t begin, idx_t end) {
    size_t before = list_.size();
    if (!validity) {
      list_.insert(list_.end(), values + begin, values + end);
    } else {
      for (idx_t row = begin; row < end; ++row) {
        if ((validity[row / 64] >> (row % 64)) & 1) {
          list_.push_back(static_cast<uint64_t>(values[row]));
        }
      }
    }
    count_ += list_.size() - before;
    Settle();
  }

  // Adds `other`'s values and count. Only reads `other`.
  void Merge(const DistinctSet& other) {
    count_ += other.count_;
    if (other.bitmap_ && !bitmap_ && !list_only_) ToBitmaps();
    if (other.bitmap_ && bitmap_) {
      for (const auto& [high, bitmap] : other.buckets_) {
        auto [it, added] = buckets_.try_emplace(high, bitmap);
        if (!added) it->second |= bitmap;
      }
    } else if (other.bitmap_) {
      std::vector<uint64_t> sorted;
      AppendBitmaps(other.buckets_, sorted);
      MergeTail();
      UnionSorted(sorted.data(), sorted.data() + sorted.size());
    }
    // The other's list: a sorted, distinct prefix, which merges into a list linearly, and a tail.
    const uint64_t* prefix = other.list_.data();
    const uint64_t* tail = prefix + other.sorted_;
    if (!bitmap_ && tail != prefix) {
      MergeTail();
      UnionSorted(prefix, tail);
      prefix = tail;
    }
    list_.insert(list_.end(), prefix, other.list_.data() + other.list_.size());
    Settle();
  }

  // count(x) - count(DISTINCT x). May reorganize the set (never changes it).
  uint64_t Duplicates() {
    uint64_t distinct = 0;
    if (bitmap_) AddListToBitmaps();  // which may turn them into a list
    if (bitmap_) {
      for (const auto& [high, bitmap] : buckets_) distinct += bitmap.cardinality();
    } else {
      // The tail sorted and distinct, less the values it shares with the prefix (no merge).
      auto tail = list_.begin() + static_cast<std::ptrdiff_t>(sorted_);
      std::vector<uint64_t> scratch;
      RadixSort(list_.data() + sorted_, list_.size() - sorted_, 0, scratch);
      list_.erase(std::unique(tail, list_.end()), list_.end());
      tail = list_.begin() + static_cast<std::ptrdiff_t>(sorted_);
      distinct = list_.size();
      for (auto a = list_.begin(), b = tail; a != tail && b != list_.end();) {
        if (*a < *b) {
          ++a;
        } else if (*b < *a) {
          ++b;
        } else {
          --distinct;
          ++a, ++b;
        }
      }
    }
    return count_ - distinct;
  }

 private:
  // The values by their high 32 bits. (Debian 12's CRoaring 0.2.66 has Roaring64Map, the same
  // idea, but it looks its map up twice per value and keeps its bitmaps to itself.)
  using Buckets = std::map<uint32_t, Roaring>;

  // After values were added: as a list, merges the tail in when it is as long as the rest (and
  // turns a dense list into bitmaps); as bitmaps, adds a long enough list to them (and turns
  // sparse bitmaps into a list).
  void Settle() {
    if (bitmap_) {
      if (list_.size() >= kBatch) AddListToBitmaps();
      return;
    }
    size_t tail = list_.size() - sorted_;
    if (tail < std::max(kFirstMerge, sorted_)) return;
    MergeTail();
    if (list_only_ || list_.size() < kFirstMerge) return;
    uint64_t blocks = 0;
    uint64_t last = 0;
    for (uint64_t v : list_) {
      blocks += blocks == 0 || (v >> 16) != last;
      last = v >> 16;
    }
    if (list_.size() >= kPromotePerBlock * blocks) ToBitmaps();
  }

  // Sorts and de-duplicates the tail and merges it into the prefix: the whole list is then sorted
  // and distinct.
  void MergeTail() {
    auto tail = list_.begin() + static_cast<std::ptrdiff_t>(sorted_);
    if (tail == list_.end()) return;
    std::vector<uint64_t> scratch;
    RadixSort(list_.data() + sorted_, list_.size() - sorted_, 0, scratch);
    list_.erase(std::unique(tail, list_.end()), list_.end());
    if (sorted_ > 0) {
      scratch.clear();
      scratch.reserve(list_.size());
      std::set_union(list_.begin(), tail, tail, list_.end(), std::back_inserter(scratch));
      list_.swap(scratch);
    }
    sorted_ = list_.size();
  }

  // Sets the list (all sorted and distinct) to its union with the sorted, distinct [begin, end).
  void UnionSorted(const uint64_t* begin, const uint64_t* end) {
    std::vector<uint64_t> merged;
    merged.reserve(list_.size() + static_cast<size_t>(end - begin));
    std::set_union(list_.begin(), list_.end(), begin, end, std::back_inserter(merged));
    list_.swap(merged);
    sorted_ = list_.size();
  }

  // Turns the list into bitmaps.
  void ToBitmaps() {
    MergeTail();
    bitmap_ = true;
    next_check_ = count_ + std::max(kMinCheckInterval, count_ / 8);
    AddListToBitmaps();
    if (bitmap_) std::vector<uint64_t>().swap(list_);
  }

  // Adds the list's values to the bitmaps and empties it; or, when most of them would be alone
  // in a block of their own, turns the bitmaps into a list. Ordered by block of 2^16 (a Roaring
  // container), each bitmap's share goes into a new bitmap a container at a time (a cheap way to
  // fill one), which a union merges in.
  void AddListToBitmaps() {
    if (list_.empty()) return;
    std::vector<uint64_t> scratch;
    if (sorted_ < list_.size()) RadixSort(list_.data(), list_.size(), 0, scratch);
    sorted_ = list_.size();
    if (SparseInNewBlocks()) {
      ToList();
      return;
    }
    std::vector<uint32_t> lows;
    for (size_t i = 0; i < list_.size();) {
      auto high = static_cast<uint32_t>(list_[i] >> 32);
      lows.clear();
      for (; i < list_.size() && (list_[i] >> 32) == high; ++i) {
        lows.push_back(static_cast<uint32_t>(list_[i]));
      }
      Roaring part(lows.size(), lows.data());
      auto [it, added] = buckets_.try_emplace(high, std::move(part));
      if (!added) it->second |= part;
    }
    list_.clear();
    sorted_ = 0;
    MaybeDemote();
  }

  // Whether the (sorted) list's values in blocks the bitmaps do not have yet are many blocks with
  // few values each: bitmaps would cost more than a list there.
  bool SparseInNewBlocks() const {
    uint64_t new_blocks = 0, new_values = 0;
    const Roaring* bucket = nullptr;
    uint64_t bucket_high = ~uint64_t{0}, block = ~uint64_t{0};
    bool is_new = false;
    for (uint64_t v : list_) {
      if (v >> 16 != block) {
        block = v >> 16;
        if (v >> 32 != bucket_high) {
          bucket_high = v >> 32;
          auto it = buckets_.find(static_cast<uint32_t>(bucket_high));
          bucket = it == buckets_.end() ? nullptr : &it->second;
        }
        is_new = true;
        if (bucket) {
          const roaring_array_t& containers = bucket->roaring.high_low_container;
          is_new = !std::binary_search(containers.keys, containers.keys + containers.size,
                                       static_cast<uint16_t>(block));
        }
        new_blocks += is_new;
      }
      new_values += is_new;
    }
    return new_blocks >= kMinDemoteBlocks && new_values < kDemotePerBlock * new_blocks;
  }

  // Appends the values of `buckets`, in increasing order, to `out`.
  static void AppendBitmaps(const Buckets& buckets, std::vector<uint64_t>& out) {
    std::vector<uint32_t> lows;
    for (const auto& [high, bitmap] : buckets) {
      lows.resize(bitmap.cardinality());
      bitmap.toUint32Array(lows.data());
      for (uint32_t low : lows) out.push_back(uint64_t{high} << 32 | low);
    }
  }

  // Every so often: turns bitmaps whose blocks hold few values on average into a list.
  void MaybeDemote() {
    if (count_ < next_check_) return;
    next_check_ = count_ + std::max(kMinCheckInterval, count_ / 8);
    uint64_t blocks = 0, distinct = 0;
    for (const auto& [high, bitmap] : buckets_) {
      blocks += static_cast<uint64_t>(bitmap.roaring.high_low_container.size);
      distinct += bitmap.cardinality();
    }
    if (blocks >= kMinDemoteBlocks && distinct < kDemotePerBlock * blocks) ToList();
  }

  // Turns the bitmaps (and the list of values not yet in them, as the tail) into a list, for good.
  void ToList() {
    std::vector<uint64_t> values;
    uint64_t distinct = 0;
    for (const auto& [high, bitmap] : buckets_) distinct += bitmap.cardinality();
    values.reserve(distinct + list_.size());
    AppendBitmaps(buckets_, values);
    sorted_ = values.size();
    values.insert(values.end(), list_.begin(), list_.end());
    list_.swap(values);
    Buckets().swap(buckets_);
    bitmap_ = false;
    list_only_ = true;
  }

  uint64_t count_ = 0;  // values added, with repeats
  bool bitmap_ = false;
  bool list_only_ = false;  // demoted once: stays a list
  // As a list, the values: list_[0, sorted_) is sorted and distinct, the rest (the tail) not.
  // With bitmaps, the values not yet in them (sorted_ is 0).
  std::vector<uint64_t> list_;
  size_t sorted_ = 0;
  Buckets buckets_;
  uint64_t next_check_ = 0;
};

// A state is one pointer to a DistinctSet, null until the state is first given values.
DistinctSet* Get(duckdb_aggregate_state state) {
  DistinctSet* set;
  std::memcpy(&set, state, sizeof set);
  return set;
}

void Put(duckdb_aggregate_state state, DistinctSet* set) { std::memcpy(state, &set, sizeof set); }

idx_t StateSize(duckdb_function_info) { return sizeof(DistinctSet*); }

void Init(duckdb_function_info, duckdb_aggregate_state state) { Put(state, nullptr); }

void Destroy(duckdb_aggregate_state* states, idx_t count) {
  for (idx_t i = 0; i < count; ++i) {
    delete Get(states[i]);
    Put(states[i], nullptr);
  }
}

void Update(duckdb_function_info info, duckdb_data_chunk input, duckdb_aggregate_state* states) {
  try {
    idx_t n = duckdb_data_chunk_get_size(input);
    duckdb_vector vector = duckdb_data_chunk_get_vector(input, 0);
    const auto* values = static_cast<const int64_t*>(duckdb_vector_get_data(vector));
    const uint64_t* validity = duckdb_vector_get_validity(vector);
    ForEachStateRun(states, n, [&](duckdb_aggregate_state state, idx_t begin, idx_t end) {
      DistinctSet* set = Get(state);
      if (!set) {
        set = new DistinctSet;
        Put(state, set);
      }
      set->Add(values, validity, begin, end);
    });
  } catch (const std::exception& e) {
    duckdb_aggregate_function_set_error(info, e.what());
  }
}

void Combine(duckdb_function_info info, duckdb_aggregate_state* source,
             duckdb_aggregate_state* target, idx_t count) {
  try {
    for (idx_t i = 0; i < count; ++i) {
      const DistinctSet* from = Get(source[i]);
      if (!from) continue;
      if (DistinctSet* to = Get(target[i])) {
        to->Merge(*from);
      } else {
        Put(target[i], new DistinctSet(*from));
      }
    }
  } catch (const std::exception& e) {
    duckdb_aggregate_function_set_error(info, e.what());
  }
}

void Finalize(duckdb_function_info info, duckdb_aggregate_state* source, duckdb_vector result,
              idx_t count, idx_t offset) {
  try {
    auto* out = static_cast<int64_t*>(duckdb_vector_get_data(result));
    for (idx_t i = 0; i < count; ++i) {
      DistinctSet* set = Get(source[i]);
      out[offset + i] = set ? static_cast<int64_t>(set->Duplicates()) : 0;
    }
  } catch (const std::exception& e) {
    duckdb_aggregate_function_set_error(info, e.what());
  }
}

}  // namespace

void RegisterDuplicates(Connection& conn) {
  RegisterAggregate(conn, {kDuplicatesFunction, DUCKDB_TYPE_BIGINT, 1, DUCKDB_TYPE_BIGINT,
                           &StateSize, &Init, &Update, &Combine, &Finalize, &Destroy});
}

}  // namespace sluice::engine
