package io.ray.api.function;

/** A remote function or actor method that returns nothing. */
public interface RayFuncVoid extends RayFunc {}
