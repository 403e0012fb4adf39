#include "result_cache.h"

namespace ray {
namespace internal {

bool ResultCache::Expect(const std::string &id, size_t max_pending) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_ >= max_pending) return false;
  auto inserted = entries_.emplace(id, Entry{});
  if (!inserted.second) return inserted.first->second.state == State::kPending;
  ++pending_;
  order_.push_back(id);
  EvictLocked();
  return true;
}

void ResultCache::Deliver(const std::string &id, std::string frame, bool fetch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.state == State::kReady) return;
    if (it->second.state == State::kPending) --pending_;
    if (fetch) {
      it->second.state = State::kFetch;
    } else {
      it->second.state = State::kReady;
      bytes_ += frame.size();
      it->second.frame = std::move(frame);
    }
    EvictLocked();
  }
  cv_.notify_all();
}

void ResultCache::StreamLost() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto &entry : entries_) {
      if (entry.second.state == State::kPending) entry.second.state = State::kFetch;
    }
    pending_ = 0;
  }
  cv_.notify_all();
}

void ResultCache::Forget(const std::vector<std::string> &ids) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto &id : ids) {
    auto it = entries_.find(id);
    if (it != entries_.end()) EraseLocked(it);
  }
}

ResultCache::Outcome ResultCache::Take(const std::vector<std::string> &ids,
                                       std::chrono::steady_clock::time_point deadline,
                                       std::vector<std::string> *frames) {
  std::unique_lock<std::mutex> lock(mu_);
  bool gateway = false;
  // Values mostly arrive in order: each wake-up checks from the first one still missing.
  size_t next = 0;
  auto arrived = [&] {
    for (; next < ids.size(); ++next) {
      auto it = entries_.find(ids[next]);
      if (it == entries_.end() || it->second.state == State::kFetch) {
        gateway = true;
        return true;
      }
      if (it->second.state == State::kPending) return false;
    }
    return true;
  };
  if (!cv_.wait_until(lock, deadline, arrived)) return Outcome::kTimedOut;
  if (gateway) return Outcome::kAskGateway;
  frames->clear();
  frames->reserve(ids.size());
  for (const auto &id : ids) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return Outcome::kAskGateway;  // dropped while we waited
    frames->push_back(it->second.frame);
  }
  for (const auto &id : ids) {
    auto it = entries_.find(id);
    if (it != entries_.end()) EraseLocked(it);  // (an id may be asked for twice)
  }
  return Outcome::kTaken;
}

size_t ResultCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

size_t ResultCache::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}

void ResultCache::EraseLocked(Entries::iterator it) {
  if (it->second.state == State::kPending) --pending_;
  bytes_ -= it->second.frame.size();
  entries_.erase(it);
}

void ResultCache::EvictLocked() {
  // Oldest first; ids whose entry is gone (taken) are skipped. A Get of an evicted id (even
  // one still on its way) asks the gateway.
  bool evicted = false;
  while (!order_.empty() && (bytes_ > max_bytes_ || entries_.size() > max_entries_)) {
    auto it = entries_.find(order_.front());
    order_.pop_front();
    if (it == entries_.end()) continue;
    EraseLocked(it);
    evicted = true;
  }
  if (evicted) cv_.notify_all();  // a waiter's id may be gone
  // Taken entries leave their ids behind in order_: keep that list from growing without end.
  if (order_.size() > 2 * entries_.size() + 1024) {
    std::deque<std::string> live;
    for (auto &id : order_) {
      if (entries_.count(id)) live.push_back(std::move(id));
    }
    order_.swap(live);
  }
}

}  // namespace internal
}  // namespace ray
