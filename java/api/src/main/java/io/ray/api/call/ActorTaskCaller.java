package io.ray.api.call;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.function.RayFuncR;
import io.ray.api.options.CallOptions;

/**
 * Calls a method of a Java actor: {@code counter.task(Counter::increment).remote()}.
 *
 * @param <R> The method's return type.
 */
public class ActorTaskCaller<R> {
  private final ActorHandle<?> actor;
  private final RayFuncR<R> func;
  private final Object[] args;
  private final CallOptions.Builder builder = new CallOptions.Builder();

  /**
   * Creates a caller.
   *
   * @param actor The actor.
   * @param func The method ({@code Counter::increment}).
   * @param args Its arguments: values or {@link ObjectRef}s.
   */
  public ActorTaskCaller(ActorHandle<?> actor, RayFuncR<R> func, Object[] args) {
    this.actor = actor;
    this.func = func;
    this.args = args;
  }

  /**
   * Sets a display name for the call.
   *
   * @param name The name.
   * @return self
   */
  public ActorTaskCaller<R> setName(String name) {
    builder.setName(name);
    return this;
  }

  /**
   * Submits the call. Returns at once; calls from one driver run in the order they were made.
   *
   * @return A reference to the result.
   */
  @SuppressWarnings("unchecked")
  public ObjectRef<R> remote() {
    return Ray.internal().callActor(actor, func, args, builder.build());
  }
}
