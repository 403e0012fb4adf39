#pragma once

// The client side of the pipelined Submit stream, without any I/O.
//
// Items get sequence numbers 1, 2, ... in the order Remote() made them. The writer takes unsent
// items in batches; the gateway's replies acknowledge how many items were accepted since the
// current stream opened. When a stream breaks, every item sent but not acknowledged is sent
// again on the next stream (task ids make that idempotent), in the same order.
// Barrier(): callers that mention ids of submitted items in a unary call wait until every
// item pushed so far is acknowledged.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "client_gateway.pb.h"

namespace ray {
namespace internal {

class SubmitQueue {
 public:
  // Appends an item; returns its sequence number.
  uint64_t Push(rpc::SubmitItem item);

  // Up to max_items unsent items (in order), now counted as sent on the current stream.
  // Waits at most `wait` for one to appear; empty when none (or when closed).
  std::vector<rpc::SubmitItem> TakeUnsent(size_t max_items, std::chrono::milliseconds wait);

  // A reply of the current stream: num_accepted items since it opened.
  void Ack(uint64_t num_accepted_on_stream);

  // The current stream ended; the next one starts with the unacknowledged items.
  void StreamRestarted();

  // The stream failed for good (e.g. INVALID_ARGUMENT): barriers throw this message.
  void Fail(const std::string &error);

  // Wakes every waiter (at shutdown).
  void Close();

  // Waits until every item pushed before the call is acknowledged. Returns false on timeout.
  // Throws RayException when the stream failed.
  bool Barrier(std::chrono::milliseconds timeout);

  uint64_t pushed() const;
  uint64_t acked() const;
  bool HasUnacked() const;
  bool HasUnsent() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Items not yet acknowledged, oldest first: sequence numbers acked_+1 .. pushed_.
  std::deque<rpc::SubmitItem> pending_;
  uint64_t pushed_ = 0;
  uint64_t acked_ = 0;
  // Of pending_, how many were sent on the current stream.
  uint64_t sent_on_stream_ = 0;
  // acked_ when the current stream opened.
  uint64_t stream_base_ = 0;
  std::optional<std::string> error_;
  bool closed_ = false;
};

}  // namespace internal
}  // namespace ray
