package io.ray.api.id;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The id of a job (4 bytes). Every task, object and actor id of a job ends with it. */
public class JobId extends BaseId {
  private static final long serialVersionUID = 1L;

  /** Length of a job id in bytes. */
  public static final int LENGTH = 4;

  /** The nil job id. */
  public static final JobId NIL = new JobId(nilBytes(LENGTH));

  private JobId(byte[] id) {
    super(id);
  }

  /**
   * Creates a job id from its bytes.
   *
   * @param bytes 4 bytes.
   * @return The id.
   */
  public static JobId fromBytes(byte[] bytes) {
    return new JobId(bytes);
  }

  /**
   * Creates a job id from hex.
   *
   * @param hex 8 hex digits.
   * @return The id.
   */
  public static JobId fromHexString(String hex) {
    return new JobId(hexString2Bytes(hex));
  }

  /**
   * Creates a job id from the remaining bytes of a buffer.
   *
   * @param bb A buffer with 4 remaining bytes.
   * @return The id.
   */
  public static JobId fromByteBuffer(ByteBuffer bb) {
    return new JobId(byteBuffer2Bytes(bb));
  }

  /**
   * Creates a job id from an integer (little endian, as Ray does).
   *
   * @param value The job number.
   * @return The id.
   */
  public static JobId fromInt(int value) {
    return new JobId(
        ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
  }

  @Override
  public int size() {
    return LENGTH;
  }
}
