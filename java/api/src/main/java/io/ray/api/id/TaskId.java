package io.ray.api.id;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** The id of a task (24 bytes: 20 unique bytes followed by the job id). */
public class TaskId extends BaseId {
  private static final long serialVersionUID = 1L;

  /** Number of unique bytes before the job id. */
  public static final int UNIQUE_BYTES_LENGTH = 20;

  /** Length of a task id in bytes. */
  public static final int LENGTH = UNIQUE_BYTES_LENGTH + JobId.LENGTH;

  /** The nil task id. */
  public static final TaskId NIL = new TaskId(nilBytes(LENGTH));

  private TaskId(byte[] id) {
    super(id);
  }

  /**
   * Creates a task id from its bytes.
   *
   * @param bytes 24 bytes.
   * @return The id.
   */
  public static TaskId fromBytes(byte[] bytes) {
    return new TaskId(bytes);
  }

  /**
   * Creates a task id from hex.
   *
   * @param hex 48 hex digits.
   * @return The id.
   */
  public static TaskId fromHexString(String hex) {
    return new TaskId(hexString2Bytes(hex));
  }

  /**
   * Creates a task id from the remaining bytes of a buffer.
   *
   * @param bb A buffer with 24 remaining bytes.
   * @return The id.
   */
  public static TaskId fromByteBuffer(ByteBuffer bb) {
    return new TaskId(byteBuffer2Bytes(bb));
  }

  /**
   * Returns the job this task belongs to.
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
