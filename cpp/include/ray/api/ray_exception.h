#pragma once

/// \file
/// The exceptions of the Ray C++ API. As upstream, they live in `ray::internal`.
///
/// Every exception raised for a failed remote value carries what the cluster reported: the
/// remote exception type (`RemoteType()`, e.g. "builtins.ValueError"), the message and the
/// remote traceback (`Traceback()`). `what()` holds the whole text.

#include <ray/api/common_types.h>

#include <exception>
#include <string>
#include <utility>

namespace ray {
namespace internal {

/// The base of every Ray C++ API exception.
class RAY_EXPORT RayException : public std::exception {
 public:
  /// \param[in] msg The message (`what()`).
  RayException(const std::string &msg) : msg_(msg) {}

  /// \param[in] msg The message from the remote side.
  /// \param[in] remote_type Qualified type of the original exception ("" if none).
  /// \param[in] traceback The remote traceback ("" if none).
  RayException(const std::string &msg, std::string remote_type, std::string traceback)
      : msg_(msg), remote_type_(std::move(remote_type)), traceback_(std::move(traceback)) {
    if (!traceback_.empty()) {
      msg_ += "\n" + traceback_;
    }
  }

  const char *what() const noexcept override { return msg_.c_str(); }

  /// \return The qualified type of the remote exception, e.g. "builtins.ValueError".
  const std::string &RemoteType() const { return remote_type_; }

  /// \return The remote traceback, in the language that raised it.
  const std::string &Traceback() const { return traceback_; }

  /// The whole message (kept public, as upstream).
  std::string msg_;

 private:
  std::string remote_type_;
  std::string traceback_;
};

/// The actor died, could not be created, or was not available for the call.
class RAY_EXPORT RayActorException : public RayException {
 public:
  using RayException::RayException;
};

/// User code raised an exception while running the task.
class RAY_EXPORT RayTaskException : public RayException {
 public:
  using RayException::RayException;
};

/// The worker process died while running the task.
class RAY_EXPORT RayWorkerException : public RayException {
 public:
  using RayException::RayException;
};

/// The object was lost (every copy, or its owner) and cannot be rebuilt.
class RAY_EXPORT UnreconstructableException : public RayException {
 public:
  using RayException::RayException;
};

/// A function or actor factory was not registered with RAY_REMOTE.
class RAY_EXPORT RayFunctionNotFound : public RayException {
 public:
  using RayException::RayException;
};

/// The runtime environment could not be set up.
class RAY_EXPORT RayRuntimeEnvException : public RayException {
 public:
  using RayException::RayException;
};

/// A `Get` or `Wait` did not finish within its timeout.
class RAY_EXPORT RayTimeoutException : public RayException {
 public:
  using RayException::RayException;
};

/// The task was cancelled before it finished.
class RAY_EXPORT RayTaskCancelledException : public RayTaskException {
 public:
  using RayTaskException::RayTaskException;
};

/// The object store could not hold the object, even after spilling.
class RAY_EXPORT RayObjectStoreFullException : public RayException {
 public:
  using RayException::RayException;
};

/// Thrown by `ray::ExitActor()` inside an actor method: the actor exits after the call.
class RAY_EXPORT RayIntentionalSystemExitException : public RayException {
 public:
  using RayException::RayException;
};

}  // namespace internal
}  // namespace ray
