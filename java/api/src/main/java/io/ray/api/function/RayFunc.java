package io.ray.api.function;

import java.io.Serializable;

/**
 * Base of the functional interfaces for remote functions and actor methods. Implementations are
 * method references ({@code MyClass::myMethod}) or lambdas; they are serializable so that the
 * runtime can tell which method they name.
 */
public interface RayFunc extends Serializable {}
