package io.ray.runtime.serialization;

import com.google.protobuf.ByteString;
import io.ray.rpc.NDArray;
import io.ray.rpc.NullValue;
import io.ray.rpc.Value;
import io.ray.rpc.ValueList;
import io.ray.rpc.ValueMap;
import io.ray.rpc.ValueMapEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes Java values as XLANG {@code Value}s (tests/xlang/README.md section 2), or says that a
 * value has no exact XLANG form. Mapping: {@code null}, {@code Boolean}, {@code Byte/Short/Integer/
 * Long} (int), {@code Float/Double} (float), {@code String} and {@code Character} (string), {@code
 * byte[]} (bytes), {@code List} and object arrays (list), {@code Map} (map), {@code int[]} (int32),
 * {@code long[]} (int64), {@code double[]} (float64), {@code float[]} (float32), {@code short[]}
 * (int16), {@code boolean[]} (bool) and {@link NdArray} (arrays).
 */
final class XlangEncoder {
  /** Most nested protobuf messages a writer produces (the top Value counts 1). */
  static final int MAX_DEPTH = 64;

  /** Most values in one object (map keys count). */
  static final int MAX_VALUES = 100_000;

  /** Why a value has no exact XLANG form. */
  static final class NotXlangException extends Exception {
    private static final long serialVersionUID = 1L;

    NotXlangException(String reason) {
      super(reason, null, false, false);
    }
  }

  /** A value's XLANG header and its buffers. */
  static final class Encoded {
    final Value header;
    final List<ByteSlice> buffers;

    Encoded(Value header, List<ByteSlice> buffers) {
      this.header = header;
      this.buffers = buffers;
    }
  }

  private final List<ByteSlice> buffers = new ArrayList<>();
  private final IdentityHashMap<Object, Boolean> containers = new IdentityHashMap<>();
  private int numValues = 0;

  private XlangEncoder() {}

  /**
   * Encodes a value.
   *
   * @param value The value.
   * @return Its header and buffers.
   * @throws NotXlangException If part of it has no XLANG form, a container appears twice, or it
   *     exceeds the limits; the message says which.
   */
  static Encoded encode(Object value) throws NotXlangException {
    XlangEncoder encoder = new XlangEncoder();
    Value header = encoder.encodeValue(value, 1);
    return new Encoded(header, encoder.buffers);
  }

  private Value encodeValue(Object v, int depth) throws NotXlangException {
    if (depth > MAX_DEPTH) {
      throw new NotXlangException("it nests deeper than " + MAX_DEPTH + " messages");
    }
    if (++numValues > MAX_VALUES) {
      throw new NotXlangException("it holds more than " + MAX_VALUES + " values");
    }
    if (v == null) {
      return Value.newBuilder().setNullValue(NullValue.getDefaultInstance()).build();
    }
    if (v instanceof Boolean) {
      return Value.newBuilder().setBoolValue((Boolean) v).build();
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return Value.newBuilder().setIntValue(((Number) v).longValue()).build();
    }
    if (v instanceof Double || v instanceof Float) {
      return Value.newBuilder().setFloatValue(((Number) v).doubleValue()).build();
    }
    if (v instanceof String) {
      String s = (String) v;
      checkUnicode(s);
      return Value.newBuilder().setStringValue(s).build();
    }
    if (v instanceof Character) {
      char c = (Character) v;
      if (Character.isSurrogate(c)) {
        throw new NotXlangException("a Character holds a lone surrogate");
      }
      return Value.newBuilder().setStringValue(String.valueOf(c)).build();
    }
    if (v instanceof byte[]) {
      byte[] b = (byte[]) v;
      return Value.newBuilder().setBytesBuffer(addBuffer(ByteSlice.of(b))).build();
    }
    if (v instanceof List) {
      enterContainer(v);
      ValueList.Builder list = ValueList.newBuilder();
      for (Object item : (List<?>) v) {
        list.addItems(encodeValue(item, depth + 2));
      }
      return Value.newBuilder().setListValue(list).build();
    }
    if (v instanceof Object[]) {
      enterContainer(v);
      ValueList.Builder list = ValueList.newBuilder();
      for (Object item : (Object[]) v) {
        list.addItems(encodeValue(item, depth + 2));
      }
      return Value.newBuilder().setListValue(list).build();
    }
    if (v instanceof Map) {
      enterContainer(v);
      ValueMap.Builder map = ValueMap.newBuilder();
      for (Map.Entry<?, ?> entry : ((Map<?, ?>) v).entrySet()) {
        Value key = encodeValue(entry.getKey(), depth + 3);
        Value value = encodeValue(entry.getValue(), depth + 3);
        map.addEntries(ValueMapEntry.newBuilder().setKey(key).setValue(value));
      }
      return Value.newBuilder().setMapValue(map).build();
    }
    NdArray array = toNdArray(v);
    if (array != null) {
      if (depth + 1 > MAX_DEPTH) {
        throw new NotXlangException("it nests deeper than " + MAX_DEPTH + " messages");
      }
      if (!(v instanceof NdArray)) {
        enterContainer(v);
      }
      NDArray.Builder nd = NDArray.newBuilder().setDtype(array.dtype());
      for (long dim : array.shape()) {
        nd.addShape(dim);
      }
      nd.setDataBuffer(addBuffer(ByteSlice.of(array.data())));
      return Value.newBuilder().setArrayValue(nd).build();
    }
    throw new NotXlangException("it contains a " + v.getClass().getName());
  }

