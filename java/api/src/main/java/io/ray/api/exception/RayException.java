package io.ray.api.exception;

/** Base class of every exception the Ray API throws. */
public class RayException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message What happened and what to do next.
   */
  public RayException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message What happened and what to do next.
   * @param cause The underlying failure.
   */
  public RayException(String message, Throwable cause) {
    super(message, cause);
  }
}
