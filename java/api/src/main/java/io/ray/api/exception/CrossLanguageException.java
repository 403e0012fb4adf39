package io.ray.api.exception;

/** A value or call crossed languages in a form the other side cannot handle. */
public class CrossLanguageException extends RayException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message What could not cross and what to do instead.
   */
  public CrossLanguageException(String message) {
    super(message);
  }
}
