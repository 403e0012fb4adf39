package io.ray.api.call;

import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.PyActorMethod;

/**
 * Calls a method of a Python actor: {@code actor.task(PyActorMethod.of("get", Integer.class))}.
 *
 * @param <R> The Java type of the result.
 */
public class PyActorTaskCaller<R> {
  private final PyActorHandle actor;
  private final PyActorMethod<R> method;
  private final Object[] args;

  /**
   * Creates a caller.
   *
   * @param actor The Python actor.
   * @param method The method.
   * @param args Its arguments: values Python can read, or {@link ObjectRef}s.
   */
  public PyActorTaskCaller(PyActorHandle actor, PyActorMethod<R> method, Object[] args) {
    this.actor = actor;
    this.method = method;
    this.args = args;
  }

  /**
   * Submits the call. Returns at once.
   *
   * @return A reference to the result.
   */
  @SuppressWarnings("unchecked")
  public ObjectRef<R> remote() {
    return Ray.internal().callActor(actor, method, args);
  }
}