  private int addBuffer(ByteSlice slice) {
    buffers.add(slice);
    return buffers.size() - 1;
  }

  private void enterContainer(Object container) throws NotXlangException {
    if (containers.put(container, Boolean.TRUE) != null) {
      throw new NotXlangException(
          "a " + container.getClass().getName() + " appears twice in it (shared or cyclic)");
    }
  }

  private static void checkUnicode(String s) throws NotXlangException {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
          continue;
        }
        throw new NotXlangException("a string holds a lone surrogate");
      }
      if (Character.isLowSurrogate(c)) {
        throw new NotXlangException("a string holds a lone surrogate");
      }
    }
  }

  /** The NdArray form of a primitive array (other than byte[]) or NdArray, else null. */
  private static NdArray toNdArray(Object v) {
    if (v instanceof NdArray) {
      return (NdArray) v;
    }
    if (v instanceof int[]) {
      int[] a = (int[]) v;
      ByteBuffer bb = le(4L * a.length);
      bb.asIntBuffer().put(a);
      return new NdArray("int32", new long[] {a.length}, bb.array());
    }
    if (v instanceof long[]) {
      long[] a = (long[]) v;
      ByteBuffer bb = le(8L * a.length);
      bb.asLongBuffer().put(a);
      return new NdArray("int64", new long[] {a.length}, bb.array());
    }
    if (v instanceof double[]) {
      double[] a = (double[]) v;
      ByteBuffer bb = le(8L * a.length);
      bb.asDoubleBuffer().put(a);
      return new NdArray("float64", new long[] {a.length}, bb.array());
    }
    if (v instanceof float[]) {
      float[] a = (float[]) v;
      ByteBuffer bb = le(4L * a.length);
      bb.asFloatBuffer().put(a);
      return new NdArray("float32", new long[] {a.length}, bb.array());
    }
    if (v instanceof short[]) {
      short[] a = (short[]) v;
      ByteBuffer bb = le(2L * a.length);
      bb.asShortBuffer().put(a);
      return new NdArray("int16", new long[] {a.length}, bb.array());
    }
    if (v instanceof boolean[]) {
      boolean[] a = (boolean[]) v;
      byte[] data = new byte[a.length];
      for (int i = 0; i < a.length; i++) {
        data[i] = (byte) (a[i] ? 1 : 0);
      }
      return new NdArray("bool", new long[] {a.length}, data);
    }
    return null;
  }

  private static ByteBuffer le(long size) {
    if (size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("array of " + size + " bytes is too large for a frame");
    }
    return ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The header bytes of an encoded value, as a slice. */
  static ByteSlice headerBytes(Value header) {
    ByteString bytes = header.toByteString();
    return ByteSlice.of(bytes.toByteArray());
  }
}
