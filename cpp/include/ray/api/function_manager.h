#pragma once

/// \file
/// The registry of RAY_REMOTE functions, actor factories and actor methods, and the invokers
/// that run them from argument frames.
///
/// The registry lives in libray_api.so (one per process). Each entry records the module (the
/// executable or shared library) whose RAY_REMOTE registered it, so that the C entry point of
/// a library runs that library's functions (entry_point.h). A driver finds the name of a
/// function or method by its address (`GetFunctionName`), since names are what travel.

#include <ray/api/common_types.h>
#include <ray/api/ray_exception.h>
#include <ray/api/serializer.h>
#include <ray/api/type_traits.h>

#include <boost/callable_traits.hpp>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace ray {
namespace internal {

/// A C++ actor instance made by a registered factory.
struct ActorInstance {
  /// The object the factory returned.
  void *self = nullptr;
  /// Its dynamic type as the factory declared it.
  const std::type_info *type = nullptr;
  /// Deletes `self`.
  void (*destroy)(void *self) = nullptr;
  /// Throws `self` as a pointer of its declared type (so a base-class method finds its base).
  void (*throw_self)(void *self) = nullptr;
  /// Readable name of the type.
  std::string type_name;
};

/// Argument frames of one call (views, valid during the call).
using ArgFrames = std::vector<std::string_view>;
/// Runs a function; returns its result frame; ids inside the result go to the vector.
using FunctionInvoker = std::function<std::string(const ArgFrames &, std::vector<std::string> *)>;
/// Runs a factory; returns a new actor instance (owned by the caller).
using FactoryInvoker = std::function<ActorInstance *(const ArgFrames &)>;
/// Runs a method on an actor instance.
using MethodInvoker =
    std::function<std::string(ActorInstance *, const ArgFrames &, std::vector<std::string> *)>;

/// What a registered name is.
enum class RemoteKind { kFunction, kFactory, kMethod };

/// One registered name.
struct RemoteEntry {
  RemoteKind kind;
  std::string name;
  const void *module;
  FunctionInvoker function;
  FactoryInvoker factory;
  MethodInvoker method;
  /// Factories: the actor type; methods: the class.
  std::string class_name;
};

/// The process's registry (implemented in libray_api.so).
class RAY_EXPORT FunctionRegistry {
 public:
  static FunctionRegistry &Instance();

  /// Registers an entry under its module; a duplicate name within a module is recorded as an
  /// error (see Errors) and ignored. `key` identifies the function by address for lookups.
  void Register(RemoteEntry entry, std::string key);

  /// \return The name registered for a function, factory or method key, or "".
  std::string NameOf(const std::string &key) const;

  /// \return The entry of `name` in `module`, else the only module's entry of that name, or
  /// nullptr.
  const RemoteEntry *Find(const void *module, RemoteKind kind, const std::string &name) const;

  /// \return "kind\tname\tclass" lines of the module's entries.
  std::vector<std::string> List(const void *module) const;

  /// \return Registration errors of the module (all modules when `module` is nullptr).
  std::vector<std::string> Errors(const void *module) const;

  /// Records a registration error.
  void AddError(const void *module, std::string error);

