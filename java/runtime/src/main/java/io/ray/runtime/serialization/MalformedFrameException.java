package io.ray.runtime.serialization;

import io.ray.api.exception.RayException;

/** Bytes that are not a valid object frame (tests/xlang/README.md). */
public class MalformedFrameException extends RayException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message What is wrong with the frame.
   */
  public MalformedFrameException(String message) {
    super("malformed object frame: " + message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message What is wrong with the frame.
   * @param cause The parser's failure.
   */
  public MalformedFrameException(String message, Throwable cause) {
    super("malformed object frame: " + message, cause);
  }
}
