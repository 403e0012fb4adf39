#include "reference_batcher.h"

namespace ray {
namespace internal {

void ReferenceBatcher::Change(const std::string &id, int64_t delta) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = net_.emplace(id, 0);
  if (inserted) order_.push_back(id);
  it->second += delta;
}

void ReferenceBatcher::Add(const std::string &id) { Change(id, +1); }

void ReferenceBatcher::Release(const std::string &id) { Change(id, -1); }

ReferenceBatcher::Batch ReferenceBatcher::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  Batch batch;
  for (const auto &id : order_) {
    int64_t n = net_[id];
    for (; n > 0; --n) batch.adds.push_back(id);
    for (; n < 0; ++n) batch.releases.push_back(id);
  }
  order_.clear();
  net_.clear();
  return batch;
}

size_t ReferenceBatcher::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto &[id, count] : net_) n += count != 0;
  return n;
}

void ReferenceBatcher::Restore(const Batch &batch) {
  for (const auto &id : batch.adds) Add(id);
  for (const auto &id : batch.releases) Release(id);
}

}  // namespace internal
}  // namespace ray
