package io.ray.api;

import io.ray.api.id.ActorId;

/** A handle to an actor of any language. */
public interface BaseActorHandle {

  /**
   * Returns the actor's id.
   *
   * @return The id.
   */
  ActorId getId();

  /**
   * Kills the actor now and does not restart it. Pending calls fail with {@link
   * io.ray.api.exception.RayActorException}.
   */
  default void kill() {
    Ray.internal().killActor(this, true);
  }

  /**
   * Kills the actor now. Pending calls fail with {@link io.ray.api.exception.RayActorException}.
   *
   * @param noRestart True to not restart it even if it has restarts left.
   */
  default void kill(boolean noRestart) {
    Ray.internal().killActor(this, noRestart);
  }
}
