package io.ray.api.exception;

/** The actor could not take the call right now (it is restarting); the call may be retried. */
public class ActorUnavailableException extends RayException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message What happened.
   */
  public ActorUnavailableException(String message) {
    super(message);
  }
}
