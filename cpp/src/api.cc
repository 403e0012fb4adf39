// ray::Init / ray::Shutdown and the process's runtime (ray/api.h, ray_runtime_holder.h).

#include <atomic>
#include <memory>
#include <mutex>

#include "cluster_runtime.h"
#include "config.h"
#include "ray/api.h"

namespace ray {
namespace internal {

namespace {
std::shared_ptr<RayRuntime> &RuntimeSlot() {
  static auto *slot = new std::shared_ptr<RayRuntime>();
  return *slot;
}
}  // namespace

std::shared_ptr<RayRuntime> GetRayRuntimeOrNull() { return std::atomic_load(&RuntimeSlot()); }

std::shared_ptr<RayRuntime> GetRayRuntime() {
  auto runtime = GetRayRuntimeOrNull();
  if (!runtime) {
    throw RayException("Ray is not initialized: call ray::Init() first");
  }
  return runtime;
}

void SetRayRuntime(std::shared_ptr<RayRuntime> runtime) {
  std::atomic_store(&RuntimeSlot(), std::move(runtime));
}

}  // namespace internal

namespace {
std::mutex lifecycle_mu;
}  // namespace

void Init(ray::RayConfig &config, int argc, char **argv) {
  std::lock_guard<std::mutex> lock(lifecycle_mu);
  if (internal::GetRayRuntimeOrNull()) return;  // as upstream: a second Init is a no-op
  auto errors = internal::FunctionRegistry::Instance().Errors(nullptr);
  if (!errors.empty()) {
    std::string message = "RAY_REMOTE registration failed:";
    for (const auto &e : errors) message += "\n  " + e;
    throw internal::RayException(message);
  }
  internal::ResolvedConfig resolved = internal::ResolveConfig(
      config, internal::ParseCommandLineFlags(argc, argv), internal::ProcessEnv());
  internal::SetRayRuntime(internal::ClusterRuntime::Connect(resolved));
}

void Init(ray::RayConfig &config) { Init(config, 0, nullptr); }

void Init() {
  RayConfig config;
  Init(config, 0, nullptr);
}

bool IsInitialized() { return internal::GetRayRuntimeOrNull() != nullptr; }

void Shutdown() {
  std::lock_guard<std::mutex> lock(lifecycle_mu);
  auto runtime = internal::GetRayRuntimeOrNull();
  internal::SetRayRuntime(nullptr);
  if (auto *cluster = dynamic_cast<internal::ClusterRuntime *>(runtime.get())) {
    cluster->Close();
  }
}

namespace {
[[noreturn]] void NoPlacementGroups() {
  throw internal::RayException("placement groups are not supported by the client gateway yet");
}
}  // namespace

PlacementGroup CreatePlacementGroup(const ray::PlacementGroupCreationOptions &) {
  NoPlacementGroups();
}
void RemovePlacementGroup(const std::string &) { NoPlacementGroups(); }
std::vector<PlacementGroup> GetAllPlacementGroups() { NoPlacementGroups(); }
PlacementGroup GetPlacementGroupById(const std::string &) { NoPlacementGroups(); }
PlacementGroup GetPlacementGroup(const std::string &) { NoPlacementGroups(); }

}  // namespace ray
