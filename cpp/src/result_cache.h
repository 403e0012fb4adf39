#pragma once

// Return values that the gateway sends back on the Submit stream, without any I/O.
//
// Remote() asks for its value on the stream while few are on their way (Expect): a round
// trip then needs no Get rpc, while a burst of calls is read with one Get as before. The
// stream's reader delivers each value as it becomes ready, or a "fetch" mark for one the
// client must read with Get. ray::Get takes the values from here when every id it asks for
// is expected. A value is taken once (a later Get of the same ref asks the gateway); values
// nobody takes are dropped oldest first beyond a size limit (the gateway still has them).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace ray {
namespace internal {

class ResultCache {
 public:
  explicit ResultCache(size_t max_bytes = 64u << 20, size_t max_entries = 100000)
      : max_bytes_(max_bytes), max_entries_(max_entries) {}

  // Expects the value of `id` on the Submit stream, if fewer than `max_pending` values are
  // on their way now. Returns whether it does (the item then asks for its results).
  bool Expect(const std::string &id, size_t max_pending);

  // The stream brought the value (or, with `fetch`, said to read it with Get).
  void Deliver(const std::string &id, std::string frame, bool fetch);

  // The stream ended: values still expected will not come on it (Get reads them instead).
  void StreamLost();

  // Forgets the ids (their values were read from the gateway).
  void Forget(const std::vector<std::string> &ids);

  enum class Outcome {
    kTaken,       // every value was here: `frames` holds them, in the order of `ids`
    kAskGateway,  // some value is not (or no longer) expected here: use Get
    kTimedOut,    // some value was still on its way at the deadline
  };

  // Waits until every id's value arrived, then takes them. Returns at once with kAskGateway
  // when an id is not expected here or was marked fetch.
  Outcome Take(const std::vector<std::string> &ids, std::chrono::steady_clock::time_point deadline,
               std::vector<std::string> *frames);

  size_t size() const;
  size_t pending() const;

 private:
  enum class State { kPending, kReady, kFetch };
  struct Entry {
    State state = State::kPending;
    std::string frame;
  };
  using Entries = std::unordered_map<std::string, Entry>;
  void EraseLocked(Entries::iterator it);
  void EvictLocked();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Entries entries_;
  // Ids in the order they were expected (some may be gone from entries_ already).
  std::deque<std::string> order_;
  size_t bytes_ = 0;
  size_t pending_ = 0;
  size_t max_bytes_;
  size_t max_entries_;
};

}  // namespace internal
}  // namespace ray
