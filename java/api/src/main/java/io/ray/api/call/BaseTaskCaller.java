package io.ray.api.call;

import io.ray.api.options.CallOptions;
import java.util.Map;

/**
 * Options shared by the callers of remote functions.
 *
 * @param <T> The concrete caller type, returned by the setters for chaining.
 */
public class BaseTaskCaller<T extends BaseTaskCaller<T>> {
  private final CallOptions.Builder builder = new CallOptions.Builder();

  /**
   * Sets a display name for the task.
   *
   * @param name The name.
   * @return self
   */
  public T setName(String name) {
    builder.setName(name);
    return self();
  }

  /**
   * Asks for an amount of one resource (the default is 1 CPU). Setting it again replaces it.
   *
   * @param name The resource's name, e.g. {@code CPU}, {@code GPU} or a custom one.
   * @param value The amount.
   * @return self
   */
  public T setResource(String name, Double value) {
    builder.setResource(name, value);
    return self();
  }

  /**
   * Asks for amounts of several resources. Resources set again replace their amounts.
   *
   * @param resources Resource name to amount.
   * @return self
   */
  public T setResources(Map<String, Double> resources) {
    builder.setResources(resources);
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
  protected CallOptions buildOptions() {
    return builder.build();
  }
}
