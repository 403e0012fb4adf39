#pragma once

/// \file
/// `ray::internal::RayRuntime`: the one interface through which the API templates reach the
/// runtime. libray_api.so implements it over the client gateway (cpp/src/cluster_runtime.h);
/// tests may implement it to observe what the API asks for.
///
/// Values cross this interface as whole object frames (tests/xlang/README.md) in
/// `std::string`s; ids are binary strings (object 28 bytes, actor 28 bytes).

#include <ray/api/common_types.h>
#include <ray/api/ray_exception.h>
#include <ray/api/task_options.h>
#include <ray/api/xlang_function.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ray {
namespace internal {

/// Names what a task or actor call runs: a RAY_REMOTE name (C++) or a cross-language one.
struct RemoteFunctionHolder {
  RemoteFunctionHolder() = default;

  /// \param[in] module_name Python module ("" for C++ and Java).
  /// \param[in] function_name Function or method name (C++: the RAY_REMOTE name).
  /// \param[in] class_name Class (Python/Java actor class, C++ actor type) or "".
  /// \param[in] lang_type Language of the code.
  RemoteFunctionHolder(const std::string &module_name, const std::string &function_name,
                       const std::string &class_name = "", LangType lang_type = LangType::CPP)
      : module_name(module_name),
        function_name(function_name),
        class_name(class_name),
        lang_type(lang_type) {}

  /// A C++ function by its RAY_REMOTE name.
  ///
  /// \param[in] func_name The registered name; empty means "not registered".
  /// \throws RayFunctionNotFound when `func_name` is empty.
  RemoteFunctionHolder(std::string func_name) {
    if (func_name.empty()) {
      throw RayFunctionNotFound(
          "Function not found: register it with RAY_REMOTE(...) at namespace scope of a "
          "source file of this program and of the library on the code search path.");
    }
    function_name = std::move(func_name);
  }

  std::string module_name;
  std::string function_name;
  std::string class_name;
  LangType lang_type = LangType::CPP;
};

/// The runtime behind the API. Every id returned by Put/Call/CallActor carries one reference
/// that the caller adopts (it releases it with RemoveLocalReference).
class RAY_EXPORT RayRuntime {
 public:
  virtual ~RayRuntime() = default;

  /// Stores a frame.
  /// \param[in] frame The whole object frame.
  /// \param[in] nested_ids Ids referenced inside the value.
  /// \return The new object id (one reference, adopted by the caller).
  virtual std::string Put(std::string frame, const std::vector<std::string> &nested_ids) = 0;

  /// Reads objects, in ONE request.
  /// \param[in] ids Object ids.
  /// \param[in] timeout_ms Negative: wait as long as needed.
  /// \return One frame per id, in order (failed objects are ERROR frames).
  /// \throws RayTimeoutException when not all were ready within timeout_ms.
  virtual std::vector<std::string> Get(const std::vector<std::string> &ids, int timeout_ms) = 0;

  /// Waits until num_objects of ids are ready or the timeout passes.
  /// \return For each id, whether it is ready (at most num_objects true).
  virtual std::vector<bool> Wait(const std::vector<std::string> &ids, int num_objects,
                                 int timeout_ms) = 0;

  /// Submits a task; never waits for the cluster.
  /// \return The id of its return object (one reference, adopted by the caller).
  virtual std::string Call(const RemoteFunctionHolder &remote_function_holder,
                           std::vector<TaskArg> &args, const CallOptions &task_options) = 0;

  /// Creates an actor.
  /// \return The actor id.
  virtual std::string CreateActor(const RemoteFunctionHolder &remote_function_holder,
                                  std::vector<TaskArg> &args,
                                  const ActorCreationOptions &create_options) = 0;

  /// Calls an actor method; never waits for the cluster.
  /// \return The id of its return object (one reference, adopted by the caller).
  virtual std::string CallActor(const RemoteFunctionHolder &remote_function_holder,
                                const std::string &actor_id, std::vector<TaskArg> &args,
                                const CallOptions &call_options) = 0;

  /// Counts one more holder of an object (a copied ObjectRef).
  virtual void AddLocalReference(const std::string &id) = 0;

  /// Drops one holder of an object.
  virtual void RemoveLocalReference(const std::string &id) = 0;

  /// \return The id of the live actor named actor_name, or "" when there is none.
  virtual std::string GetActorId(const std::string &actor_name,
                                 const std::string &ray_namespace) = 0;

  /// Kills an actor.
  virtual void KillActor(const std::string &actor_id, bool no_restart) = 0;

  /// Ends the current actor after the running call (only inside a C++ actor).
  virtual void ExitActor() = 0;

  /// \return The namespace of the session.
  virtual std::string GetNamespace() = 0;

  /// \return True for upstream's single-process mode (never, here).
  virtual bool IsLocalMode() { return false; }

  /// \return The bytes an ActorHandle is sent as.
  virtual std::string SerializeActorHandle(const std::string &actor_id) { return actor_id; }

  /// \return The actor id of handle bytes made by SerializeActorHandle.
  virtual std::string DeserializeAndRegisterActorHandle(const std::string &serialized) {
    return serialized;
  }

  /// \return Whether the current actor was restarted (false outside an actor).
  virtual bool WasCurrentActorRestarted() { return false; }
};

}  // namespace internal
}  // namespace ray
