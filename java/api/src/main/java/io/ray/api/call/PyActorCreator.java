package io.ray.api.call;

import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.PyActorClass;

/** Creates a Python actor: {@code Ray.actor(PyActorClass.of("mod", "Counter"), 0).remote()}. */
public class PyActorCreator extends BaseActorCreator<PyActorCreator> {
  private final PyActorClass pyActorClass;
  private final Object[] args;

  /**
   * Creates a creator.
   *
   * @param pyActorClass The Python class.
   * @param args Arguments of its {@code __init__}.
   */
  public PyActorCreator(PyActorClass pyActorClass, Object[] args) {
    this.pyActorClass = pyActorClass;
    this.args = args;
  }

  /**
   * Marks the Python actor as async.
   *
   * @param isAsync True for an async actor.
   * @return self
   */
  public PyActorCreator setAsync(boolean isAsync) {
    builder.setAsync(isAsync);
    return this;
  }

  /**
   * Creates the actor. Returns at once; calls queue until the actor is alive.
   *
   * @return A handle to the actor.
   */
  public PyActorHandle remote() {
    return Ray.internal().createActor(pyActorClass, args, buildOptions());
  }
}
