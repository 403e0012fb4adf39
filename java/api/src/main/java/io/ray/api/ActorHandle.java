package io.ray.api;

/**
 * A handle to a Java actor. Call its methods with {@code task}:
 *
 * <pre>{@code
 * ActorHandle<Counter> counter = Ray.actor(Counter::new).remote();
 * ObjectRef<Integer> value = counter.task(Counter::increment).remote();
 * }</pre>
 *
 * @param <A> The actor's class.
 */
public interface ActorHandle<A> extends BaseActorHandle, ActorCall<A> {}
