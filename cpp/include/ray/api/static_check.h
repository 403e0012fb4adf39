#pragma once

/// \file
/// Compile-time checks that `Remote(...)` arguments fit the function.

#include <ray/api/object_ref.h>

#include <boost/callable_traits.hpp>
#include <type_traits>

namespace ray {
namespace internal {

template <typename T>
struct FilterArgType {
  using type = T;
};
template <typename T>
struct FilterArgType<ObjectRef<T>> {
  using type = T;
};
template <typename T>
struct FilterArgType<ObjectRef<T> &> {
  using type = T;
};
template <typename T>
struct FilterArgType<ObjectRef<T> &&> {
  using type = T;
};
template <typename T>
struct FilterArgType<const ObjectRef<T> &> {
  using type = T;
};

/// Fails to compile when `Function` cannot take `Args` (an ObjectRef<T> counts as a T).
template <typename Function, typename... Args>
inline void StaticCheck() {
  if constexpr (std::is_member_function_pointer_v<Function>) {
    using ActorType = boost::callable_traits::class_of_t<Function>;
    static_assert(std::is_invocable_v<Function, ActorType &, typename FilterArgType<Args>::type...> ||
                      std::is_invocable_v<Function, ActorType &, Args...>,
                  "arguments do not match the actor method's parameters");
  } else {
    static_assert(std::is_invocable_v<Function, typename FilterArgType<Args>::type...> ||
                      std::is_invocable_v<Function, Args...>,
                  "arguments do not match the function's parameters");
  }
}

}  // namespace internal
}  // namespace ray