 private:
  FunctionRegistry() = default;
  struct Impl;
  Impl &impl() const;
};

/// Splits the stringified arguments of RAY_REMOTE into names at top-level commas.
RAY_EXPORT std::vector<std::string> SplitRemoteNames(std::string_view text);

/// The lookup key of a function or member function: its type's name and its bytes.
template <typename F>
std::string FunctionKey(const F &f) {
  std::string key = typeid(F).name();
  key.push_back('\0');
  char bytes[sizeof(F)];
  std::memcpy(bytes, &f, sizeof(F));
  key.append(bytes, sizeof(F));
  return key;
}

/// Chooses one overload: `RAY_FUNC(f, int, int)` is `f` taking (int, int).
template <typename... Args, typename R>
auto underload(R (*f)(Args...)) -> R (*)(Args...) {
  return f;
}
template <typename... Args, typename R, typename C>
auto underload(R (C::*f)(Args...)) -> R (C::*)(Args...) {
  return f;
}
template <typename... Args, typename R, typename C>
auto underload(R (C::*f)(Args...) const) -> R (C::*)(Args...) const {
  return f;
}

/// \return The registered name of a function or member function, or "" if not registered.
template <typename F>
std::string GetFunctionName(const F &f) {
  return FunctionRegistry::Instance().NameOf(FunctionKey(f));
}

/// Holds each id once more in the current session (a worker's C++ code): the refs inside a
/// result stay alive after the values that held them are destroyed, until the worker releases
/// them (ray_cpp_release_contained). No-op without a runtime.
RAY_EXPORT void HoldReturnedReferences(const std::vector<std::string> &ids);

/// Registers the functions of one RAY_REMOTE(...) line (called from the macro).
template <typename... F>
int RegisterRemoteFunctions(const void *module, const char *names, F... functions);

// ---- inline implementation ----

/// Reads argument `index` of a call into *out, naming the call in errors.
template <typename T>
void DecodeArgument(std::string_view frame, T *out, size_t index, const std::string &callee) {
  try {
    Serializer::DeserializeTo(frame, out);
  } catch (const RayTaskException &) {
    throw;
  } catch (const RayException &e) {
    throw RayException("argument " + std::to_string(index) + " of " + callee + ": " + e.what());
  }
}

template <typename Tuple, size_t... I>
Tuple DecodeArguments(const ArgFrames &frames, const std::string &callee,
                      std::index_sequence<I...>) {
  if (frames.size() != sizeof...(I)) {
    throw RayException(callee + " takes " + std::to_string(sizeof...(I)) + " arguments, got " +
                       std::to_string(frames.size()));
  }
  Tuple args{};
  (DecodeArgument(frames[I], &std::get<I>(args), I, callee), ...);
  (void)frames;
  return args;
}

template <typename R>
std::string EncodeResult(R &&result, std::vector<std::string> *contained) {
  using D = std::decay_t<R>;
  std::string frame = Serializer::Serialize<D>(result, contained);
  // While `result` (and the refs in it) still lives.
  if (contained != nullptr) HoldReturnedReferences(*contained);
  return frame;
}

inline std::string EncodeVoidResult() { return EncodeXlang(XlangValue::Null()); }

template <typename F>
FunctionInvoker MakeFunctionInvoker(F f, std::string name) {
  return [f, name](const ArgFrames &frames, std::vector<std::string> *contained) {
    using Args = RemoveReference_t<boost::callable_traits::args_t<F>>;
    using R = boost::callable_traits::return_type_t<F>;
    Args args = DecodeArguments<Args>(frames, name,
                                      std::make_index_sequence<std::tuple_size_v<Args>>{});
    if constexpr (std::is_void_v<R>) {
      std::apply(f, std::move(args));
      return EncodeVoidResult();
    } else {
      return EncodeResult(std::apply(f, std::move(args)), contained);
    }
  };
}

template <typename F>
FactoryInvoker MakeFactoryInvoker(F f, std::string name) {
  return [f, name](const ArgFrames &frames) -> ActorInstance * {
    using Args = RemoveReference_t<boost::callable_traits::args_t<F>>;
    using Actor = std::remove_pointer_t<boost::callable_traits::return_type_t<F>>;
    Args args = DecodeArguments<Args>(frames, name,
                                      std::make_index_sequence<std::tuple_size_v<Args>>{});
    Actor *self = std::apply(f, std::move(args));
    if (self == nullptr) {
      throw RayException("the actor factory " + name + " returned nullptr");
    }
    auto *instance = new ActorInstance();
    instance->self = self;
    instance->type = &typeid(Actor);
    instance->destroy = [](void *p) { delete static_cast<Actor *>(p); };
    instance->throw_self = [](void *p) { throw static_cast<Actor *>(p); };
    instance->type_name = TypeName<Actor>();
    return instance;
  };
}

/// \return The instance as a C*, if its type is C or derives from C.
template <typename C>
C *CastActor(ActorInstance *instance, const std::string &method) {
  if (*instance->type == typeid(C)) {
    return static_cast<C *>(instance->self);
  }
  try {
    instance->throw_self(instance->self);
  } catch (C *self) {
    return self;
  } catch (...) {
  }
  throw RayException("the method " + method + " of " + TypeName<C>() +
                     " was called on an actor of type " + instance->type_name);
}

template <typename F>
MethodInvoker MakeMethodInvoker(F f, std::string name) {
  return [f, name](ActorInstance *instance, const ArgFrames &frames,
                   std::vector<std::string> *contained) {
    using C = boost::callable_traits::class_of_t<F>;
    using Args = RemoveReference_t<RemoveFirst_t<boost::callable_traits::args_t<F>>>;
    using R = boost::callable_traits::return_type_t<F>;
    C *self = CastActor<C>(instance, name);
    Args args = DecodeArguments<Args>(frames, name,
                                      std::make_index_sequence<std::tuple_size_v<Args>>{});
    auto call = [&](auto &&...a) -> decltype(auto) { return (self->*f)(a...); };
    if constexpr (std::is_void_v<R>) {
      std::apply(call, std::move(args));
      return EncodeVoidResult();
    } else {
      return EncodeResult(std::apply(call, std::move(args)), contained);
    }
  };
}

template <typename F>
void RegisterOne(const void *module, const std::string &name, F f) {
  RemoteEntry entry;
  entry.name = name;
  entry.module = module;
  if constexpr (std::is_member_function_pointer_v<F>) {
    using C = boost::callable_traits::class_of_t<F>;
    entry.kind = RemoteKind::kMethod;
    entry.method = MakeMethodInvoker(f, name);
    entry.class_name = TypeName<C>();
    FunctionRegistry::Instance().Register(std::move(entry), FunctionKey(f));
  } else {
    static_assert(std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>,
                  "RAY_REMOTE takes functions, actor factories and member functions");
    using R = boost::callable_traits::return_type_t<F>;
    if constexpr (std::is_pointer_v<R> && std::is_class_v<std::remove_pointer_t<R>>) {
      entry.kind = RemoteKind::kFactory;
      entry.factory = MakeFactoryInvoker(f, name);
      entry.class_name = TypeName<std::remove_pointer_t<R>>();
    } else {
      entry.kind = RemoteKind::kFunction;
      entry.function = MakeFunctionInvoker(f, name);
    }
    FunctionRegistry::Instance().Register(std::move(entry), FunctionKey(f));
  }
}

template <typename... F>
int RegisterRemoteFunctions(const void *module, const char *names, F... functions) {
  std::vector<std::string> split = SplitRemoteNames(names);
  if (split.size() != sizeof...(F)) {
    FunctionRegistry::Instance().AddError(
        module, std::string("RAY_REMOTE(") + names + "): could not split the names");
    return 0;
  }
  size_t index = 0;
  (RegisterOne(module, split[index++], functions), ...);
  return 0;
}

}  // namespace internal
}  // namespace ray
