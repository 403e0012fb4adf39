#pragma once

/// \file
/// `handle.Task(&Actor::Method)` returns an ActorTaskCaller: set options, then `Remote(args...)`.

#include <ray/api/arguments.h>
#include <ray/api/object_ref.h>
#include <ray/api/ray_runtime.h>
#include <ray/api/static_check.h>
#include <ray/api/task_options.h>

#include <boost/callable_traits.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ray {
namespace internal {

/// Calls one method of an actor. `F` is a RAY_REMOTE member function pointer or a
/// `PyActorMethod<R>` / `JavaActorMethod<R>`.
template <typename F>
class ActorTaskCaller {
 public:
  ActorTaskCaller() = default;
  ActorTaskCaller(RayRuntime *runtime, const std::string &id,
                  RemoteFunctionHolder remote_function_holder)
      : runtime_(runtime), id_(id), remote_function_holder_(std::move(remote_function_holder)) {}

  /// Calls the method; returns at once (calls of one driver run in the order they were made).
  /// \return A ref to its return value.
  template <typename... Args>
  ObjectRef<boost::callable_traits::return_type_t<F>> Remote(Args &&...args);

  /// Sets the call's display name.
  ActorTaskCaller &SetName(std::string name) {
    task_options_.name = std::move(name);
    return *this;
  }

  /// Kept for source compatibility: an actor call uses the actor's resources.
  ActorTaskCaller &SetResources(std::unordered_map<std::string, double> resources) {
    task_options_.resources = std::move(resources);
    return *this;
  }

  /// Kept for source compatibility: an actor call uses the actor's resources.
  ActorTaskCaller &SetResource(std::string name, double value) {
    task_options_.resources[std::move(name)] = value;
    return *this;
  }

 private:
  RayRuntime *runtime_ = nullptr;
  std::string id_;
  RemoteFunctionHolder remote_function_holder_;
  CallOptions task_options_;
};

// ---- inline implementation ----

template <typename F>
template <typename... Args>
ObjectRef<boost::callable_traits::return_type_t<F>> ActorTaskCaller<F>::Remote(Args &&...args) {
  CheckTaskOptions(task_options_.resources);
  std::vector<TaskArg> task_args;
  if constexpr (is_x_lang_v<F>) {
    using ArgsTuple = std::tuple<std::decay_t<Args>...>;
    Arguments::WrapArgs<ArgsTuple, true>(remote_function_holder_.lang_type, &task_args,
                                   std::make_index_sequence<sizeof...(Args)>{},
                                   std::forward<Args>(args)...);
  } else {
    StaticCheck<F, Args...>();
    using ArgsTuple = RemoveReference_t<RemoveFirst_t<boost::callable_traits::args_t<F>>>;
    Arguments::WrapArgs<ArgsTuple>(remote_function_holder_.lang_type, &task_args,
                                   std::make_index_sequence<sizeof...(Args)>{},
                                   std::forward<Args>(args)...);
  }
  using ReturnType = boost::callable_traits::return_type_t<F>;
  std::string id = runtime_->CallActor(remote_function_holder_, id_, task_args, task_options_);
  return ObjectRef<ReturnType>(std::move(id), AdoptReference{});
}

}  // namespace internal
}  // namespace ray
