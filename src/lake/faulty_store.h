#pragma once
// A Store that passes every call to another one, except the one it is told to fail: for tests
// of what callers do when the lake fails at a given point (as LevelDB's fault-injection Env).
#include <atomic>
#include <memory>

#include "lake/store.h"

namespace sluice::lake {

enum class Call {
  kList,
  kStat,
  kGet,
  kPut,
  kPutFile,
  kPutFileIfAbsent,
  kMove,
  kDelete,
  kFetch,
  kScratchDir,
};
const char* ToString(Call call);
inline constexpr Call kAllCalls[] = {Call::kList,      Call::kStat,    Call::kGet,
                                     Call::kPut,       Call::kPutFile, Call::kPutFileIfAbsent,
                                     Call::kMove,      Call::kDelete,  Call::kFetch,
                                     Call::kScratchDir};

class FaultyStore : public Store {
 public:
  explicit FaultyStore(std::shared_ptr<Store> inner) : inner_(std::move(inner)) {}

  // From now on, the `n`th call (1-based) of kind `call` throws Error(kIo) without reaching the
  // inner store; every other call goes through. Thread-safe.
  void FailNth(Call call, int n);
  // As FailNth, but the `n`th call reaches the inner store first and then throws: the write was
  // made and its answer lost (a timeout after S3 stored the object). Thread-safe.
  void FailNthAfter(Call call, int n);

  ListPage List(const std::string& prefix, const std::string& cursor, size_t limit) const override;
  std::optional<ObjectInfo> Stat(const std::string& key) const override;
  std::optional<std::string> Get(const std::string& key) const override;
  void Put(const std::string& key, std::string_view data) override;
  void PutFile(const std::string& key, const fs::path& source) override;
  bool PutFileIfAbsent(const std::string& key, const fs::path& source) override;
  bool Move(const std::string& from, const std::string& to) override;
  void Delete(const std::string& key) override;
  Fetched Fetch(const std::vector<std::string>& keys) const override;
  fs::path ScratchDir() const override;
  size_t RemoveAbandonedScratch() override { return inner_->RemoveAbandonedScratch(); }
  std::unique_ptr<Watcher> NewWatcher() const override { return inner_->NewWatcher(); }
  std::string Uri(const std::string& key) const override { return inner_->Uri(key); }

 private:
  // Whether this call is the armed one (and disarms it then).
  bool Due(Call call) const;
  // Calls `op` on the inner store, failing before or after it when this call is the armed one.
  template <typename Op>
  auto Forward(Call call, const std::string& what, Op op) const;

  std::shared_ptr<Store> inner_;
  std::atomic<Call> call_{Call::kList};
  mutable std::atomic<int> left_{0};  // calls of call_ until the failing one; 0: none fails
  std::atomic<bool> after_{false};    // the failing call reaches the inner store first
};

}  // namespace sluice::lake
