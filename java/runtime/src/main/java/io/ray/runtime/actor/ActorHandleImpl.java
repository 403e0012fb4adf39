package io.ray.runtime.actor;

import io.ray.api.ActorHandle;
import io.ray.api.id.ActorId;
import java.io.Serializable;

/**
 * A handle to a Java actor. Serializable: a handle passed to a Java task or actor method calls the
 * same actor from there.
 *
 * @param <A> The actor's class.
 */
public final class ActorHandleImpl<A> implements ActorHandle<A>, Serializable {
  private static final long serialVersionUID = 1L;

  private final ActorId actorId;
  private final String className;

  /**
   * Creates a handle.
   *
   * @param actorId The actor.
   * @param className Binary name of the actor's class.
   */
  public ActorHandleImpl(ActorId actorId, String className) {
    this.actorId = actorId;
    this.className = className;
  }

  @Override
  public ActorId getId() {
    return actorId;
  }

  /**
   * Returns the actor's class.
   *
   * @return Its binary name.
   */
  public String getClassName() {
    return className;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ActorHandleImpl && actorId.equals(((ActorHandleImpl<?>) o).actorId);
  }

  @Override
  public int hashCode() {
    return actorId.hashCode();
  }

  @Override
  public String toString() {
    return "ActorHandle(" + className + ", " + actorId + ")";
  }
}
