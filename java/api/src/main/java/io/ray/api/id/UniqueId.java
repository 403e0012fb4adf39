package io.ray.api.id;

import java.nio.ByteBuffer;
import java.security.SecureRandom;

/** A 28-byte id of other things of the runtime (nodes, workers). */
public class UniqueId extends BaseId {
  private static final long serialVersionUID = 1L;

  /** Length of a unique id in bytes. */
  public static final int LENGTH = 28;

  /** The nil unique id. */
  public static final UniqueId NIL = new UniqueId(nilBytes(LENGTH));

  /**
   * Creates a unique id from its bytes.
   *
   * @param id 28 bytes.
   */
  public UniqueId(byte[] id) {
    super(id);
  }

  /**
   * Creates a unique id from hex.
   *
   * @param hex 56 hex digits.
   * @return The id.
   */
  public static UniqueId fromHexString(String hex) {
    return new UniqueId(hexString2Bytes(hex));
  }

  /**
   * Creates a unique id from the remaining bytes of a buffer.
   *
   * @param bb A buffer with 28 remaining bytes.
   * @return The id.
   */
  public static UniqueId fromByteBuffer(ByteBuffer bb) {
    return new UniqueId(byteBuffer2Bytes(bb));
  }

  /**
   * Creates a unique id from its bytes.
   *
   * @param bytes 28 bytes.
   * @return The id.
   */
  public static UniqueId fromBytes(byte[] bytes) {
    return new UniqueId(bytes);
  }

  /**
   * Makes a random unique id.
   *
   * @return A random id.
   */
  public static UniqueId randomId() {
    byte[] b = new byte[LENGTH];
    new SecureRandom().nextBytes(b);
    return new UniqueId(b);
  }

  @Override
  public int size() {
    return LENGTH;
  }
}
