package io.ray.api.runtime;

import io.ray.api.ActorHandle;
import io.ray.api.BaseActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.WaitResult;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import io.ray.api.function.RayFunc;
import io.ray.api.options.ActorCreationOptions;
import io.ray.api.options.CallOptions;
import io.ray.api.runtimecontext.RuntimeContext;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * The runtime behind {@link io.ray.api.Ray}: the service provider interface that {@code
 * io.ray.runtime} implements. User code reaches it through {@code Ray.internal()}.
 */
@SuppressWarnings("rawtypes")
public interface RayRuntime {

  /** Ends the runtime: releases what it holds, ends its session and stops a cluster it started. */
  void shutdown();

  /**
   * Stores an object in the object store.
   *
   * @param obj The object.
   * @param <T> Its type.
   * @return A reference to the stored object.
   */
  <T> ObjectRef<T> put(T obj);

  /**
   * Stores an object owned by an actor (experimental in Ray).
   *
   * @param obj The object.
   * @param owner The actor that owns it.
   * @param <T> Its type.
   * @return A reference to the stored object.
   */
  <T> ObjectRef<T> put(T obj, BaseActorHandle owner);

  /**
   * Waits for an object and returns it.
   *
   * @param objectRef The reference.
   * @param <T> The object's type.
   * @return The object.
   */
  <T> T get(ObjectRef<T> objectRef);

  /**
   * Waits for objects (in one request) and returns them in order.
   *
   * @param objectRefs The references.
   * @param <T> The objects' type.
   * @return The objects.
   */
  <T> List<T> get(List<ObjectRef<T>> objectRefs);

  /**
   * Waits at most {@code timeoutMs} for an object and returns it.
   *
   * @param objectRef The reference.
   * @param timeoutMs The longest wait (negative: no limit).
   * @param <T> The object's type.
   * @return The object.
   */
  <T> T get(ObjectRef<T> objectRef, long timeoutMs);

  /**
   * Waits at most {@code timeoutMs} for objects (in one request) and returns them in order.
   *
   * @param objectRefs The references.
   * @param timeoutMs The longest wait (negative: no limit).
   * @param <T> The objects' type.
   * @return The objects.
   */
  <T> List<T> get(List<ObjectRef<T>> objectRefs, long timeoutMs);

  /**
   * Waits until {@code numReturns} of the objects are ready or the timeout passes.
   *
   * @param waitList The references.
   * @param numReturns How many ready ones to wait for.
   * @param timeoutMs The longest wait.
   * @param fetchLocal Also bring ready objects to the local node.
   * @param <T> The objects' type.
   * @return The ready and unready references.
   */
  <T> WaitResult<T> wait(
      List<ObjectRef<T>> waitList, int numReturns, int timeoutMs, boolean fetchLocal);

  /**
   * Finds a live named actor.
   *
   * @param name The actor's name.
   * @param namespace Its namespace, or null for the job's.
   * @param <T> The handle type.
   * @return The handle, or empty when no live actor has the name.
   */
  <T extends BaseActorHandle> Optional<T> getActor(String name, String namespace);

  /**
   * Kills an actor.
   *
   * @param actor The actor.
   * @param noRestart True to not restart it.
   */
  void killActor(BaseActorHandle actor, boolean noRestart);

  /**
   * Submits a Java task.
   *
   * @param func The function.
   * @param args Its arguments.
   * @param options The options.
   * @return A reference to the result (null for a function that returns nothing).
   */
  ObjectRef call(RayFunc func, Object[] args, CallOptions options);

  /**
   * Submits a Python task.
   *
   * @param pyFunction The function.
   * @param args Its arguments.
   * @param options The options.
   * @return A reference to the result.
   */
  ObjectRef call(PyFunction pyFunction, Object[] args, CallOptions options);

  /**
   * Calls a method of a Java actor.
   *
   * @param actor The actor.
   * @param func The method.
   * @param args Its arguments.
   * @param options The options.
   * @return A reference to the result (null for a method that returns nothing).
   */
  ObjectRef callActor(ActorHandle<?> actor, RayFunc func, Object[] args, CallOptions options);

  /**
   * Calls a method of a Python actor.
   *
   * @param pyActor The actor.
   * @param pyActorMethod The method.
   * @param args Its arguments.
   * @return A reference to the result.
   */
  ObjectRef callActor(PyActorHandle pyActor, PyActorMethod pyActorMethod, Object[] args);

  /**
   * Creates a Java actor.
   *
   * @param actorFactoryFunc Its constructor or a static factory method.
   * @param args Their arguments.
   * @param options The options.
   * @param <T> The actor's class.
   * @return A handle to the actor.
   */
  <T> ActorHandle<T> createActor(
      RayFunc actorFactoryFunc, Object[] args, ActorCreationOptions options);

  /**
   * Creates a Python actor.
   *
   * @param pyActorClass The class.
   * @param args Arguments of its constructor.
   * @param options The options.
   * @return A handle to the actor.
   */
  PyActorHandle createActor(PyActorClass pyActorClass, Object[] args, ActorCreationOptions options);

  /**
   * Returns the runtime context.
   *
   * @return The context.
   */
  RuntimeContext getRuntimeContext();

  /**
   * Returns a context to hand to another thread (not needed by this runtime: every thread may use
   * the API).
   *
   * @return An opaque context.
   */
  Object getAsyncContext();

  /**
   * Sets the context of the current thread.
   *
   * @param asyncContext A context from {@link #getAsyncContext()}.
   */
  void setAsyncContext(Object asyncContext);

  /**
   * Wraps a runnable so that it may use the API in another thread.
   *
   * @param runnable The runnable.
   * @return The wrapped runnable.
   */
  Runnable wrapRunnable(Runnable runnable);

  /**
   * Wraps a callable so that it may use the API in another thread.
   *
   * @param callable The callable.
   * @param <T> Its result type.
   * @return The wrapped callable.
   */
  <T> Callable<T> wrapCallable(Callable<T> callable);

  /** Exits the current actor (only inside an actor). */
  void exitActor();

  /**
   * Returns the job's namespace.
   *
   * @return The namespace.
   */
  String getNamespace();
}
