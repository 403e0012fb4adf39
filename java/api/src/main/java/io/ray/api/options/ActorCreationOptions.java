package io.ray.api.options;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Options of actor creation. Immutable; build with {@link Builder}. */
public class ActorCreationOptions extends BaseTaskOptions {
  private static final long serialVersionUID = 1L;

  /** {@code maxRestarts} value for an actor that is never restarted. */
  public static final int NO_RESTART = 0;

  /** {@code maxRestarts} value for an actor that is restarted without limit. */
  public static final int INFINITE_RESTART = -1;

  private final String name;
  private final ActorLifetime lifetime;
  private final int maxRestarts;
  private final int maxTaskRetries;
  private final List<String> jvmOptions;
  private final int maxConcurrency;
  private final String namespace;
  private final int maxPendingCalls;
  private final boolean isAsync;

  private ActorCreationOptions(Builder builder) {
    super(builder.resources);
    this.name = builder.name;
    this.lifetime = builder.lifetime;
    this.maxRestarts = builder.maxRestarts;
    this.maxTaskRetries = builder.maxTaskRetries;
    this.jvmOptions =
        builder.jvmOptions == null
            ? Collections.emptyList()
            : Collections.unmodifiableList(new ArrayList<>(builder.jvmOptions));
    this.maxConcurrency = builder.maxConcurrency;
    this.namespace = builder.namespace;
    this.maxPendingCalls = builder.maxPendingCalls;
    this.isAsync = builder.isAsync;
  }

  /**
   * Returns the actor's name.
   *
   * @return The name, or null for an anonymous actor.
   */
  public String getName() {
    return name;
  }

  /**
   * Returns the actor's lifetime.
   *
   * @return The lifetime, or null for the default ({@link ActorLifetime#NON_DETACHED}).
   */
  public ActorLifetime getLifetime() {
    return lifetime;
  }

  /**
   * Returns how often the actor is restarted after it dies unexpectedly.
   *
   * @return 0 for never, -1 for without limit.
   */
  public int getMaxRestarts() {
    return maxRestarts;
  }

  /**
   * Returns how often a call on the actor is retried when the actor dies.
   *
   * @return 0 for never, -1 for without limit.
   */
  public int getMaxTaskRetries() {
    return maxTaskRetries;
  }

  /**
   * Returns the JVM options of the actor's own worker.
   *
   * @return The options (empty when not set).
   */
  public List<String> getJvmOptions() {
    return jvmOptions;
  }

  /**
   * Returns how many calls the actor runs at once.
   *
   * @return The concurrency, 1 by default.
   */
  public int getMaxConcurrency() {
    return maxConcurrency;
  }

  /**
   * Returns the namespace of the actor's name.
   *
   * @return The namespace, or null for the job's namespace.
   */
  public String getNamespace() {
    return namespace;
  }

  /**
   * Returns the limit of pending calls per handle.
   *
   * @return The limit, -1 for none.
   */
  public int getMaxPendingCalls() {
    return maxPendingCalls;
  }

  /**
   * Tells whether the (Python) actor is an async actor.
   *
   * @return True for an async actor.
   */
  public boolean isAsync() {
    return isAsync;
  }

  /** Builds {@link ActorCreationOptions}. */
  public static class Builder {
    private String name;
    private ActorLifetime lifetime = null;
    private final Map<String, Double> resources = new HashMap<>();
    private int maxRestarts = 0;
    private int maxTaskRetries = 0;
    private List<String> jvmOptions = new ArrayList<>();
    private int maxConcurrency = 1;
    private String namespace = null;
    private int maxPendingCalls = -1;
    private boolean isAsync = false;

    /**
     * Names the actor, so that {@code Ray.getActor(name)} finds it in its namespace.
     *
     * @param name The name.
     * @return self
     */
    public Builder setName(String name) {
      this.name = name;
      return this;
    }

    /**
     * Sets the actor's lifetime.
     *
     * @param lifetime {@link ActorLifetime#DETACHED} to outlive the job.
     * @return self
     */
    public Builder setLifetime(ActorLifetime lifetime) {
      this.lifetime = lifetime;
      return this;
    }

    /**
     * Asks for an amount of a resource, held for the actor's whole life.
     *
     * @param resourceName The resource's name.
     * @param resourceQuantity The amount.
     * @return self
     */
    public Builder setResource(String resourceName, Double resourceQuantity) {
      this.resources.put(resourceName, resourceQuantity);
      return this;
    }

    /**
     * Asks for amounts of several resources, held for the actor's whole life.
     *
     * @param resources Resource name to amount.
     * @return self
     */
    public Builder setResources(Map<String, Double> resources) {
      this.resources.putAll(resources);
      return this;
    }

    /**
     * Sets how often the actor is restarted when it dies unexpectedly.
     *
     * @param maxRestarts 0 (default) for never, -1 for without limit.
     * @return self
     */
    public Builder setMaxRestarts(int maxRestarts) {
      if (maxRestarts < -1) {
        throw new IllegalArgumentException("maxRestarts must be >= -1, got " + maxRestarts);
      }
      this.maxRestarts = maxRestarts;
      return this;
    }

    /**
     * Sets how often a call is retried when the actor dies.
     *
     * @param maxTaskRetries 0 (default) for never, -1 for without limit.
     * @return self
     */
    public Builder setMaxTaskRetries(int maxTaskRetries) {
      if (maxTaskRetries < -1) {
        throw new IllegalArgumentException("maxTaskRetries must be >= -1, got " + maxTaskRetries);
      }
      this.maxTaskRetries = maxTaskRetries;
      return this;
    }

    /**
     * Sets JVM options for the actor's own worker.
     *
     * @param jvmOptions The options.
     * @return self
     */
    public Builder setJvmOptions(List<String> jvmOptions) {
      this.jvmOptions = jvmOptions;
      return this;
    }

    /**
     * Sets how many calls the actor runs at once.
     *
     * @param maxConcurrency At least 1 (the default). Above 1 calls may run out of order.
     * @return self
     * @throws IllegalArgumentException If {@code maxConcurrency} is below 1.
     */
    public Builder setMaxConcurrency(int maxConcurrency) {
      if (maxConcurrency <= 0) {
        throw new IllegalArgumentException(
            "maxConcurrency must be greater than 0, got " + maxConcurrency);
      }
      this.maxConcurrency = maxConcurrency;
      return this;
    }

    /**
     * Limits the calls pending on one handle.
     *
     * @param maxPendingCalls A positive limit, or -1 for none.
     * @return self
     * @throws IllegalArgumentException If the limit is 0 or below -1.
     */
    public Builder setMaxPendingCalls(int maxPendingCalls) {
      if (maxPendingCalls < -1 || maxPendingCalls == 0) {
        throw new IllegalArgumentException(
            "maxPendingCalls must be greater than 0, or -1 to disable, got " + maxPendingCalls);
      }
      this.maxPendingCalls = maxPendingCalls;
      return this;
    }

    /**
     * Marks a Python actor as async.
     *
     * @param isAsync True for an async actor.
     * @return self
     */
    public Builder setAsync(boolean isAsync) {
      this.isAsync = isAsync;
      return this;
    }

    /**
     * Sets the namespace of the actor's name.
     *
     * @param namespace The namespace (null: the job's).
     * @return self
     */
    public Builder setNamespace(String namespace) {
      this.namespace = namespace;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return The options.
     * @throws IllegalArgumentException If a resource amount is invalid.
     */
    public ActorCreationOptions build() {
      return new ActorCreationOptions(this);
    }
  }
}
