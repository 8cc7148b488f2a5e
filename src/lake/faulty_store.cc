#include "lake/faulty_store.h"

#include "common/error.h"

namespace sluice::lake {

const char* ToString(Call call) {
  switch (call) {
    case Call::kList:
      return "List";
    case Call::kStat:
      return "Stat";
    case Call::kGet:
      return "Get";
    case Call::kPut:
      return "Put";
    case Call::kPutFile:
      return "PutFile";
    case Call::kPutFileIfAbsent:
      return "PutFileIfAbsent";
    case Call::kMove:
      return "Move";
    case Call::kDelete:
      return "Delete";
    case Call::kFetch:
      return "Fetch";
    case Call::kScratchDir:
      return "ScratchDir";
  }
  return "?";
}

void FaultyStore::FailNth(Call call, int n) {
  after_ = false;
  call_ = call;
  left_ = n;
}

void FaultyStore::FailNthAfter(Call call, int n) {
  after_ = true;
  call_ = call;
  left_ = n;
}

bool FaultyStore::Due(Call call) const {
  if (call != call_.load()) return false;
  int left = left_.load();
  while (left > 0 && !left_.compare_exchange_weak(left, left - 1)) {
  }
  return left == 1;
}

template <typename Op>
auto FaultyStore::Forward(Call call, const std::string& what, Op op) const {
  if (!Due(call)) return op();
  if (!after_) Fail(ErrorKind::kIo, "injected fault: {} {}", ToString(call), what);
  op();
  Fail(ErrorKind::kIo, "injected fault after the call: {} {}", ToString(call), what);
}

ListPage FaultyStore::List(const std::string& prefix, const std::string& cursor,
                           size_t limit) const {
  return Forward(Call::kList, prefix, [&] { return inner_->List(prefix, cursor, limit); });
}

std::optional<ObjectInfo> FaultyStore::Stat(const std::string& key) const {
  return Forward(Call::kStat, key, [&] { return inner_->Stat(key); });
}

std::optional<std::string> FaultyStore::Get(const std::string& key) const {
  return Forward(Call::kGet, key, [&] { return inner_->Get(key); });
}

void FaultyStore::Put(const std::string& key, std::string_view data) {
  Forward(Call::kPut, key, [&] { inner_->Put(key, data); });
}

void FaultyStore::PutFile(const std::string& key, const fs::path& source) {
  Forward(Call::kPutFile, key, [&] { inner_->PutFile(key, source); });
}

bool FaultyStore::PutFileIfAbsent(const std::string& key, const fs::path& source) {
  return Forward(Call::kPutFileIfAbsent, key, [&] { return inner_->PutFileIfAbsent(key, source); });
}

bool FaultyStore::Move(const std::string& from, const std::string& to) {
  return Forward(Call::kMove, from, [&] { return inner_->Move(from, to); });
}

void FaultyStore::Delete(const std::string& key) {
  Forward(Call::kDelete, key, [&] { inner_->Delete(key); });
}

Fetched FaultyStore::Fetch(const std::vector<std::string>& keys) const {
  return Forward(Call::kFetch, keys.empty() ? "" : keys.front(),
                 [&] { return inner_->Fetch(keys); });
}

fs::path FaultyStore::ScratchDir() const {
  return Forward(Call::kScratchDir, "", [&] { return inner_->ScratchDir(); });
}

}  // namespace sluice::lake
