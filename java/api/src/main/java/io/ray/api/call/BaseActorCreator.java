package io.ray.api.call;

import io.ray.api.options.ActorCreationOptions;
import io.ray.api.options.ActorLifetime;
import java.util.Map;

/**
 * Options shared by the creators of actors.
 *
 * @param <T> The concrete creator type, returned by the setters for chaining.
 */
@SuppressWarnings("rawtypes")
public class BaseActorCreator<T extends BaseActorCreator> {
  /** The options being built. */
  protected ActorCreationOptions.Builder builder = new ActorCreationOptions.Builder();

  /**
   * Names the actor, so that {@code Ray.getActor(name)} finds it.
   *
   * @param name The name, unique in the namespace.
   * @return self
   */
  public T setName(String name) {
    builder.setName(name);
    return self();
  }

  /**
   * Sets the actor's lifetime.
   *
   * @param lifetime {@link ActorLifetime#DETACHED} to outlive the job.
   * @return self
   */
  public T setLifetime(ActorLifetime lifetime) {
    builder.setLifetime(lifetime);
    return self();
  }

  /**
   * Asks for an amount of a resource, held for the actor's whole life.
   *
   * @param resourceName The resource's name.
   * @param resourceQuantity The amount.
   * @return self
   */
  public T setResource(String resourceName, Double resourceQuantity) {
    builder.setResource(resourceName, resourceQuantity);
    return self();
  }

  /**
   * Asks for amounts of several resources, held for the actor's whole life.
   *
   * @param resources Resource name to amount.
   * @return self
   */
  public T setResources(Map<String, Double> resources) {
    builder.setResources(resources);
    return self();
  }

  /**
   * Sets how often the actor is restarted when it dies unexpectedly.
   *
   * @param maxRestarts 0 (default) for never, -1 for without limit.
   * @return self
   */
  public T setMaxRestarts(int maxRestarts) {
    builder.setMaxRestarts(maxRestarts);
    return self();
  }

  /**
   * Sets how often a call is retried when the actor dies.
   *
   * @param maxTaskRetries 0 (default) for never, -1 for without limit.
   * @return self
   */
  public T setMaxTaskRetries(int maxTaskRetries) {
    builder.setMaxTaskRetries(maxTaskRetries);
    return self();
  }

  /**
   * Sets how many calls the actor runs at once.
   *
   * @param maxConcurrency At least 1 (the default).
   * @return self
   */
  public T setMaxConcurrency(int maxConcurrency) {
    builder.setMaxConcurrency(maxConcurrency);
    return self();
  }

  /**
   * Limits the calls pending on one handle.
   *
   * @param maxPendingCalls A positive limit, or -1 for none.
   * @return self
   */
  public T setMaxPendingCalls(int maxPendingCalls) {
    builder.setMaxPendingCalls(maxPendingCalls);
    return self();
  }

  @SuppressWarnings("unchecked")
  private T self() {
    return (T) this;
  }

  /**
   * Builds the options set so far.
   *
   * @return The options.
   */
  protected ActorCreationOptions buildOptions() {
    return builder.build();
  }
}
