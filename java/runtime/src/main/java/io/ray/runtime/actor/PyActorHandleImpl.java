package io.ray.runtime.actor;

import io.ray.api.PyActorHandle;
import io.ray.api.id.ActorId;
import java.io.Serializable;

/** A handle to a Python actor. */
public final class PyActorHandleImpl implements PyActorHandle, Serializable {
  private static final long serialVersionUID = 1L;

  private final ActorId actorId;
  private final String moduleName;
  private final String className;

  /**
   * Creates a handle.
   *
   * @param actorId The actor.
   * @param moduleName Module of the actor's class.
   * @param className The class's name.
   */
  public PyActorHandleImpl(ActorId actorId, String moduleName, String className) {
    this.actorId = actorId;
    this.moduleName = moduleName;
    this.className = className;
  }

  @Override
  public ActorId getId() {
    return actorId;
  }

  @Override
  public String getModuleName() {
    return moduleName;
  }

  @Override
  public String getClassName() {
    return className;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PyActorHandleImpl && actorId.equals(((PyActorHandleImpl) o).actorId);
  }

  @Override
  public int hashCode() {
    return actorId.hashCode();
  }

  @Override
  public String toString() {
    return "PyActorHandle(" + moduleName + "." + className + ", " + actorId + ")";
  }
}
