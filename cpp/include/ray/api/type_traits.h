#pragma once

/// \file
/// Compile-time helpers of the API templates.

#include <tuple>
#include <type_traits>
#include <utility>

namespace ray {
namespace internal {

template <typename>
struct RemoveFirst;

template <class First, class... Rest>
struct RemoveFirst<std::tuple<First, Rest...>> {
  using type = std::tuple<Rest...>;
};

/// The tuple without its first element (the `this` of a member function's arguments).
template <class Tuple>
using RemoveFirst_t = typename RemoveFirst<Tuple>::type;

template <typename>
struct RemoveReference;

template <class... T>
struct RemoveReference<std::tuple<T...>> {
  using type = std::tuple<std::remove_const_t<std::remove_reference_t<T>>...>;
};

/// The tuple of decayed (no const, no reference) element types.
template <class Tuple>
using RemoveReference_t = typename RemoveReference<Tuple>::type;

template <class, class = void>
struct is_object_ref_t : std::false_type {};

template <class T>
struct is_object_ref_t<T, std::void_t<decltype(std::declval<T>().IsObjectRef())>>
    : std::true_type {};

/// True for `ray::ObjectRef<T>` (any cv/ref qualification is removed first).
template <typename T>
auto constexpr is_object_ref_v = is_object_ref_t<std::decay_t<T>>::value;

template <class, class = void>
struct is_actor_handle_t : std::false_type {};

template <class T>
struct is_actor_handle_t<T, std::void_t<decltype(std::declval<T>().IsActorHandle())>>
    : std::true_type {};

/// True for `ray::ActorHandle<T>`.
template <typename T>
auto constexpr is_actor_handle_v = is_actor_handle_t<std::decay_t<T>>::value;

template <class, class = void>
struct is_python_t : std::false_type {};

template <class T>
struct is_python_t<T, std::void_t<decltype(std::declval<T>().IsPython())>>
    : std::true_type {};

/// True for the Python descriptors (`PyFunction`, `PyActorClass`, `PyActorMethod`).
template <typename T>
auto constexpr is_python_v = is_python_t<T>::value;

template <class, class = void>
struct is_java_t : std::false_type {};

template <class T>
struct is_java_t<T, std::void_t<decltype(std::declval<T>().IsJava())>> : std::true_type {};

/// True for the Java descriptors.
template <typename T>
auto constexpr is_java_v = is_java_t<T>::value;

/// True for any cross-language descriptor.
template <typename T>
auto constexpr is_x_lang_v = is_java_v<T> || is_python_v<T>;

/// Makes a dependent `false` for static_assert in templates.
template <typename T>
inline constexpr bool kAlwaysFalse = false;

}  // namespace internal
}  // namespace ray
