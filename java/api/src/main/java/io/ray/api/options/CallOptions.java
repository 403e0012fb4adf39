package io.ray.api.options;

import java.util.HashMap;
import java.util.Map;

/**
 * Options of one remote call (a task or an actor method call). Immutable; build with {@link
 * Builder}.
 */
public class CallOptions extends BaseTaskOptions {
  private static final long serialVersionUID = 1L;

  private final String name;
  private final String concurrencyGroupName;

  private CallOptions(Builder builder) {
    super(builder.resources);
    this.name = builder.name;
    this.concurrencyGroupName = builder.concurrencyGroupName;
  }

  /**
   * Returns the task's display name.
   *
   * @return The name, or null for the default (the function's name).
   */
  public String getName() {
    return name;
  }

  /**
   * Returns the concurrency group of an actor call.
   *
   * @return The group's name, empty for the default group.
   */
  public String getConcurrencyGroupName() {
    return concurrencyGroupName;
  }

  /** Builds {@link CallOptions}. */
  public static class Builder {
    private String name;
    private final Map<String, Double> resources = new HashMap<>();
    private String concurrencyGroupName = "";

    /**
     * Sets the task's display name.
     *
     * @param name The name.
     * @return self
     */
    public Builder setName(String name) {
      this.name = name;
      return this;
    }

    /**
     * Asks for an amount of one resource. Setting the same resource again replaces the amount.
     *
     * @param name The resource's name, e.g. {@code CPU}, {@code GPU} or a custom one.
     * @param value The amount.
     * @return self
     */
    public Builder setResource(String name, Double value) {
      this.resources.put(name, value);
      return this;
    }

    /**
     * Asks for amounts of several resources. Resources set again replace their amounts.
     *
     * @param resources Resource name to amount.
     * @return self
     */
    public Builder setResources(Map<String, Double> resources) {
      this.resources.putAll(resources);
      return this;
    }

    /**
     * Sets the concurrency group of an actor call.
     *
     * @param concurrencyGroupName The group's name.
     * @return self
     */
    public Builder setConcurrencyGroupName(String concurrencyGroupName) {
      this.concurrencyGroupName = concurrencyGroupName == null ? "" : concurrencyGroupName;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return The options.
     * @throws IllegalArgumentException If a resource amount is invalid.
     */
    public CallOptions build() {
      return new CallOptions(this);
    }
  }
}
