package io.ray.api.id;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Base class of the binary ids of the runtime (jobs, tasks, objects, actors, ...). */
public abstract class BaseId implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private final byte[] id;
  private transient int hashCodeCache = 0;

  /**
   * Creates an id from its bytes.
   *
   * @param id The bytes; their length must be {@link #size()}. The array is not copied.
   * @throws IllegalArgumentException If the length is wrong.
   */
  protected BaseId(byte[] id) {
    if (id == null || id.length != size()) {
      throw new IllegalArgumentException(
          String.format(
              "%s needs %d bytes, got %s",
              getClass().getSimpleName(), size(), id == null ? "null" : id.length + " bytes"));
    }
    this.id = id;
  }

  /**
   * Returns the bytes of this id.
   *
   * @return The id's bytes (not a copy: do not modify them).
   */
  public byte[] getBytes() {
    return id;
  }

  /**
   * Returns the bytes of this id as a buffer.
   *
   * @return A buffer wrapping the id's bytes.
   */
  public ByteBuffer toByteBuffer() {
    return ByteBuffer.wrap(id);
  }

  /**
   * Tells whether this is the nil id (all bytes 0xff).
   *
   * @return True for the nil id.
   */
  public boolean isNil() {
    for (byte b : id) {
      if (b != (byte) 0xff) {
        return false;
      }
    }
    return true;
  }

  /**
   * Returns the length of this kind of id.
   *
   * @return The number of bytes.
   */
  public abstract int size();

  @Override
  public int hashCode() {
    if (hashCodeCache == 0) {
      hashCodeCache = Arrays.hashCode(id);
    }
    return hashCodeCache;
  }

  @Override
  public boolean equals(Object obj) {
    if (this == obj) {
      return true;
    }
    if (obj == null || !getClass().equals(obj.getClass())) {
      return false;
    }
    return Arrays.equals(id, ((BaseId) obj).id);
  }

  /** Returns the id in lowercase hex. */
  @Override
  public String toString() {
    return bytesToHex(id);
  }

  /**
   * Formats bytes as lowercase hex.
   *
   * @param bytes The bytes.
   * @return Their hex form, two characters per byte.
   */
  protected static String bytesToHex(byte[] bytes) {
    char[] out = new char[bytes.length * 2];
    for (int i = 0; i < bytes.length; i++) {
      out[2 * i] = HEX[(bytes[i] >> 4) & 0xf];
      out[2 * i + 1] = HEX[bytes[i] & 0xf];
    }
    return new String(out);
  }

  /**
   * Parses hex (either case) into bytes.
   *
   * @param hex An even number of hex digits.
   * @return The bytes.
   * @throws IllegalArgumentException If {@code hex} is not valid hex.
   */
  protected static byte[] hexString2Bytes(String hex) {
    if (hex == null || hex.length() % 2 != 0) {
      throw new IllegalArgumentException("not an even number of hex digits: " + hex);
    }
    byte[] out = new byte[hex.length() / 2];
    for (int i = 0; i < out.length; i++) {
      int hi = Character.digit(hex.charAt(2 * i), 16);
      int lo = Character.digit(hex.charAt(2 * i + 1), 16);
      if (hi < 0 || lo < 0) {
        throw new IllegalArgumentException("not a hex string: " + hex);
      }
      out[i] = (byte) ((hi << 4) | lo);
    }
    return out;
  }

  /**
   * Copies the remaining bytes of a buffer.
   *
   * @param bb The buffer; its position moves to its limit.
   * @return The bytes.
   */
  protected static byte[] byteBuffer2Bytes(ByteBuffer bb) {
    byte[] id = new byte[bb.remaining()];
    bb.get(id);
    return id;
  }

  /**
   * Returns an array of {@code length} bytes 0xff (the nil id).
   *
   * @param length The length.
   * @return The bytes.
   */
  protected static byte[] nilBytes(int length) {
    byte[] b = new byte[length];
    Arrays.fill(b, (byte) 0xff);
    return b;
  }
}
