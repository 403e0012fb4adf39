#pragma once

/// \file
/// RAY_REMOTE: registers functions, actor factories and actor methods so that they can run
/// on the cluster, and makes the including library export the C entry point (entry_point.h).
///
/// \code
///   int Plus(int a, int b) { return a + b; }
///   class Counter {
///    public:
///     static Counter *FactoryCreate(int start) { return new Counter(start); }
///     int Add(int x) { return value_ += x; }
///     ...
///   };
///   RAY_REMOTE(Plus, Counter::FactoryCreate, &Counter::Add);
/// \endcode
/// Use it at namespace scope, in the program and in the library on the code search path
/// (usually the same source file built into both). A name is the spelling given to the macro;
/// an overloaded function is named with RAY_FUNC(f, argument types...).

#include <ray/api/entry_point.h>
#include <ray/api/function_manager.h>

#define RAY_INTERNAL_CONCAT_DIRECT(a, b) a##b
#define RAY_INTERNAL_CONCAT(a, b) RAY_INTERNAL_CONCAT_DIRECT(a, b)

/// Registers the given functions, factories (functions returning a pointer to the actor) and
/// member functions under the names they are spelled with.
#define RAY_REMOTE(...)                                                                    \
  [[maybe_unused]] static const int RAY_INTERNAL_CONCAT(ray_remote_registration_,          \
                                                        __COUNTER__) =                      \
      ::ray::internal::RegisterRemoteFunctions(&::ray::internal::ray_module_tag,            \
                                               #__VA_ARGS__, __VA_ARGS__);

/// Names one overload of an overloaded function: RAY_FUNC(f, int, double).
#define RAY_FUNC(f, ...) ray::internal::underload<__VA_ARGS__>(f)
