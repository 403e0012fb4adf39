#pragma once

// Batches the session's reference counts for AddReferences / ReleaseReferences, without I/O.
//
// Counts are netted per id between flushes: a copy and a destruction of the same ref cancel
// out. Sending the adds of a batch before its releases is always safe: at any moment the
// gateway's count is at least the true count minus nothing already released, so no object is
// freed while a holder exists (a holder can only appear from an existing one).

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace ray {
namespace internal {

class ReferenceBatcher {
 public:
  struct Batch {
    // Ids to add, an id repeated once per count.
    std::vector<std::string> adds;
    // Ids to release, an id repeated once per count.
    std::vector<std::string> releases;
    bool empty() const { return adds.empty() && releases.empty(); }
  };

  void Add(const std::string &id);
  void Release(const std::string &id);

  // The netted counts since the last Take, in first-seen order.
  Batch Take();

  // Ids with a non-zero net count.
  size_t pending() const;

  // Puts a batch back (it could not be sent), before anything recorded since.
  void Restore(const Batch &batch);

 private:
  void Change(const std::string &id, int64_t delta);

  mutable std::mutex mu_;
  std::vector<std::string> order_;
  std::unordered_map<std::string, int64_t> net_;
};

}  // namespace internal
}  // namespace ray
