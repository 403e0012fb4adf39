package io.ray.api.function;

/**
 * Names a Python actor class by module and class name, for {@code Ray.actor(PyActorClass.of(...),
 * args...)}.
 */
public class PyActorClass {
  /** The full module name. */
  public final String moduleName;

  /** The class's name within the module. */
  public final String className;

  private PyActorClass(String moduleName, String className) {
    this.moduleName = moduleName;
    this.className = className;
  }

  /**
   * Names a Python actor class.
   *
   * @param moduleName The full module name, e.g. {@code my_pkg.counter}.
   * @param className The class's name, e.g. {@code Counter}.
   * @return The class.
   */
  public static PyActorClass of(String moduleName, String className) {
    return new PyActorClass(moduleName, className);
  }
}
