package io.ray.runtime.serialization;

import java.util.Arrays;

/** A range of a byte array, shared, not copied. */
public final class ByteSlice {
  private final byte[] array;
  private final int offset;
  private final int length;

  /**
   * Creates a slice.
   *
   * @param array The array.
   * @param offset Start of the range.
   * @param length Length of the range.
   */
  public ByteSlice(byte[] array, int offset, int length) {
    if (offset < 0 || length < 0 || offset > array.length - length) {
      throw new IndexOutOfBoundsException(
          "slice [" + offset + ", +" + length + ") of " + array.length + " bytes");
    }
    this.array = array;
    this.offset = offset;
    this.length = length;
  }

  /**
   * Wraps a whole array.
   *
   * @param array The array.
   * @return A slice over all of it.
   */
  public static ByteSlice of(byte[] array) {
    return new ByteSlice(array, 0, array.length);
  }

  /**
   * Returns the backing array.
   *
   * @return The array (shared).
   */
  public byte[] array() {
    return array;
  }

  /**
   * Returns the start of the range.
   *
   * @return The offset.
   */
  public int offset() {
    return offset;
  }

  /**
   * Returns the length of the range.
   *
   * @return The length.
   */
  public int length() {
    return length;
  }

  /**
   * Copies the range.
   *
   * @return A new array with the bytes.
   */
  public byte[] toByteArray() {
    return Arrays.copyOfRange(array, offset, offset + length);
  }
}
