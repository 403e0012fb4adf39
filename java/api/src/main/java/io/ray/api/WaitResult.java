package io.ray.api;

import java.util.List;

/**
 * The result of {@link Ray#wait}: the references that are ready and those that are not, each in the
 * order of the request.
 *
 * @param <T> The type of the objects.
 */
public final class WaitResult<T> {

  private final List<ObjectRef<T>> ready;
  private final List<ObjectRef<T>> unready;

  /**
   * Creates a result.
   *
   * @param ready The ready references.
   * @param unready The others.
   */
  public WaitResult(List<ObjectRef<T>> ready, List<ObjectRef<T>> unready) {
    this.ready = ready;
    this.unready = unready;
  }

  /**
   * Returns the references whose objects are ready.
   *
   * @return The ready references.
   */
  public List<ObjectRef<T>> getReady() {
    return ready;
  }

  /**
   * Returns the references whose objects are not ready yet.
   *
   * @return The unready references.
   */
  public List<ObjectRef<T>> getUnready() {
    return unready;
  }
}
