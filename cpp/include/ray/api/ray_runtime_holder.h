#pragma once

/// \file
/// Access to the process's runtime (set by `ray::Init` in a driver, by the C entry point's
/// `ray_cpp_init` in a worker).

#include <ray/api/common_types.h>
#include <ray/api/ray_runtime.h>

#include <memory>

namespace ray {
namespace internal {

/// \return The runtime, or nullptr before `ray::Init` / after `ray::Shutdown`.
RAY_EXPORT std::shared_ptr<RayRuntime> GetRayRuntimeOrNull();

/// \return The runtime.
/// \throws RayException when Ray is not initialized.
RAY_EXPORT std::shared_ptr<RayRuntime> GetRayRuntime();

/// Throws RayIntentionalSystemExitException inside a C++ actor method (run through the C entry
/// point), RayException elsewhere.
[[noreturn]] RAY_EXPORT void ExitCurrentActor();

/// Installs a runtime (tests install their own; nullptr uninstalls).
RAY_EXPORT void SetRayRuntime(std::shared_ptr<RayRuntime> runtime);

}  // namespace internal
}  // namespace ray
