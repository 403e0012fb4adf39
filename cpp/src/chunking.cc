#include "chunking.h"

#include <algorithm>

#include "ray/api/ray_exception.h"

namespace ray {
namespace internal {

std::vector<ChunkRange> PlanChunks(uint64_t total_bytes, uint64_t chunk_bytes) {
  if (chunk_bytes == 0) chunk_bytes = 1;
  std::vector<ChunkRange> chunks;
  if (total_bytes == 0) {
    chunks.push_back({0, 0});
    return chunks;
  }
  chunks.reserve((total_bytes + chunk_bytes - 1) / chunk_bytes);
  for (uint64_t offset = 0; offset < total_bytes; offset += chunk_bytes) {
    chunks.push_back({offset, std::min(chunk_bytes, total_bytes - offset)});
  }
  return chunks;
}

ObjectAssembler::ObjectAssembler(size_t num_objects) : objects_(num_objects) {}

void ObjectAssembler::Add(uint32_t index, int64_t total_size_bytes, int64_t offset,
                          std::string_view data) {
  auto fail = [&](const std::string &why) {
    throw RayException("the gateway sent a malformed Get stream: object " + std::to_string(index) +
                       ": " + why);
  };
  if (index >= objects_.size()) fail("no such position (the request has " +
                                     std::to_string(objects_.size()) + " objects)");
  if (total_size_bytes < 0 || offset < 0) fail("negative size or offset");
  Object &object = objects_[index];
  if (object.done) fail("chunk after the object was complete");
  if (!object.started) {
    object.started = true;
    object.total = static_cast<uint64_t>(total_size_bytes);
    object.data.reserve(object.total);
  } else if (object.total != static_cast<uint64_t>(total_size_bytes)) {
    fail("total size changed from " + std::to_string(object.total) + " to " +
         std::to_string(total_size_bytes));
  }
  if (static_cast<uint64_t>(offset) != object.data.size()) {
    fail("chunk at offset " + std::to_string(offset) + ", expected " +
         std::to_string(object.data.size()));
  }
  if (object.data.size() + data.size() > object.total) {
    fail("chunks exceed the total size " + std::to_string(object.total));
  }
  object.data.append(data.data(), data.size());
  if (object.data.size() == object.total) {
    object.done = true;
    ++completed_;
  }
}

std::vector<size_t> ObjectAssembler::Missing() const {
  std::vector<size_t> missing;
  for (size_t i = 0; i < objects_.size(); ++i) {
    if (!objects_[i].done) missing.push_back(i);
  }
  return missing;
}

std::vector<std::string> ObjectAssembler::Take() {
  std::vector<std::string> frames;
  frames.reserve(objects_.size());
  for (auto &object : objects_) frames.push_back(std::move(object.data));
  objects_.clear();
  completed_ = 0;
  return frames;
}

}  // namespace internal
}  // namespace ray
