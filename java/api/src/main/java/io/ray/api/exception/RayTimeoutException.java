package io.ray.api.exception;

/** Something did not finish in time, e.g. {@code Ray.get(ref, timeoutMs)}. */
public class RayTimeoutException extends RayException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message What was waited for and for how long.
   */
  public RayTimeoutException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message What was waited for and for how long.
   * @param cause The underlying failure.
   */
  public RayTimeoutException(String message, Throwable cause) {
    super(message, cause);
  }
}
