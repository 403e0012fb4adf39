package io.ray.api.call;

import io.ray.api.ActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.RayFuncR;
import java.util.List;

/**
 * Creates a Java actor: {@code Ray.actor(Counter::new, 0).setName("c").remote()}.
 *
 * @param <A> The actor's class.
 */
public class ActorCreator<A> extends BaseActorCreator<ActorCreator<A>> {
  private final RayFuncR<A> func;
  private final Object[] args;

  /**
   * Creates a creator.
   *
   * @param func The constructor ({@code Counter::new}) or a static factory method.
   * @param args Its arguments: values or {@link io.ray.api.ObjectRef}s.
   */
  public ActorCreator(RayFuncR<A> func, Object[] args) {
    this.func = func;
    this.args = args;
  }

  /**
   * Sets JVM options for the actor's own worker.
   *
   * @param jvmOptions The options.
   * @return self
   */
  public ActorCreator<A> setJvmOptions(List<String> jvmOptions) {
    builder.setJvmOptions(jvmOptions);
    return this;
  }

  /**
   * Creates the actor. Returns at once; calls queue until the actor is alive.
   *
   * @return A handle to the actor.
   */
  public ActorHandle<A> remote() {
    return Ray.internal().createActor(func, args, buildOptions());
  }
}
