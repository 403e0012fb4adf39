package io.ray.runtime.gateway;

import io.ray.api.exception.RayException;
import io.ray.api.options.ActorCreationOptions;
import io.ray.api.options.ActorLifetime;
import io.ray.api.options.CallOptions;
import io.ray.rpc.ActorOptions;
import io.ray.rpc.TaskOptions;
import java.util.logging.Logger;

/** Maps {@code io.ray.api.options} to the option messages of client_gateway.proto. */
public final class ProtoOptions {
  private static final Logger LOG = Logger.getLogger(ProtoOptions.class.getName());

  private ProtoOptions() {}

  /**
   * Maps the options of a task.
   *
   * @param options The caller's options.
   * @param numReturns 0 for a function that returns nothing, else 1.
   * @return The proto options.
   */
  public static TaskOptions taskOptions(CallOptions options, int numReturns) {
    TaskOptions.Builder b =
        TaskOptions.newBuilder().putAllResources(options.getResources()).setNumReturns(numReturns);
    if (options.getName() != null) {
      b.setName(options.getName());
    }
    return b.build();
  }

  /**
   * Maps the options of actor creation.
   *
   * @param options The creator's options.
   * @return The proto options.
   * @throws RayException For an option the gateway has no field for yet (per-actor JVM options).
   */
  public static ActorOptions actorOptions(ActorCreationOptions options) {
    if (!options.getJvmOptions().isEmpty()) {
      throw new RayException(
          "Per-actor JVM options (setJvmOptions) are not supported yet: the client gateway has no"
              + " field for them. Set the job's JVM options with -Dray.job.jvm-options.0=... .");
    }
    if (options.getMaxPendingCalls() != -1) {
      LOG.fine("maxPendingCalls is not enforced by this runtime yet");
    }
    ActorOptions.Builder b =
        ActorOptions.newBuilder()
            .putAllResources(options.getResources())
            .setDetached(options.getLifetime() == ActorLifetime.DETACHED)
            .setMaxRestarts(options.getMaxRestarts())
            .setMaxTaskRetries(options.getMaxTaskRetries())
            .setMaxConcurrency(options.getMaxConcurrency());
    if (options.getName() != null) {
      b.setName(options.getName());
    }
    if (options.getNamespace() != null) {
      b.setRayNamespace(options.getNamespace());
    }
    return b.build();
  }
}
