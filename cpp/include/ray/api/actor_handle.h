#pragma once

/// \file
/// `ray::ActorHandle<T>`: a handle to a running actor; `ray::ActorHandleXlang` for Python and
/// Java actors.

#include <ray/api/actor_task_caller.h>
#include <ray/api/function_manager.h>
#include <ray/api/ray_runtime_holder.h>
#include <ray/api/xlang_function.h>

#include <boost/callable_traits.hpp>
#include <msgpack.hpp>
#include <string>
#include <type_traits>

namespace ray {

/// A handle to an actor: call its methods with `Task(&ActorType::Method).Remote(args...)`.
/// Handles are plain values (copy them freely, pass them to tasks); the actor lives until it is
/// killed or, unless detached, until the driver's session ends.
/// \param ActorType The C++ class of the actor (void for a cross-language actor).
template <typename ActorType, bool IsXlang = false>
class ActorHandle {
 public:
  ActorHandle() = default;

  /// \param[in] id The binary actor id.
  ActorHandle(const std::string &id) : id_(id) {}

  /// Marks the type for the API's templates.
  static bool IsActorHandle() { return true; }

  /// \return The binary actor id.
  const std::string &ID() const { return id_; }

  /// Prepares a call of a RAY_REMOTE member function of the actor.
  /// \param[in] actor_func e.g. `&Counter::Add`.
  template <typename F>
  ray::internal::ActorTaskCaller<F> Task(F actor_func) {
    static_assert(!IsXlang && !ray::internal::is_x_lang_v<F>,
                  "a Python or Java actor's methods are called with PyActorMethod / "
                  "JavaActorMethod");
    static_assert(std::is_member_function_pointer_v<F>,
                  "Task(...) of an actor handle takes a member function of the actor class");
    using Self = boost::callable_traits::class_of_t<F>;
    static_assert(std::is_same_v<ActorType, Self> || std::is_base_of_v<Self, ActorType>,
                  "the method belongs to another class than the actor's");
    ray::internal::RemoteFunctionHolder holder(ray::internal::GetFunctionName(actor_func));
    holder.class_name = ray::internal::TypeName<ActorType>();
    return ray::internal::ActorTaskCaller<F>(ray::internal::GetRayRuntime().get(), id_,
                                             std::move(holder));
  }

  /// Prepares a call of a Python actor's method.
  template <typename R>
  ray::internal::ActorTaskCaller<PyActorMethod<R>> Task(PyActorMethod<R> func) {
    static_assert(IsXlang, "PyActorMethod calls a method of a Python actor (ActorHandleXlang)");
    ray::internal::RemoteFunctionHolder holder("", func.function_name, "",
                                               ray::internal::LangType::PYTHON);
    return {ray::internal::GetRayRuntime().get(), id_, std::move(holder)};
  }

  /// Prepares a call of a Java actor's method.
  template <typename R>
  ray::internal::ActorTaskCaller<JavaActorMethod<R>> Task(JavaActorMethod<R> func) {
    static_assert(IsXlang, "JavaActorMethod calls a method of a Java actor (ActorHandleXlang)");
    ray::internal::RemoteFunctionHolder holder("", func.function_name, "",
                                               ray::internal::LangType::JAVA);
    return {ray::internal::GetRayRuntime().get(), id_, std::move(holder)};
  }

  /// Kills the actor; it is not restarted.
  void Kill() { Kill(true); }

  /// Kills the actor.
  /// \param[in] no_restart False lets it restart under its max_restarts.
  void Kill(bool no_restart) { ray::internal::GetRayRuntime()->KillActor(id_, no_restart); }

  /// \return The handle of serialized handle bytes.
  static ActorHandle FromBytes(const std::string &serialized_actor_handle) {
    return ActorHandle(
        ray::internal::GetRayRuntime()->DeserializeAndRegisterActorHandle(serialized_actor_handle));
  }

  bool operator==(const ActorHandle &other) const { return id_ == other.id_; }

  /// Makes handles serializable (they travel as their id).
  MSGPACK_DEFINE(id_);

 private:
  std::string id_;
};

/// A handle to a Python or Java actor.
typedef ActorHandle<void, true> ActorHandleXlang;

}  // namespace ray
