package io.ray.api;

/**
 * A reference to an immutable object in the cluster's object store: the result of a remote call or
 * of {@link Ray#put}. While a reference is reachable the object stays alive.
 *
 * @param <T> The type of the object.
 */
public interface ObjectRef<T> {

  /**
   * Waits until the object is ready and returns it.
   *
   * @return The object.
   * @throws io.ray.api.exception.RayException If the task that makes it failed (e.g. {@link
   *     io.ray.api.exception.RayTaskException}) or the object is lost.
   */
  T get();

  /**
   * Waits at most {@code timeoutMs} until the object is ready and returns it.
   *
   * @param timeoutMs The longest wait in milliseconds (negative: no limit).
   * @return The object.
   * @throws io.ray.api.exception.RayTimeoutException If it was not ready in time.
   */
  T get(long timeoutMs);
}
