package io.ray.api.call;

import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.function.PyFunction;

/**
 * Calls a Python function remotely: {@code Ray.task(PyFunction.of("mod", "f", Integer.class),
 * 1).remote()}.
 *
 * @param <R> The Java type of the result.
 */
public class PyTaskCaller<R> extends BaseTaskCaller<PyTaskCaller<R>> {
  private final PyFunction<R> func;
  private final Object[] args;

  /**
   * Creates a caller.
   *
   * @param func The Python function.
   * @param args Its arguments: values Python can read (see {@link PyFunction}) or {@link
   *     ObjectRef}s.
   */
  public PyTaskCaller(PyFunction<R> func, Object[] args) {
    this.func = func;
    this.args = args;
  }

  /**
   * Submits the task. Returns at once.
   *
   * @return A reference to the result.
   */
  @SuppressWarnings("unchecked")
  public ObjectRef<R> remote() {
    return Ray.internal().call(func, args, buildOptions());
  }
}
