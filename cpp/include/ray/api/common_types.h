#pragma once

/// \file
/// Small types shared by the public headers: the export macro and the internal task argument.

#include <optional>
#include <string>
#include <vector>

/// Marks a symbol of libray_api.so that user code calls (the library hides everything else).
#define RAY_EXPORT __attribute__((visibility("default")))

namespace ray {
namespace internal {

/// One argument of a task, actor creation or actor call, as the runtime submits it.
///
/// Exactly one of `frame` (passed by value: a whole object frame, tests/xlang/README.md) and
/// `object_id` (passed by reference: the executor fetches the object first) is set.
struct TaskArg {
  /// The framed value, when passed by value.
  std::optional<std::string> frame;
  /// The binary object id, when passed by reference.
  std::optional<std::string> object_id;
  /// Ids of objects referenced inside `frame` (the executor becomes a borrower).
  std::vector<std::string> nested_ids;
  /// True when the runtime must release one reference to `object_id` once the task is
  /// submitted (a large argument the caller put on the task's behalf).
  bool release_after_submit = false;
};

}  // namespace internal
}  // namespace ray
