package io.ray.api.call;

import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.function.RayFuncR;

/**
 * Calls a Java function remotely: {@code Ray.task(MyApp::f, args...).remote()}.
 *
 * @param <R> The function's return type.
 */
public class TaskCaller<R> extends BaseTaskCaller<TaskCaller<R>> {
  private final RayFuncR<R> func;
  private final Object[] args;

  /**
   * Creates a caller.
   *
   * @param func The function.
   * @param args Its arguments: values or {@link ObjectRef}s.
   */
  public TaskCaller(RayFuncR<R> func, Object[] args) {
    this.func = func;
    this.args = args;
  }

  /**
   * Submits the task. Returns at once; the result arrives in the object store.
   *
   * @return A reference to the result.
   */
  @SuppressWarnings("unchecked")
  public ObjectRef<R> remote() {
    return Ray.internal().call(func, args, buildOptions());
  }
}
