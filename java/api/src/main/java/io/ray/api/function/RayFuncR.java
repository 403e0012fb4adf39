package io.ray.api.function;

/**
 * A remote function or actor method that returns a value.
 *
 * @param <R> The type of the return value.
 */
public interface RayFuncR<R> extends RayFunc {}
