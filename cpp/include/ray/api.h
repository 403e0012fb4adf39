#pragma once

/// \file
/// The Ray C++ API (source compatible with upstream Ray's `ray/api.h`).
///
/// \code
///   #include <ray/api.h>
///
///   int Plus(int a, int b) { return a + b; }
///   RAY_REMOTE(Plus);
///
///   int main(int argc, char **argv) {
///     ray::RayConfig config;
///     ray::Init(config, argc, argv);
///     auto ref = ray::Task(Plus).Remote(1, 2);
///     int three = *ref.Get();
///     ray::Shutdown();
///   }
/// \endcode
///
/// Build: `g++ -std=c++17 -I$INC main.cc -L$LIB -lray_api -Wl,-rpath,$LIB` where INC and LIB
/// are the `include` and `lib` directories printed by `ray cpp --show-library-path`.

#include <ray/api/actor_creator.h>
#include <ray/api/actor_handle.h>
#include <ray/api/actor_task_caller.h>
#include <ray/api/object_ref.h>
#include <ray/api/ray_config.h>
#include <ray/api/ray_exception.h>
#include <ray/api/ray_remote.h>
#include <ray/api/ray_runtime.h>
#include <ray/api/ray_runtime_holder.h>
#include <ray/api/task_caller.h>
#include <ray/api/wait_result.h>
#include <ray/api/xlang_function.h>

#include <boost/callable_traits.hpp>
#include <boost/optional.hpp>
#include <list>
#include <memory>
#include <msgpack.hpp>
#include <string>
#include <vector>

