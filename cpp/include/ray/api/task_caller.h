#pragma once

/// \file
/// `ray::Task(f)` returns a TaskCaller: set options, then `Remote(args...)`.

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

/// Submits one kind of task. `F` is a RAY_REMOTE function pointer or a `PyFunction<R>` /
/// `JavaFunction<R>`.
template <typename F>
class TaskCaller {
 public:
  TaskCaller() = default;
  TaskCaller(RayRuntime *runtime, RemoteFunctionHolder remote_function_holder)
      : runtime_(runtime), remote_function_holder_(std::move(remote_function_holder)) {}

  /// Submits the task; returns at once (the submission is pipelined).
  /// \return A ref to its return value.
  template <typename... Args>
  ObjectRef<boost::callable_traits::return_type_t<F>> Remote(Args &&...args);

  /// Sets the task's display name.
  TaskCaller &SetName(std::string name) {
    task_options_.name = std::move(name);
    return *this;
  }

  /// Sets every resource the task needs (without "CPU" it asks for 1 CPU).
  TaskCaller &SetResources(std::unordered_map<std::string, double> resources) {
    task_options_.resources = std::move(resources);
    return *this;
  }

  /// Sets one resource the task needs.
  TaskCaller &SetResource(std::string name, double value) {
    task_options_.resources[std::move(name)] = value;
    return *this;
  }

  /// Placement groups are not supported yet: Remote() throws when one is set.
  TaskCaller &SetPlacementGroup(PlacementGroup group, int bundle_index) {
    task_options_.group = std::move(group);
    task_options_.bundle_index = bundle_index;
    return *this;
  }

 private:
  RayRuntime *runtime_ = nullptr;
  RemoteFunctionHolder remote_function_holder_{};
  CallOptions task_options_;
};

// ---- inline implementation ----

template <typename F>
template <typename... Args>
ObjectRef<boost::callable_traits::return_type_t<F>> TaskCaller<F>::Remote(Args &&...args) {
  CheckTaskOptions(task_options_.resources);
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
  using ReturnType = boost::callable_traits::return_type_t<F>;
  std::string id = runtime_->Call(remote_function_holder_, task_args, task_options_);
  return ObjectRef<ReturnType>(std::move(id), AdoptReference{});
}

}  // namespace internal
}  // namespace ray
