#pragma once

// Ids as client_gateway.proto documents them: job 4 bytes; task 24 = 20 unique bytes + job id;
// object 28 = task id + 4-byte big-endian index (0 for a put, 1.. for returns); actor 28 =
// 24 unique bytes + job id.

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace ray {
namespace internal {

inline constexpr size_t kJobIdSize = 4;
inline constexpr size_t kTaskIdSize = 24;
inline constexpr size_t kObjectIdSize = 28;
inline constexpr size_t kActorIdSize = 28;

// Makes the client's ids for one job (thread safe).
class IdGenerator {
 public:
  // job_id must be 4 bytes.
  explicit IdGenerator(std::string job_id);

  const std::string &job_id() const { return job_id_; }
  std::string NewTaskId();
  std::string NewActorId();
  // Index 0 of a fresh task id.
  std::string NewPutId() { return ObjectId(NewTaskId(), 0); }

  // task_id + big-endian index.
  static std::string ObjectId(const std::string &task_id, uint32_t index);
  // The task id of an object id, and its index.
  static std::string TaskIdOf(const std::string &object_id) { return object_id.substr(0, kTaskIdSize); }
  static uint32_t IndexOf(const std::string &object_id);
  // The job id inside a task, object or actor id ("" for a malformed id).
  static std::string JobIdOfTask(const std::string &task_id);
  static std::string JobIdOfObject(const std::string &object_id);
  static std::string JobIdOfActor(const std::string &actor_id);

 private:
  std::string RandomBytes(size_t n);

  std::string job_id_;
  std::mutex mu_;
  std::mt19937_64 rng_;
};

std::string ToHex(const std::string &bytes);
// Throws RayException for text that is not even-length hex.
std::string FromHex(const std::string &hex);

}  // namespace internal
}  // namespace ray
