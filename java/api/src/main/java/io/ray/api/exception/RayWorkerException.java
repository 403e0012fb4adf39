package io.ray.api.exception;

/** The worker process died while it ran the task (and the task had no retries left). */
public class RayWorkerException extends RayException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with the default message. */
  public RayWorkerException() {
    super("The worker died unexpectedly while executing this task.");
  }

  /**
   * Creates an exception.
   *
   * @param message What happened.
   */
  public RayWorkerException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message What happened.
   * @param cause The underlying failure.
   */
  public RayWorkerException(String message, Throwable cause) {
    super(message, cause);
  }
}
