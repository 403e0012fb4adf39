package io.ray.api.exception;

import io.ray.api.id.ActorId;

/**
 * The actor died, or could not be created, before it finished the call. Calls on a dead actor fail
 * with this exception too.
 */
public class RayActorException extends RayException {
  private static final long serialVersionUID = 1L;

  /** The actor, when known (else null). */
  public ActorId actorId;

  /** Creates an exception for an unnamed actor. */
  public RayActorException() {
    super("The actor died unexpectedly before finishing this task.");
  }

  /**
   * Creates an exception for an actor.
   *
   * @param actorId The actor.
   */
  public RayActorException(ActorId actorId) {
    super(String.format("The actor %s died unexpectedly before finishing this task.", actorId));
    this.actorId = actorId;
  }

  /**
   * Creates an exception with a message.
   *
   * @param message What happened.
   */
  public RayActorException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and the actor.
   *
   * @param message What happened.
   * @param actorId The actor, or null.
   * @param cause The underlying failure, or null.
   */
  public RayActorException(String message, ActorId actorId, Throwable cause) {
    super(message, cause);
    this.actorId = actorId;
  }

  /**
   * Creates an exception for an actor whose creation task failed.
   *
   * @param pid Process id of the actor's worker.
   * @param ipAddress Address of the actor's node.
   * @param actorId The actor.
   * @param cause The failure of the creation task.
   */
  public RayActorException(int pid, String ipAddress, ActorId actorId, Throwable cause) {
    super(
        String.format(
            "(pid=%d, ip=%s) The actor %s died because its creation task failed.",
            pid, ipAddress, actorId),
        cause);
    this.actorId = actorId;
  }

  /**
   * Creates an exception for an actor whose creation task failed.
   *
   * @param pid Process id of the actor's worker.
   * @param ipAddress Address of the actor's node.
   * @param cause The failure of the creation task.
   */
  public RayActorException(int pid, String ipAddress, Throwable cause) {
    super(
        String.format(
            "(pid=%d, ip=%s) The actor died because its creation task failed.", pid, ipAddress),
        cause);
  }

  /**
   * Returns the actor that died.
   *
   * @return The actor id, or null when unknown.
   */
  public ActorId getActorId() {
    return actorId;
  }
}
