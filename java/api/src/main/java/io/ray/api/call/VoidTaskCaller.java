package io.ray.api.call;

import io.ray.api.Ray;
import io.ray.api.function.RayFuncVoid;

/** Calls a Java function that returns nothing: {@code Ray.task(MyApp::log, "x").remote()}. */
public class VoidTaskCaller extends BaseTaskCaller<VoidTaskCaller> {
  private final RayFuncVoid func;
  private final Object[] args;

  /**
   * Creates a caller.
   *
   * @param func The function.
   * @param args Its arguments: values or {@link io.ray.api.ObjectRef}s.
   */
  public VoidTaskCaller(RayFuncVoid func, Object[] args) {
    this.func = func;
    this.args = args;
  }

  /** Submits the task. Returns at once. */
  public void remote() {
    Ray.internal().call(func, args, buildOptions());
  }
}
