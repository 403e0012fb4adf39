package io.ray.runtime;

import io.ray.api.id.ActorId;
import io.ray.api.id.JobId;
import io.ray.api.id.TaskId;
import io.ray.api.id.UniqueId;
import io.ray.api.runtimecontext.RuntimeContext;

/** The runtime context of a client session. */
final class RuntimeContextImpl implements RuntimeContext {
  private final JobId jobId;
  private final String namespace;
  private final UniqueId nodeId;

  RuntimeContextImpl(JobId jobId, String namespace, UniqueId nodeId) {
    this.jobId = jobId;
    this.namespace = namespace;
    this.nodeId = nodeId;
  }

  @Override
  public JobId getCurrentJobId() {
    return jobId;
  }

  @Override
  public TaskId getCurrentTaskId() {
    return TaskId.NIL;
  }

  @Override
  public ActorId getCurrentActorId() {
    return ActorId.NIL;
  }

  @Override
  public boolean wasCurrentActorRestarted() {
    return false;
  }

  @Override
  public boolean isLocalMode() {
    return false;
  }

  @Override
  public String getNamespace() {
    return namespace;
  }

  @Override
  public UniqueId getCurrentNodeId() {
    return nodeId;
  }
}
