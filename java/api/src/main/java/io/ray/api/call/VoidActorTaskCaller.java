package io.ray.api.call;

import io.ray.api.ActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.RayFuncVoid;
import io.ray.api.options.CallOptions;

/** Calls a method of a Java actor that returns nothing. */
public class VoidActorTaskCaller {
  private final ActorHandle<?> actor;
  private final RayFuncVoid func;
  private final Object[] args;
  private final CallOptions.Builder builder = new CallOptions.Builder();

  /**
   * Creates a caller.
   *
   * @param actor The actor.
   * @param func The method.
   * @param args Its arguments: values or {@link io.ray.api.ObjectRef}s.
   */
  public VoidActorTaskCaller(ActorHandle<?> actor, RayFuncVoid func, Object[] args) {
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
  public VoidActorTaskCaller setName(String name) {
    builder.setName(name);
    return this;
  }

  /** Submits the call. Returns at once. */
  public void remote() {
    Ray.internal().callActor(actor, func, args, builder.build());
  }
}
