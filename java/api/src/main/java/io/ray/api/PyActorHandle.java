package io.ray.api;

/**
 * A handle to a Python actor. Call its methods with {@code task(PyActorMethod.of(name, type),
 * args...)}.
 */
public interface PyActorHandle extends BaseActorHandle, PyActorCall {

  /**
   * Returns the module of the actor's class.
   *
   * @return The full module name.
   */
  String getModuleName();

  /**
   * Returns the actor's class name.
   *
   * @return The class name.
   */
  String getClassName();
}
