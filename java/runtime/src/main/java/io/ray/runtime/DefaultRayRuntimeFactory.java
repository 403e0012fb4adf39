package io.ray.runtime;

import io.ray.api.runtime.RayRuntime;
import io.ray.api.runtime.RayRuntimeFactory;
import io.ray.runtime.config.RayConfig;

/** The factory {@code Ray.init()} loads by name: a runtime over the cluster's client gateway. */
public class DefaultRayRuntimeFactory implements RayRuntimeFactory {

  /** Creates the factory (by reflection, from {@code Ray.init()}). */
  public DefaultRayRuntimeFactory() {}

  /**
   * Reads the configuration of this JVM and starts a runtime.
   *
   * @return The runtime.
   */
  @Override
  public RayRuntime createRayRuntime() {
    return GatewayRuntime.start(RayConfig.fromSystem(), System.getenv());
  }
}
