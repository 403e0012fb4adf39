#pragma once

// Pure protocol logic of values in pieces: PutStream's chunks and Get's reassembly.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ray {
namespace internal {

struct ChunkRange {
  uint64_t offset;
  uint64_t size;
};

// The chunks of a total-byte value, each at most chunk_bytes (one empty chunk for 0 bytes).
std::vector<ChunkRange> PlanChunks(uint64_t total_bytes, uint64_t chunk_bytes);

// Rebuilds the frames of a Get from its ObjectChunks. An object's chunks arrive in order and
// back to back; any violation (unknown index, gap, overlap, size change, overflow) throws
// RayException naming it.
class ObjectAssembler {
 public:
  explicit ObjectAssembler(size_t num_objects);

  void Add(uint32_t index, int64_t total_size_bytes, int64_t offset, std::string_view data);

  bool Complete() const { return completed_ == objects_.size(); }
  // Indexes not yet complete (for messages).
  std::vector<size_t> Missing() const;
  // The frames, in request order (call when Complete()).
  std::vector<std::string> Take();

 private:
  struct Object {
    bool started = false;
    bool done = false;
    uint64_t total = 0;
    std::string data;
  };
  std::vector<Object> objects_;
  size_t completed_ = 0;
};

}  // namespace internal
}  // namespace ray
