package io.ray.api.options;

/** How long an actor lives. */
public enum ActorLifetime {
  /** The actor outlives its creator: it lives until it is killed. */
  DETACHED,
  /** The actor dies with the job (the client session) that created it. */
  NON_DETACHED;
}
