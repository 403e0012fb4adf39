package io.ray.api;

import io.ray.api.exception.RayException;
import io.ray.api.runtime.RayRuntime;
import io.ray.api.runtime.RayRuntimeFactory;
import io.ray.api.runtimecontext.RuntimeContext;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * The Ray API: start and stop the runtime, store and fetch objects, call remote functions and
 * actors. Remote calls are built with the {@code task} and {@code actor} methods this class
 * inherits:
 *
 * <pre>{@code
 * Ray.init();
 * ObjectRef<Integer> x = Ray.put(1);
 * ObjectRef<Integer> y = Ray.task(MyApp::addOne, x).remote();
 * int two = y.get();
 * Ray.shutdown();
 * }</pre>
 */
public final class Ray extends RayCall {
  private static final String DEFAULT_FACTORY = "io.ray.runtime.DefaultRayRuntimeFactory";

  private static volatile RayRuntime runtime = null;
  private static boolean shutdownHookAdded = false;

  private Ray() {}

  /**
   * Starts the runtime. Connects to the cluster at {@code -Dray.address=HOST:PORT} (or {@code
   * RAY_ADDRESS}), or starts a local one when no address is set. Does nothing if already started.
   *
   * @throws RayException If the runtime cannot start; the message says why.
   */
  public static void init() {
    if (runtime != null) {
      return;
    }
    RayRuntimeFactory factory;
    try {
      Class<?> clz = Class.forName(DEFAULT_FACTORY);
      factory = (RayRuntimeFactory) clz.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | ClassCastException e) {
      throw new RayException(
          "Failed to initialize Ray runtime: cannot load "
              + DEFAULT_FACTORY
              + " ("
              + e
              + "). Put ray_dist.jar (or the ray-runtime jar) on the class path.",
          e);
    }
    init(factory);
  }

  private static synchronized void init(RayRuntimeFactory factory) {
    if (runtime != null) {
      return;
    }
    try {
      runtime = factory.createRayRuntime();
    } catch (RayException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new RayException("Failed to initialize Ray runtime: " + e, e);
    }
    if (!shutdownHookAdded) {
      Runtime.getRuntime().addShutdownHook(new Thread(Ray::shutdown, "ray-shutdown-hook"));
      shutdownHookAdded = true;
    }
  }

  /** Stops the runtime: ends the session and stops a local cluster it started. Idempotent. */
  public static synchronized void shutdown() {
    RayRuntime current = runtime;
    if (current != null) {
      runtime = null;
      current.shutdown();
    }
  }

  /**
   * Tells whether {@link #init} has been called (and not undone by {@link #shutdown}).
   *
   * @return True while the runtime runs.
   */
  public static boolean isInitialized() {
    return runtime != null;
  }

  /**
   * Stores an object in the object store.
   *
   * @param obj The object: plain data (numbers, strings, byte arrays, lists, maps, primitive
   *     arrays) is readable from every language; other {@link java.io.Serializable} objects only
   *     from Java.
   * @param <T> Its type.
   * @return A reference to the stored object.
   */
  public static <T> ObjectRef<T> put(T obj) {
    return internal().put(obj);
  }

  /**
   * Stores an object owned by an actor (experimental in Ray; not supported by this runtime yet).
   *
   * @param obj The object.
   * @param owner The actor that should own it.
   * @param <T> Its type.
   * @return A reference to the stored object.
   */
  public static <T> ObjectRef<T> put(T obj, BaseActorHandle owner) {
    return internal().put(obj, owner);
  }

  /**
   * Waits at most {@code timeoutMs} for an object and returns it.
   *
   * @param objectRef The reference.
   * @param timeoutMs The longest wait in milliseconds (negative: no limit).
   * @param <T> The object's type.
   * @return The object.
   * @throws io.ray.api.exception.RayTimeoutException If it was not ready in time.
   */
  public static <T> T get(ObjectRef<T> objectRef, long timeoutMs) {
    return internal().get(objectRef, timeoutMs);
  }

  /**
   * Waits for an object and returns it.
   *
   * @param objectRef The reference.
   * @param <T> The object's type.
   * @return The object.
   */
  public static <T> T get(ObjectRef<T> objectRef) {
    return internal().get(objectRef);
  }

  /**
   * Waits at most {@code timeoutMs} for objects and returns them in order. The whole list is one
   * request.
   *
   * @param objectList The references.
   * @param timeoutMs The longest wait in milliseconds (negative: no limit).
   * @param <T> The objects' type.
   * @return The objects.
   * @throws io.ray.api.exception.RayTimeoutException If not all were ready in time.
   */
  public static <T> List<T> get(List<ObjectRef<T>> objectList, long timeoutMs) {
    return internal().get(objectList, timeoutMs);
  }

