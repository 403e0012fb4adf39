package io.ray.api.runtimecontext;

import io.ray.api.id.ActorId;
import io.ray.api.id.JobId;
import io.ray.api.id.TaskId;
import io.ray.api.id.UniqueId;

/** What the runtime knows about where the calling code runs. */
public interface RuntimeContext {

  /**
   * Returns the current job.
   *
   * @return The job id.
   */
  JobId getCurrentJobId();

  /**
   * Returns the current task.
   *
   * @return The task id ({@link TaskId#NIL} in a driver).
   */
  TaskId getCurrentTaskId();

  /**
   * Returns the current actor.
   *
   * @return The actor id ({@link ActorId#NIL} outside an actor).
   */
  ActorId getCurrentActorId();

  /**
   * Tells whether the current actor was restarted.
   *
   * @return True if it was restarted at least once.
   */
  boolean wasCurrentActorRestarted();

  /**
   * Tells whether Ray runs in local mode (everything in this process).
   *
   * @return Always false here: there is no local mode.
   */
  boolean isLocalMode();

  /**
   * Returns the namespace of the current job.
   *
   * @return The namespace.
   */
  String getNamespace();

  /**
   * Returns the node the current code runs on (for a driver: the node of its session).
   *
   * @return The node id, or {@link UniqueId#NIL} when unknown.
   */
  UniqueId getCurrentNodeId();
}
