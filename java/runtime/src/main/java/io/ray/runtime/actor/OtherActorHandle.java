package io.ray.runtime.actor;

import io.ray.api.BaseActorHandle;
import io.ray.api.id.ActorId;
import java.io.Serializable;

/** A handle to an actor of a language this API cannot call (a C++ actor): it can only be killed. */
public final class OtherActorHandle implements BaseActorHandle, Serializable {
  private static final long serialVersionUID = 1L;

  private final ActorId actorId;
  private final String description;

  /**
   * Creates a handle.
   *
   * @param actorId The actor.
   * @param description What the actor is, for messages.
   */
  public OtherActorHandle(ActorId actorId, String description) {
    this.actorId = actorId;
    this.description = description;
  }

  @Override
  public ActorId getId() {
    return actorId;
  }

  @Override
  public String toString() {
    return "ActorHandle(" + description + ", " + actorId + ")";
  }
}
