package io.ray.api.id;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Arrays;

/** The id of an actor (28 bytes: 24 unique bytes followed by the job id). */
public class ActorId extends BaseId {
  private static final long serialVersionUID = 1L;

  /** Number of unique bytes before the job id. */
  public static final int UNIQUE_BYTES_LENGTH = 24;

  /** Length of an actor id in bytes. */
  public static final int LENGTH = UNIQUE_BYTES_LENGTH + JobId.LENGTH;

  /** The nil actor id. */
  public static final ActorId NIL = new ActorId(nilBytes(LENGTH));

  private ActorId(byte[] id) {
    super(id);
  }

  /**
   * Creates an actor id from its bytes.
   *
   * @param bytes 28 bytes.
   * @return The id.
   */
  public static ActorId fromBytes(byte[] bytes) {
    return new ActorId(bytes);
  }

  /**
   * Creates an actor id from the remaining bytes of a buffer.
   *
   * @param bb A buffer with 28 remaining bytes.
   * @return The id.
   */
  public static ActorId fromByteBuffer(ByteBuffer bb) {
    return new ActorId(byteBuffer2Bytes(bb));
  }

  /**
   * Makes a random actor id. Only for tests: the runtime makes real ids from the session's job.
   *
   * @return A random id.
   */
  public static ActorId fromRandom() {
    byte[] b = new byte[LENGTH];
    new SecureRandom().nextBytes(b);
    return new ActorId(b);
  }

  /**
   * Returns the job that created this actor.
   *
   * @return The last 4 bytes as a job id.
   */
  public JobId getJobId() {
    return JobId.fromBytes(Arrays.copyOfRange(getBytes(), UNIQUE_BYTES_LENGTH, LENGTH));
  }

  @Override
  public int size() {
    return LENGTH;
  }
}