namespace ray {

/// Initializes Ray with a config.
///
/// Where it connects: `config.address`, else env `RAY_ADDRESS`; "auto" is the cluster `ray
/// start` recorded on this machine. With neither, Init starts a local cluster (`ray start
/// --head --port 0 --block`, stopped by Shutdown or when this process dies). The cluster token
/// comes from env `RAY_CLUSTER_TOKEN`, else from the record `ray start` keeps on this machine.
/// \throws RayException when the cluster cannot be reached or refuses the session.
RAY_EXPORT void Init(ray::RayConfig &config);

/// Initializes Ray with a config and command-line flags, which override the config:
/// `--ray_address=HOST:PORT`, `--ray_code_search_path=DIR:DIR`, `--ray_node_ip_address=IP`,
/// `--ray_job_namespace=NS` (also `--flag value`). Other arguments are left alone.
RAY_EXPORT void Init(ray::RayConfig &config, int argc, char **argv);

/// Initializes Ray with the default config (see Init(config)).
RAY_EXPORT void Init();

/// \return True between Init and Shutdown.
RAY_EXPORT bool IsInitialized();

/// Ends the session (its non-detached actors die, its objects are freed) and stops the local
/// cluster Init started, if any. Safe to call when not initialized.
RAY_EXPORT void Shutdown();

/// Stores an object in the object store.
/// \param[in] obj The value (see serializer.h for how types travel).
/// \return A reference to the stored object.
template <typename T>
ray::ObjectRef<T> Put(const T &obj);

/// Gets one object, waiting until it is ready.
/// \return The value.
template <typename T>
std::shared_ptr<T> Get(const ray::ObjectRef<T> &object);

/// Gets one object, waiting at most timeout_ms (negative: as long as needed).
/// \throws RayTimeoutException when it is not ready in time.
template <typename T>
std::shared_ptr<T> Get(const ray::ObjectRef<T> &object, int timeout_ms);

/// Gets many objects with one request, waiting until all are ready.
/// \return The values, in order.
template <typename T>
std::vector<std::shared_ptr<T>> Get(const std::vector<ray::ObjectRef<T>> &objects);

/// Gets many objects with one request, waiting at most timeout_ms.
template <typename T>
std::vector<std::shared_ptr<T>> Get(const std::vector<ray::ObjectRef<T>> &objects,
                                    int timeout_ms);

/// Waits until num_objects of the objects are ready, or timeout_ms passes.
/// \param[in] objects The refs.
/// \param[in] num_objects How many to wait for (1..objects.size()).
/// \param[in] timeout_ms Milliseconds; negative waits as long as needed.
/// \return The ready refs and the others, each in the given order.
template <typename T>
WaitResult<T> Wait(const std::vector<ray::ObjectRef<T>> &objects, int num_objects,
                   int timeout_ms);

/// Prepares a task of a RAY_REMOTE function: `ray::Task(Plus).Remote(1, 2)`.
template <typename F>
ray::internal::TaskCaller<F> Task(F func);

/// Prepares a task of a Python function.
template <typename R>
ray::internal::TaskCaller<PyFunction<R>> Task(PyFunction<R> func);

/// Prepares a task of a static Java method.
template <typename R>
ray::internal::TaskCaller<JavaFunction<R>> Task(JavaFunction<R> func);

/// Prepares the creation of a C++ actor by its RAY_REMOTE factory:
/// `ray::Actor(Counter::FactoryCreate).Remote(0)`.
template <typename F>
ray::internal::ActorCreator<F> Actor(F create_func);

/// Prepares the creation of a Python actor.
ray::internal::ActorCreator<PyActorClass> Actor(PyActorClass func);

/// Prepares the creation of a Java actor.
ray::internal::ActorCreator<JavaActorClass> Actor(JavaActorClass func);

/// Gets a handle to the live actor named actor_name in the job's namespace.
/// \return The handle, or an empty optional when there is none.
template <typename T>
boost::optional<ActorHandle<T>> GetActor(const std::string &actor_name);

/// Gets a handle to the live actor named actor_name in ray_namespace.
template <typename T>
boost::optional<ActorHandle<T>> GetActor(const std::string &actor_name,
                                         const std::string &ray_namespace);

/// Ends the current C++ actor after the running method returns (it throws
/// RayIntentionalSystemExitException, which the worker's entry point turns into an exit).
/// \throws RayException outside a C++ actor method.
inline void ExitActor() { ray::internal::ExitCurrentActor(); }

/// \return Whether the current actor was restarted (false outside an actor).
inline bool WasCurrentActorRestarted() {
  return ray::internal::GetRayRuntime()->WasCurrentActorRestarted();
}

/// Placement groups: declared for source compatibility; the client gateway has none yet, so
/// these throw RayException.
RAY_EXPORT PlacementGroup CreatePlacementGroup(
    const ray::PlacementGroupCreationOptions &create_options);
RAY_EXPORT void RemovePlacementGroup(const std::string &placement_group_id);
RAY_EXPORT std::vector<PlacementGroup> GetAllPlacementGroups();
RAY_EXPORT PlacementGroup GetPlacementGroupById(const std::string &id);
RAY_EXPORT PlacementGroup GetPlacementGroup(const std::string &name);

// ---- inline implementation ----

namespace internal {

template <typename T>
std::vector<std::string> ObjectRefsToObjectIDs(const std::vector<ray::ObjectRef<T>> &refs) {
  std::vector<std::string> ids;
  ids.reserve(refs.size());
  for (const auto &ref : refs) {
    ids.push_back(ref.ID());
  }
  return ids;
}

}  // namespace internal

template <typename T>
inline ray::ObjectRef<T> Put(const T &obj) {
  std::vector<std::string> nested;
  std::string frame = ray::internal::Serializer::Serialize(obj, &nested);
  std::string id = ray::internal::GetRayRuntime()->Put(std::move(frame), nested);
  return ray::ObjectRef<T>(std::move(id), ray::internal::AdoptReference{});
}

template <typename T>
inline std::shared_ptr<T> Get(const ray::ObjectRef<T> &object) {
  return object.Get();
}

template <typename T>
inline std::shared_ptr<T> Get(const ray::ObjectRef<T> &object, int timeout_ms) {
  return object.Get(timeout_ms);
}

template <typename T>
inline std::vector<std::shared_ptr<T>> Get(const std::vector<ray::ObjectRef<T>> &objects,
                                           int timeout_ms) {
  auto frames =
      ray::internal::GetRayRuntime()->Get(ray::internal::ObjectRefsToObjectIDs(objects),
                                          timeout_ms);
  std::vector<std::shared_ptr<T>> values;
  values.reserve(frames.size());
  for (const auto &frame : frames) {
    values.push_back(ray::internal::Serializer::Deserialize<T>(frame));
  }
  return values;
}

template <typename T>
inline std::vector<std::shared_ptr<T>> Get(const std::vector<ray::ObjectRef<T>> &objects) {
  return Get(objects, -1);
}

template <typename T>
inline WaitResult<T> Wait(const std::vector<ray::ObjectRef<T>> &objects, int num_objects,
                          int timeout_ms) {
  auto ready = ray::internal::GetRayRuntime()->Wait(ray::internal::ObjectRefsToObjectIDs(objects),
                                                    num_objects, timeout_ms);
  std::list<ray::ObjectRef<T>> ready_refs;
  std::list<ray::ObjectRef<T>> unready_refs;
  for (size_t i = 0; i < objects.size(); ++i) {
    (ready.at(i) ? ready_refs : unready_refs).push_back(objects[i]);
  }
  return WaitResult<T>(std::move(ready_refs), std::move(unready_refs));
}

template <typename F>
inline ray::internal::TaskCaller<F> Task(F func) {
  static_assert(!ray::internal::is_x_lang_v<F>, "use the PyFunction / JavaFunction overloads");
  static_assert(!std::is_member_function_pointer_v<F>,
                "a member function is called through an actor handle: handle.Task(&T::Method)");
  ray::internal::RemoteFunctionHolder holder(ray::internal::GetFunctionName(func));
  return ray::internal::TaskCaller<F>(ray::internal::GetRayRuntime().get(), std::move(holder));
}

template <typename R>
inline ray::internal::TaskCaller<PyFunction<R>> Task(PyFunction<R> func) {
  ray::internal::RemoteFunctionHolder holder(func.module_name, func.function_name, "",
                                             ray::internal::LangType::PYTHON);
  return {ray::internal::GetRayRuntime().get(), std::move(holder)};
}

template <typename R>
inline ray::internal::TaskCaller<JavaFunction<R>> Task(JavaFunction<R> func) {
  ray::internal::RemoteFunctionHolder holder("", func.function_name, func.class_name,
                                             ray::internal::LangType::JAVA);
  return {ray::internal::GetRayRuntime().get(), std::move(holder)};
}

template <typename F>
inline ray::internal::ActorCreator<F> Actor(F create_func) {
  static_assert(!ray::internal::is_x_lang_v<F>, "use the PyActorClass / JavaActorClass overloads");
  ray::internal::RemoteFunctionHolder holder(ray::internal::GetFunctionName(create_func));
  holder.class_name = ray::internal::TypeName<ray::internal::GetActorType<F>>();
  return ray::internal::ActorCreator<F>(ray::internal::GetRayRuntime().get(), std::move(holder));
}

inline ray::internal::ActorCreator<PyActorClass> Actor(PyActorClass func) {
  ray::internal::RemoteFunctionHolder holder(func.module_name, func.function_name,
                                             func.class_name, ray::internal::LangType::PYTHON);
  return {ray::internal::GetRayRuntime().get(), std::move(holder)};
}

inline ray::internal::ActorCreator<JavaActorClass> Actor(JavaActorClass func) {
  ray::internal::RemoteFunctionHolder holder("", func.function_name, func.class_name,
                                             ray::internal::LangType::JAVA);
  return {ray::internal::GetRayRuntime().get(), std::move(holder)};
}

template <typename T>
inline boost::optional<ActorHandle<T>> GetActor(const std::string &actor_name,
                                                const std::string &ray_namespace) {
  if (actor_name.empty()) {
    return {};
  }
  std::string id = ray::internal::GetRayRuntime()->GetActorId(actor_name, ray_namespace);
  if (id.empty()) {
    return {};
  }
  return ActorHandle<T>(id);
}

template <typename T>
inline boost::optional<ActorHandle<T>> GetActor(const std::string &actor_name) {
  return GetActor<T>(actor_name, "");
}

}  // namespace ray
