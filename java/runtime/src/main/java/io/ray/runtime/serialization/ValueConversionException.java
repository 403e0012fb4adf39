package io.ray.runtime.serialization;

import io.ray.api.exception.RayException;

/** A stored value cannot be converted to the Java type the caller asked for. */
public class ValueConversionException extends RayException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message Names the stored type and the requested one.
   */
  public ValueConversionException(String message) {
    super(message);
  }
}
