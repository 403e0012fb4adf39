package io.ray.api.exception;

import io.ray.api.id.ObjectId;

/** The object was lost (every copy, or its owner, is gone) and cannot be rebuilt. */
public class UnreconstructableException extends RayException {
  private static final long serialVersionUID = 1L;

  /** The lost object (null when unknown). */
  public final ObjectId objectId;

  /**
   * Creates an exception for an object.
   *
   * @param objectId The lost object.
   */
  public UnreconstructableException(ObjectId objectId) {
    this(
        objectId,
        String.format(
            "Object %s is lost (evicted, deleted, or its owner died) and cannot be reconstructed.",
            objectId));
  }

  /**
   * Creates an exception for an object with a message.
   *
   * @param objectId The lost object, or null.
   * @param message What happened.
   */
  public UnreconstructableException(ObjectId objectId, String message) {
    super(message);
    this.objectId = objectId;
  }
}
