package io.ray.api.function;

/**
 * Names a method of a Python actor, with the Java type its result is read as. The actor itself
 * comes from the handle: {@code handle.task(PyActorMethod.of("increment", Integer.class))}.
 *
 * @param <R> The Java type of the result.
 */
public class PyActorMethod<R> {
  /** The method's name. */
  public final String methodName;

  /** The Java type the result is converted to. */
  public final Class<R> returnType;

  private PyActorMethod(String methodName, Class<R> returnType) {
    this.methodName = methodName;
    this.returnType = returnType;
  }

  /**
   * Names a method whose result is read as a plain Java value.
   *
   * @param methodName The method's name.
   * @return The method.
   */
  public static PyActorMethod<Object> of(String methodName) {
    return of(methodName, Object.class);
  }

  /**
   * Names a method whose result is converted to {@code returnType}.
   *
   * @param methodName The method's name.
   * @param returnType The Java type of the result.
   * @param <R> The Java type of the result.
   * @return The method.
   */
  public static <R> PyActorMethod<R> of(String methodName, Class<R> returnType) {
    return new PyActorMethod<>(methodName, returnType);
  }
}
