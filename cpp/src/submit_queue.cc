#include "submit_queue.h"

#include "ray/api/ray_exception.h"

namespace ray {
namespace internal {

uint64_t SubmitQueue::Push(rpc::SubmitItem item) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.push_back(std::move(item));
  ++pushed_;
  cv_.notify_all();
  return pushed_;
}

std::vector<rpc::SubmitItem> SubmitQueue::TakeUnsent(size_t max_items,
                                                     std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, wait, [&] { return closed_ || error_ || sent_on_stream_ < pending_.size(); });
  std::vector<rpc::SubmitItem> batch;
  if (error_) return batch;
  while (sent_on_stream_ < pending_.size() && batch.size() < max_items) {
    batch.push_back(pending_[sent_on_stream_]);
    ++sent_on_stream_;
  }
  return batch;
}

void SubmitQueue::Ack(uint64_t num_accepted_on_stream) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t absolute = stream_base_ + num_accepted_on_stream;
  if (absolute > pushed_) absolute = pushed_;
  while (acked_ < absolute) {
    pending_.pop_front();
    ++acked_;
    if (sent_on_stream_ > 0) --sent_on_stream_;
  }
  cv_.notify_all();
}

void SubmitQueue::StreamRestarted() {
  std::lock_guard<std::mutex> lock(mu_);
  stream_base_ = acked_;
  sent_on_stream_ = 0;
  cv_.notify_all();
}

void SubmitQueue::Fail(const std::string &error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_) error_ = error;
  cv_.notify_all();
}

void SubmitQueue::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

bool SubmitQueue::Barrier(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t target = pushed_;
  bool done = cv_.wait_for(lock, timeout, [&] { return error_ || acked_ >= target; });
  if (error_) {
    throw RayException("task submission failed: " + *error_);
  }
  return done;
}

uint64_t SubmitQueue::pushed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pushed_;
}

uint64_t SubmitQueue::acked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acked_;
}

bool SubmitQueue::HasUnacked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acked_ < pushed_;
}

bool SubmitQueue::HasUnsent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_on_stream_ < pending_.size();
}

}  // namespace internal
}  // namespace ray
