package io.ray.api.id;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The id of an object (28 bytes: the id of the task that made it, then a 4-byte big-endian index: 0
 * for a put, 1, 2, ... for the returns of a task).
 */
public class ObjectId extends BaseId {
  private static final long serialVersionUID = 1L;

  /** Length of an object id in bytes. */
  public static final int LENGTH = TaskId.LENGTH + 4;

  /**
   * Creates an object id from its bytes.
   *
   * @param id 28 bytes.
   */
  public ObjectId(byte[] id) {
    super(id);
  }

  /**
   * Creates an object id from the remaining bytes of a buffer.
   *
   * @param bb A buffer with 28 remaining bytes.
   * @return The id.
   */
  public static ObjectId fromByteBuffer(ByteBuffer bb) {
    return new ObjectId(byteBuffer2Bytes(bb));
  }

  /**
   * Creates an object id from hex.
   *
   * @param hex 56 hex digits.
   * @return The id.
   */
  public static ObjectId fromHexString(String hex) {
    return new ObjectId(hexString2Bytes(hex));
  }

  /**
   * Makes a random object id (index 0). Only for tests: the runtime makes real ids from the
   * session's job.
   *
   * @return A random id.
   */
  public static ObjectId fromRandom() {
    byte[] b = new byte[LENGTH];
    new SecureRandom().nextBytes(b);
    Arrays.fill(b, TaskId.LENGTH, LENGTH, (byte) 0);
    return new ObjectId(b);
  }

  /**
   * Returns the task that made this object.
   *
   * @return The first 24 bytes as a task id.
   */
  public TaskId getTaskId() {
    return TaskId.fromBytes(Arrays.copyOfRange(getBytes(), 0, TaskId.LENGTH));
  }

  /**
   * Returns the object's index within its task: 0 for a put, 1.. for task returns.
   *
   * @return The big-endian index in the last 4 bytes.
   */
  public int getIndex() {
    return ByteBuffer.wrap(getBytes(), TaskId.LENGTH, 4).getInt();
  }

  @Override
  public int size() {
    return LENGTH;
  }
}
