package io.ray.api.function;

/**
 * Names a Python remote function by module and function name, with the Java type its result is read
 * as. For example, for {@code def add(a, b)} in module {@code my_pkg.math}:
 *
 * <pre>{@code
 * ObjectRef<Integer> sum =
 *     Ray.task(PyFunction.of("my_pkg.math", "add", Integer.class), 1, 2).remote();
 * }</pre>
 *
 * <p>The module must be importable by the cluster's Python workers: put its directory on the job's
 * code search path ({@code -Dray.job.code-search-path=...}).
 *
 * @param <R> The Java type of the result.
 */
public class PyFunction<R> {
  /** The full module name, e.g. {@code my_pkg.math}. */
  public final String moduleName;

  /** The function's name within the module. */
  public final String functionName;

  /** The Java type the result is converted to. */
  public final Class<R> returnType;

  private PyFunction(String moduleName, String functionName, Class<R> returnType) {
    this.moduleName = moduleName;
    this.functionName = functionName;
    this.returnType = returnType;
  }

  /**
   * Names a Python function whose result is read as a plain Java value ({@code Long}, {@code
   * Double}, {@code String}, {@code List}, {@code Map}, ...).
   *
   * @param moduleName The full module name.
   * @param functionName The function's name.
   * @return The function.
   */
  public static PyFunction<Object> of(String moduleName, String functionName) {
    return of(moduleName, functionName, Object.class);
  }

  /**
   * Names a Python function whose result is converted to {@code returnType}.
   *
   * @param moduleName The full module name.
   * @param functionName The function's name.
   * @param returnType The Java type of the result, e.g. {@code Integer.class}.
   * @param <R> The Java type of the result.
   * @return The function.
   */
  public static <R> PyFunction<R> of(String moduleName, String functionName, Class<R> returnType) {
    return new PyFunction<>(moduleName, functionName, returnType);
  }
}
