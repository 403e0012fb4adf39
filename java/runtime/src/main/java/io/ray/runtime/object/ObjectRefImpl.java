package io.ray.runtime.object;

import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.id.ObjectId;
import io.ray.runtime.serialization.NestedRefs;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.lang.reflect.Type;

/**
 * The runtime's {@link ObjectRef}: an object id, the type its value is read as, and the position of
 * the submission that makes it on the session's Submit stream (0 when it is known to the session
 * owner already). Its reachability counts as a reference: when it becomes unreachable the runtime
 * releases the object (see {@code ReferenceTracker}).
 *
 * <p>It is serializable inside Java-format values (with its type): writing one records it as a
 * reference nested in the value; reading one in a JVM with a running runtime registers the new
 * holder.
 *
 * @param <T> The type of the object.
 */
public final class ObjectRefImpl<T> implements ObjectRef<T>, Serializable {
  private static final long serialVersionUID = 1L;

  private final ObjectId id;
  private final Type type;
  private transient long submitSeq;
  private transient volatile byte[] localFrame;

  /**
   * Creates a reference. Only the runtime creates them, and registers each one.
   *
   * @param id The object.
   * @param type The type its value is read as (null: the natural mapping).
   * @param submitSeq Position of the submission that makes it, or 0.
   */
  public ObjectRefImpl(ObjectId id, Type type, long submitSeq) {
    this.id = id;
    this.type = ValueTypes.serializable(type);
    this.submitSeq = submitSeq;
  }

  /**
   * Returns the object's id.
   *
   * @return The id.
   */
  public ObjectId getId() {
    return id;
  }

  /**
   * Returns the type the value is read as.
   *
   * @return The type, or null for the natural mapping.
   */
  public Type getType() {
    return type;
  }

  /**
   * Returns the position of the submission that makes the object.
   *
   * @return The sequence number on the Submit stream, or 0.
   */
  public long getSubmitSeq() {
    return submitSeq;
  }

  /**
   * Returns this reference's copy of the object's frame (see {@link LocalFrames}).
   *
   * @return The frame, or null if none is kept.
   */
  public byte[] localFrame() {
    return localFrame;
  }

  /**
   * Keeps a copy of the object's frame (once).
   *
   * @param frame The frame.
   * @return True if it was kept, false if one was kept already.
   */
  synchronized boolean setLocalFrame(byte[] frame) {
    if (localFrame != null) {
      return false;
    }
    localFrame = frame;
    return true;
  }

  @Override
  public T get() {
    return Ray.get(this);
  }

  @Override
  public T get(long timeoutMs) {
    return Ray.get(this, timeoutMs);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ObjectRefImpl && id.equals(((ObjectRefImpl<?>) o).id);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "ObjectRef(" + id + ")";
  }

  private void writeObject(ObjectOutputStream out) throws IOException {
    out.defaultWriteObject();
    NestedRefs.record(id);
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    submitSeq = 0;
    if (Ray.isInitialized() && Ray.internal() instanceof RefHolder) {
      ((RefHolder) Ray.internal()).registerDeserialized(this);
    }
  }

  /** The runtime side of reference counting, for references read from values. */
  public interface RefHolder {
    /**
     * Registers a reference that was deserialized in this JVM.
     *
     * @param ref The new holder.
     */
    void registerDeserialized(ObjectRefImpl<?> ref);
  }
}
