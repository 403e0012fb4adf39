package io.ray.runtime.serialization;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;

/**
 * A dense numeric array as XLANG carries it (numpy's ndarray): a dtype, a shape and the elements in
 * C order, little endian. Reading an XLANG array as {@code Object} gives a Java primitive array for
 * one-dimensional {@code int16/int32/int64/float32/float64/bool} data and an {@code NdArray}
 * otherwise; ask for {@code double[][]}, {@code int[]}, ... to get Java arrays of any rank.
 */
public final class NdArray implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Element size in bytes of each dtype XLANG knows. */
  static final Map<String, Integer> ITEM_SIZES =
      Map.ofEntries(
          Map.entry("bool", 1),
          Map.entry("int8", 1),
          Map.entry("int16", 2),
          Map.entry("int32", 4),
          Map.entry("int64", 8),
          Map.entry("uint8", 1),
          Map.entry("uint16", 2),
          Map.entry("uint32", 4),
          Map.entry("uint64", 8),
          Map.entry("float32", 4),
          Map.entry("float64", 8));

  private final String dtype;
  private final long[] shape;
  private final byte[] data;

  /**
   * Creates an array, checking that the data fits the dtype and shape.
   *
   * @param dtype One of bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32,
   *     float64.
   * @param shape The dimensions (none for a 0-d array).
   * @param data {@code product(shape) * itemsize} bytes, little endian, C order (not copied).
   * @throws IllegalArgumentException If the dtype is unknown, a dimension is negative or the data
   *     has the wrong size.
   */
  public NdArray(String dtype, long[] shape, byte[] data) {
    Integer itemSize = ITEM_SIZES.get(dtype);
    if (itemSize == null) {
      throw new IllegalArgumentException(
          "unknown array dtype '" + dtype + "'; XLANG knows " + ITEM_SIZES.keySet());
    }
    long count = elementCount(shape);
    if (count * itemSize != data.length) {
      throw new IllegalArgumentException(
          String.format(
              "an array of dtype %s and shape %s needs %d bytes, got %d",
              dtype, Arrays.toString(shape), count * itemSize, data.length));
    }
    this.dtype = dtype;
    this.shape = shape.clone();
    this.data = data;
  }

  /**
   * Counts the elements of a shape.
   *
   * @param shape The dimensions.
   * @return Their product (1 for no dimensions).
   * @throws IllegalArgumentException If a dimension is negative or the count overflows.
   */
  static long elementCount(long[] shape) {
    long count = 1;
    for (long dim : shape) {
      if (dim < 0) {
        throw new IllegalArgumentException("negative array dimension in " + Arrays.toString(shape));
      }
      count = Math.multiplyExact(count, dim);
    }
    return count;
  }

  /**
   * Returns the element type.
   *
   * @return The dtype name.
   */
  public String dtype() {
    return dtype;
  }

  /**
   * Returns the dimensions.
   *
   * @return A copy of the shape.
   */
  public long[] shape() {
    return shape.clone();
  }

  /**
   * Returns the element bytes.
   *
   * @return The data (shared: do not modify).
   */
  public byte[] data() {
    return data;
  }

  /**
   * Returns the number of elements.
   *
   * @return The product of the shape.
   */
  public long size() {
    return elementCount(shape);
  }

  /**
   * Reads element {@code i} (in C order) as a Java value.
   *
   * @param i The flat index.
   * @return A {@code Long} for integer dtypes (uint64 above Long.MAX_VALUE wraps), a {@code Double}
   *     for float dtypes, a {@code Boolean} for bool.
   */
  public Object element(int i) {
    ByteBuffer bb = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case "bool":
        return data[i] != 0;
      case "int8":
        return (long) data[i];
      case "uint8":
        return (long) (data[i] & 0xff);
      case "int16":
        return (long) bb.getShort(2 * i);
      case "uint16":
        return (long) (bb.getShort(2 * i) & 0xffff);
      case "int32":
        return (long) bb.getInt(4 * i);
      case "uint32":
        return bb.getInt(4 * i) & 0xffffffffL;
      case "int64":
      case "uint64":
        return bb.getLong(8 * i);
      case "float32":
        return (double) bb.getFloat(4 * i);
      case "float64":
        return bb.getDouble(8 * i);
      default:
        throw new IllegalStateException("unknown dtype " + dtype);
    }
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof NdArray)) {
      return false;
    }
    NdArray other = (NdArray) o;
    return dtype.equals(other.dtype)
        && Arrays.equals(shape, other.shape)
        && Arrays.equals(data, other.data);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "NdArray{dtype=" + dtype + ", shape=" + Arrays.toString(shape) + "}";
  }
}
