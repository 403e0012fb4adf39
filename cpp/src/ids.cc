#include "ids.h"

#include <unistd.h>

#include <chrono>

#include "ray/api/ray_exception.h"

namespace ray {
namespace internal {

IdGenerator::IdGenerator(std::string job_id) : job_id_(std::move(job_id)) {
  if (job_id_.size() != kJobIdSize) {
    throw RayException("a job id is 4 bytes, got " + std::to_string(job_id_.size()));
  }
  std::random_device device;
  std::seed_seq seed{static_cast<uint64_t>(device()), static_cast<uint64_t>(device()),
                     static_cast<uint64_t>(getpid()),
                     static_cast<uint64_t>(
                         std::chrono::steady_clock::now().time_since_epoch().count())};
  rng_.seed(seed);
}

std::string IdGenerator::RandomBytes(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out.reserve(n + 8);
  while (out.size() < n) {
    uint64_t word = rng_();
    for (int i = 0; i < 8 && out.size() < n; ++i) out.push_back(static_cast<char>(word >> (8 * i)));
  }
  return out;
}

std::string IdGenerator::NewTaskId() { return RandomBytes(kTaskIdSize - kJobIdSize) + job_id_; }

std::string IdGenerator::NewActorId() { return RandomBytes(kActorIdSize - kJobIdSize) + job_id_; }

std::string IdGenerator::ObjectId(const std::string &task_id, uint32_t index) {
  std::string id = task_id;
  for (int shift = 24; shift >= 0; shift -= 8) id.push_back(static_cast<char>((index >> shift) & 0xFF));
  return id;
}

uint32_t IdGenerator::IndexOf(const std::string &object_id) {
  uint32_t index = 0;
  for (size_t i = kTaskIdSize; i < kObjectIdSize && i < object_id.size(); ++i) {
    index = (index << 8) | static_cast<unsigned char>(object_id[i]);
  }
  return index;
}

std::string IdGenerator::JobIdOfTask(const std::string &task_id) {
  return task_id.size() == kTaskIdSize ? task_id.substr(kTaskIdSize - kJobIdSize) : "";
}

std::string IdGenerator::JobIdOfObject(const std::string &object_id) {
  return object_id.size() == kObjectIdSize ? JobIdOfTask(TaskIdOf(object_id)) : "";
}

std::string IdGenerator::JobIdOfActor(const std::string &actor_id) {
  return actor_id.size() == kActorIdSize ? actor_id.substr(kActorIdSize - kJobIdSize) : "";
}

std::string ToHex(const std::string &bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string FromHex(const std::string &hex) {
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw RayException("not a hex string: '" + hex + "'");
  };
  if (hex.size() % 2 != 0) throw RayException("not a hex string (odd length): '" + hex + "'");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

}  // namespace internal
}  // namespace ray
