#pragma once

/// \file
/// `ray::WaitResult<T>`: what `ray::Wait` returns.

#include <ray/api/object_ref.h>

#include <list>

namespace ray {

/// The refs that were ready and those that were not, each in the order they were given.
/// \param T The type of the objects.
template <typename T>
class WaitResult {
 public:
  /// The ready objects.
  std::list<ObjectRef<T>> ready;
  /// The objects not ready yet.
  std::list<ObjectRef<T>> unready;

  WaitResult() {}
  WaitResult(std::list<ObjectRef<T>> &&ready_objects, std::list<ObjectRef<T>> &&unready_objects)
      : ready(std::move(ready_objects)), unready(std::move(unready_objects)) {}
};

}  // namespace ray
