package io.ray.api.runtime;

/** Makes the runtime behind {@link io.ray.api.Ray}; loaded by class name at {@code Ray.init()}. */
public interface RayRuntimeFactory {

  /**
   * Creates and starts a runtime (connects to or starts a cluster).
   *
   * @return The runtime.
   * @throws io.ray.api.exception.RayException If it cannot start.
   */
  RayRuntime createRayRuntime();
}
