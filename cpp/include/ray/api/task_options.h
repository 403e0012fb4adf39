#pragma once

/// \file
/// Options of tasks, actor creations and actor calls, and the placement-group types that
/// upstream's API names (placement groups are not supported by the client gateway yet).

#include <ray/api/ray_config.h>
#include <ray/api/ray_exception.h>

#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ray {
namespace internal {

/// Checks resource requests as Ray does: positive amounts, whole numbers above 1.
///
/// \param[in] resources Resource name to amount.
/// \throws RayException naming the first bad entry.
inline void CheckTaskOptions(const std::unordered_map<std::string, double> &resources) {
  for (const auto &[name, amount] : resources) {
    if (name.empty() || !(amount > 0)) {
      throw RayException("Resource amounts must be positive and named; got '" + name +
                         "' = " + std::to_string(amount) + ".");
    }
    double whole;
    if (amount > 1 && std::modf(amount, &whole) != 0.0) {
      throw RayException("A resource amount above 1 must be a whole number; got '" + name +
                         "' = " + std::to_string(amount) + ".");
    }
  }
}

}  // namespace internal

/// How the bundles of a placement group are placed.
enum class PlacementStrategy {
  PACK = 0,
  SPREAD = 1,
  STRICT_PACK = 2,
  STRICT_SPREAD = 3,
  UNRECOGNIZED = -1
};

/// The state of a placement group.
enum PlacementGroupState {
  PENDING = 0,
  CREATED = 1,
  REMOVED = 2,
  RESCHEDULING = 3,
  UNRECOGNIZED = -1,
};

/// What `ray::CreatePlacementGroup` takes.
struct PlacementGroupCreationOptions {
  std::string name;
  std::vector<std::unordered_map<std::string, double>> bundles;
  PlacementStrategy strategy;
};

/// A placement group (declared for source compatibility; the client gateway has none yet).
class PlacementGroup {
 public:
  PlacementGroup() = default;
  PlacementGroup(std::string id, PlacementGroupCreationOptions options,
                 PlacementGroupState state = PlacementGroupState::UNRECOGNIZED)
      : id_(std::move(id)), options_(std::move(options)), state_(state) {}
  std::string GetID() const { return id_; }
  std::string GetName() { return options_.name; }
  std::vector<std::unordered_map<std::string, double>> GetBundles() { return options_.bundles; }
  ray::PlacementGroupState GetState() { return state_; }
  PlacementStrategy GetStrategy() { return options_.strategy; }
  bool Wait(int timeout_seconds) { return callback_ ? callback_(id_, timeout_seconds) : false; }
  void SetWaitCallbak(std::function<bool(const std::string &, int)> callback) {
    callback_ = std::move(callback);
  }
  bool Empty() const { return id_.empty(); }

 private:
  std::string id_;
  PlacementGroupCreationOptions options_;
  PlacementGroupState state_ = PlacementGroupState::UNRECOGNIZED;
  std::function<bool(const std::string &, int)> callback_;
};

namespace internal {

/// Options of a task or an actor call.
struct CallOptions {
  std::string name;
  std::unordered_map<std::string, double> resources;
  PlacementGroup group;
  int bundle_index = -1;
};

/// Options of an actor creation.
struct ActorCreationOptions {
  std::string name;
  std::string ray_namespace;
  std::unordered_map<std::string, double> resources;
  int max_restarts = 0;
  int max_task_retries = 0;
  int max_concurrency = 1;
  /// Unset: the job's default (RayConfig::default_actor_lifetime).
  std::optional<bool> detached;
  bool get_if_exists = false;
  PlacementGroup group;
  int bundle_index = -1;
};

}  // namespace internal
}  // namespace ray
