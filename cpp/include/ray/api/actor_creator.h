#pragma once

/// \file
/// `ray::Actor(factory)` returns an ActorCreator: set options, then `Remote(args...)`.

#include <ray/api/actor_handle.h>
#include <ray/api/arguments.h>
#include <ray/api/ray_runtime.h>
#include <ray/api/static_check.h>
#include <ray/api/task_options.h>

#include <boost/callable_traits.hpp>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ray {
namespace internal {

/// The actor class a factory makes (void for cross-language classes).
template <typename F>
using GetActorType = std::remove_pointer_t<boost::callable_traits::return_type_t<F>>;

/// Creates one kind of actor. `F` is a RAY_REMOTE factory (`static T *Create(...)`) or a
/// `PyActorClass` / `JavaActorClass`.
template <typename F>
class ActorCreator {
 public:
  ActorCreator() = default;
  ActorCreator(RayRuntime *runtime, RemoteFunctionHolder remote_function_holder)
      : runtime_(runtime), remote_function_holder_(std::move(remote_function_holder)) {}

  /// Creates the actor; returns once the cluster accepted it (calls queue until it runs).
  /// \return Its handle.
  template <typename... Args>
  ray::ActorHandle<GetActorType<F>, is_x_lang_v<F>> Remote(Args &&...args);

  /// Names the actor (in the job's namespace), so `ray::GetActor` finds it.
  ActorCreator &SetName(std::string name) {
    create_options_.name = std::move(name);
    return *this;
  }

  /// Names the actor in the given namespace.
  ActorCreator &SetName(std::string name, std::string ray_namespace) {
    create_options_.name = std::move(name);
    create_options_.ray_namespace = std::move(ray_namespace);
    return *this;
  }

  /// Sets every resource the actor holds while it lives.
  ActorCreator &SetResources(std::unordered_map<std::string, double> resources) {
    create_options_.resources = std::move(resources);
    return *this;
  }

  /// Sets one resource the actor holds while it lives.
  ActorCreator &SetResource(std::string name, double value) {
    create_options_.resources[std::move(name)] = value;
    return *this;
  }

  /// Restarts the actor up to this many times when its process dies (-1: forever).
  ActorCreator &SetMaxRestarts(int max_restarts) {
    create_options_.max_restarts = max_restarts;
    return *this;
  }

  /// Retries calls in flight when the actor restarts, up to this many times.
  ActorCreator &SetMaxTaskRetries(int max_task_retries) {
    create_options_.max_task_retries = max_task_retries;
    return *this;
  }

  /// Runs up to this many calls at once.
  ActorCreator &SetMaxConcurrency(int max_concurrency) {
    create_options_.max_concurrency = max_concurrency;
    return *this;
  }

  /// Detached actors outlive the driver's session.
  ActorCreator &SetLifetime(ray::ActorLifetime lifetime) {
    create_options_.detached = lifetime == ray::ActorLifetime::DETACHED;
    return *this;
  }

  /// Placement groups are not supported yet: Remote() throws when one is set.
  ActorCreator &SetPlacementGroup(PlacementGroup group, int bundle_index) {
    create_options_.group = std::move(group);
    create_options_.bundle_index = bundle_index;
    return *this;
  }

 private:
  RayRuntime *runtime_ = nullptr;
  RemoteFunctionHolder remote_function_holder_;
  ActorCreationOptions create_options_{};
};

// ---- inline implementation ----

template <typename F>
template <typename... Args>
ray::ActorHandle<GetActorType<F>, is_x_lang_v<F>> ActorCreator<F>::Remote(Args &&...args) {
  CheckTaskOptions(create_options_.resources);
  std::vector<TaskArg> task_args;
  if constexpr (is_x_lang_v<F>) {
    using ArgsTuple = std::tuple<std::decay_t<Args>...>;
    Arguments::WrapArgs<ArgsTuple, true>(remote_function_holder_.lang_type, &task_args,
                                         std::make_index_sequence<sizeof...(Args)>{},
                                         std::forward<Args>(args)...);
  } else {
    StaticCheck<F, Args...>();
    using ArgsTuple = RemoveReference_t<boost::callable_traits::args_t<F>>;
    Arguments::WrapArgs<ArgsTuple>(remote_function_holder_.lang_type, &task_args,
                                   std::make_index_sequence<sizeof...(Args)>{},
                                   std::forward<Args>(args)...);
  }
  std::string actor_id =
      runtime_->CreateActor(remote_function_holder_, task_args, create_options_);
  return ray::ActorHandle<GetActorType<F>, is_x_lang_v<F>>(actor_id);
}

}  // namespace internal
}  // namespace ray