  /**
   * Waits for objects and returns them in order. The whole list is one request.
   *
   * @param objectList The references.
   * @param <T> The objects' type.
   * @return The objects.
   */
  public static <T> List<T> get(List<ObjectRef<T>> objectList) {
    return internal().get(objectList);
  }

  /**
   * Waits until {@code numReturns} of the objects are ready or {@code timeoutMs} passes.
   *
   * @param waitList The references.
   * @param numReturns How many ready ones to wait for (at most the list's size).
   * @param timeoutMs The longest wait in milliseconds.
   * @param fetchLocal If true, an object counts as ready only once it is on the local node.
   * @param <T> The objects' type.
   * @return The ready references (at most {@code numReturns}) and the rest, in request order.
   */
  public static <T> WaitResult<T> wait(
      List<ObjectRef<T>> waitList, int numReturns, int timeoutMs, boolean fetchLocal) {
    return internal().wait(waitList, numReturns, timeoutMs, fetchLocal);
  }

  /**
   * Waits until {@code numReturns} of the objects are ready locally or {@code timeoutMs} passes.
   *
   * @param waitList The references.
   * @param numReturns How many ready ones to wait for.
   * @param timeoutMs The longest wait in milliseconds.
   * @param <T> The objects' type.
   * @return The ready references and the rest.
   */
  public static <T> WaitResult<T> wait(List<ObjectRef<T>> waitList, int numReturns, int timeoutMs) {
    return wait(waitList, numReturns, timeoutMs, true);
  }

  /**
   * Waits until {@code numReturns} of the objects are ready locally.
   *
   * @param waitList The references.
   * @param numReturns How many ready ones to wait for.
   * @param <T> The objects' type.
   * @return The ready references and the rest.
   */
  public static <T> WaitResult<T> wait(List<ObjectRef<T>> waitList, int numReturns) {
    return wait(waitList, numReturns, Integer.MAX_VALUE);
  }

  /**
   * Waits until all the objects are ready locally.
   *
   * @param waitList The references.
   * @param <T> The objects' type.
   * @return The ready references and the rest.
   */
  public static <T> WaitResult<T> wait(List<ObjectRef<T>> waitList) {
    return wait(waitList, waitList.size());
  }

  /**
   * Finds a live named actor in the job's namespace.
   *
   * @param name The actor's name.
   * @param <T> The handle type ({@code ActorHandle<A>} or {@link PyActorHandle}).
   * @return The handle, or empty if no live actor has that name.
   */
  public static <T extends BaseActorHandle> Optional<T> getActor(String name) {
    return internal().getActor(name, null);
  }

  /**
   * Finds a live named actor in a namespace.
   *
   * @param name The actor's name.
   * @param namespace The namespace.
   * @param <T> The handle type.
   * @return The handle, or empty if no live actor has that name there.
   */
  public static <T extends BaseActorHandle> Optional<T> getActor(String name, String namespace) {
    return internal().getActor(name, namespace);
  }

  /**
   * Returns a context for {@link #setAsyncContext} in another thread. Every thread may use the API
   * in this runtime, so this is only kept for compatibility.
   *
   * @return An opaque context.
   */
  public static Object getAsyncContext() {
    return internal().getAsyncContext();
  }

  /**
   * Sets the context of the current thread (see {@link #getAsyncContext}).
   *
   * @param asyncContext The context.
   */
  public static void setAsyncContext(Object asyncContext) {
    internal().setAsyncContext(asyncContext);
  }

  /**
   * Wraps a runnable that uses the API in another thread.
   *
   * @param runnable The runnable.
   * @return The wrapped runnable.
   */
  public static Runnable wrapRunnable(Runnable runnable) {
    return internal().wrapRunnable(runnable);
  }

  /**
   * Wraps a callable that uses the API in another thread.
   *
   * @param callable The callable.
   * @param <T> Its result type.
   * @return The wrapped callable.
   */
  public static <T> Callable<T> wrapCallable(Callable<T> callable) {
    return internal().wrapCallable(callable);
  }

  /**
   * Returns the runtime.
   *
   * @return The runtime.
   * @throws IllegalStateException If Ray has not been started.
   */
  public static RayRuntime internal() {
    RayRuntime current = runtime;
    if (current == null) {
      throw new IllegalStateException(
          "Ray has not been started yet. You can start Ray with 'Ray.init()'");
    }
    return current;
  }

  /**
   * Returns what the runtime knows about where this code runs.
   *
   * @return The runtime context.
   */
  public static RuntimeContext getRuntimeContext() {
    return internal().getRuntimeContext();
  }

  /**
   * Exits the current actor.
   *
   * @throws RuntimeException If this is not an actor.
   */
  public static void exitActor() {
    internal().exitActor();
  }
}
