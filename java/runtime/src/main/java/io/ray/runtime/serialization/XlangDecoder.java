package io.ray.runtime.serialization;

import io.ray.rpc.NDArray;
import io.ray.rpc.Value;
import io.ray.rpc.ValueMapEntry;
import java.lang.reflect.Array;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads XLANG {@code Value}s as Java values of a requested type. With {@code Object} as the type
 * the natural mapping applies: null, {@code Boolean}, {@code Long}, {@code Double}, {@code String},
 * {@code byte[]}, {@code ArrayList}, {@code LinkedHashMap}, and for arrays a primitive array
 * (one-dimensional int16/int32/int64/float32/float64/bool) or an {@link NdArray}. Other requested
 * types convert where no information is lost: {@code Integer} from an int in range, {@code
 * List<Integer>} element by element, {@code String[]} from a list, {@code double[][]} from a 2-d
 * array, and so on; anything else fails with a {@link ValueConversionException} naming both types.
 */
final class XlangDecoder {
  private final List<ByteSlice> buffers;

  private XlangDecoder(List<ByteSlice> buffers) {
    this.buffers = buffers;
  }

  /**
   * Decodes a value.
   *
   * @param value The header.
   * @param buffers The frame's buffers.
   * @param target The requested type.
   * @return The Java value.
   * @throws ValueConversionException If it cannot become {@code target}.
   * @throws MalformedFrameException If the value refers to missing buffers or holds a bad array.
   */
  static Object decode(Value value, List<ByteSlice> buffers, Type target) {
    return new XlangDecoder(buffers).decodeValue(value, target == null ? Object.class : target);
  }

  private Object decodeValue(Value v, Type target) {
    Class<?> raw = Types.rawClass(target);
    Class<?> boxed = Types.box(raw);
    switch (v.getKindCase()) {
      case NULL_VALUE:
        if (raw.isPrimitive()) {
          throw fail("null", null, target);
        }
        return null;
      case BOOL_VALUE:
        return convertBoolean(v.getBoolValue(), boxed, target);
      case INT_VALUE:
        return convertInteger(v.getIntValue(), boxed, target);
      case FLOAT_VALUE:
        return convertFloat(v.getFloatValue(), boxed, target);
      case STRING_VALUE:
        return convertString(v.getStringValue(), boxed, target);
      case BYTES_BUFFER:
        return convertBytes(buffer(v.getBytesBuffer()), boxed, target);
      case LIST_VALUE:
        return decodeList(v.getListValue().getItemsList(), raw, target);
      case MAP_VALUE:
        return decodeMap(v.getMapValue().getEntriesList(), raw, target);
      case ARRAY_VALUE:
        return decodeArray(toNdArray(v.getArrayValue()), raw, target);
      case KIND_NOT_SET:
      default:
        throw new MalformedFrameException("an XLANG Value has no kind set");
    }
  }

  private ByteSlice buffer(int index) {
    if (index < 0 || index >= buffers.size()) {
      throw new MalformedFrameException(
          "a value refers to buffer " + index + " but the frame has " + buffers.size());
    }
    return buffers.get(index);
  }

  // ---- scalars --------------------------------------------------------------------------------

  private static Object convertBoolean(boolean b, Class<?> boxed, Type target) {
    if (boxed.isAssignableFrom(Boolean.class)) {
      return b;
    }
    throw fail("bool", b, target);
  }

  static Object convertInteger(long x, Class<?> boxed, Type target) {
    if (boxed.isAssignableFrom(Long.class)) {
      return x;
    }
    if (boxed == Integer.class && x >= Integer.MIN_VALUE && x <= Integer.MAX_VALUE) {
      return (int) x;
    }
    if (boxed == Short.class && x >= Short.MIN_VALUE && x <= Short.MAX_VALUE) {
      return (short) x;
    }
    if (boxed == Byte.class && x >= Byte.MIN_VALUE && x <= Byte.MAX_VALUE) {
      return (byte) x;
    }
    if (boxed == Double.class && (long) (double) x == x) {
      return (double) x;
    }
    if (boxed == Float.class && (long) (float) x == x) {
      return (float) x;
    }
    if (boxed == BigInteger.class) {
      return BigInteger.valueOf(x);
    }
    if (boxed == BigDecimal.class) {
      return BigDecimal.valueOf(x);
    }
    if (boxed == Integer.class || boxed == Short.class || boxed == Byte.class) {
      throw new ValueConversionException(
          String.format(
              "Cannot convert the stored XLANG int %d to %s: it is out of range. Read it as"
                  + " java.lang.Long.",
              x, Types.name(target)));
    }
    throw fail("int", x, target);
  }

  private static Object convertFloat(double d, Class<?> boxed, Type target) {
    if (boxed.isAssignableFrom(Double.class)) {
      return d;
    }
    if (boxed == Float.class) {
      return (float) d;
    }
    if (boxed == BigDecimal.class && !Double.isNaN(d) && !Double.isInfinite(d)) {
      return BigDecimal.valueOf(d);
    }
    throw fail("float", d, target);
  }

  private static Object convertString(String s, Class<?> boxed, Type target) {
    if (boxed.isAssignableFrom(String.class)) {
      return s;
    }
    if (boxed == Character.class && s.length() == 1) {
      return s.charAt(0);
    }
    throw fail("string", s.length() > 40 ? s.substring(0, 40) + "..." : "\"" + s + "\"", target);
  }

  private static Object convertBytes(ByteSlice b, Class<?> boxed, Type target) {
    if (boxed.isAssignableFrom(byte[].class)) {
      return b.toByteArray();
    }
    if (boxed == ByteBuffer.class) {
      return ByteBuffer.wrap(b.toByteArray());
    }
    throw fail("bytes", b.length() + " bytes", target);
  }

  /** Converts an array element (Long, BigInteger, Double or Boolean) to a scalar target. */
  private static Object convertElement(Object e, Type target) {
    Class<?> boxed = Types.box(Types.rawClass(target));
    if (e instanceof Long) {
      return convertInteger((Long) e, boxed, target);
    }
    if (e instanceof Double) {
      return convertFloat((Double) e, boxed, target);
    }
    if (e instanceof Boolean) {
      return convertBoolean((Boolean) e, boxed, target);
    }
    BigInteger big = (BigInteger) e;
    if (boxed.isAssignableFrom(BigInteger.class)) {
      return big;
    }
    throw fail("uint64", big, target);
  }

  // ---- lists and maps -------------------------------------------------------------------------

  private Object decodeList(List<Value> items, Class<?> raw, Type target) {
    if (raw.isArray()) {
      Type componentType = Types.componentType(target);
      Object array = Array.newInstance(raw.getComponentType(), items.size());
      for (int i = 0; i < items.size(); i++) {
        Array.set(array, i, decodeValue(items.get(i), componentType));
      }
      return array;
    }
    Collection<Object> out;
    if (raw.isAssignableFrom(ArrayList.class)) {
      out = new ArrayList<>(items.size());
    } else if (raw.isAssignableFrom(LinkedHashSet.class)) {
      out = new LinkedHashSet<>();
    } else {
      throw fail("list", items.size() + " items", target);
    }
    Type elementType = Types.typeArgument(target, 0, 1);
    for (Value item : items) {
      out.add(decodeValue(item, elementType));
    }
    return out;
  }

  private Object decodeMap(List<ValueMapEntry> entries, Class<?> raw, Type target) {
    Map<Object, Object> out;
    if (raw.isAssignableFrom(LinkedHashMap.class)) {
      out = new LinkedHashMap<>();
    } else if (raw.isAssignableFrom(TreeMap.class)) {
      out = new TreeMap<>();
    } else {
      throw fail("map", entries.size() + " entries", target);
    }
    Type keyType = Types.typeArgument(target, 0, 2);
    Type valueType = Types.typeArgument(target, 1, 2);
    for (ValueMapEntry entry : entries) {
      if (!entry.hasKey() || !entry.hasValue()) {
        throw new MalformedFrameException("an XLANG map entry lacks its key or value");
      }
      out.put(decodeValue(entry.getKey(), keyType), decodeValue(entry.getValue(), valueType));
    }
    return out;
  }

  // ---- arrays ---------------------------------------------------------------------------------

  private NdArray toNdArray(NDArray a) {
    long[] shape = new long[a.getShapeCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = a.getShape(i);
    }
    ByteSlice data = buffer(a.getDataBuffer());
    try {
      return new NdArray(a.getDtype(), shape, data.toByteArray());
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new MalformedFrameException("bad XLANG array: " + e.getMessage(), e);
    }
  }

  /** The natural Java form of an array: a primitive array when that keeps everything. */
  static Object natural(NdArray nd) {
    if (nd.shape().length != 1) {
      return nd;
    }
    ByteBuffer bb = ByteBuffer.wrap(nd.data()).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) nd.size();
    switch (nd.dtype()) {
      case "int16":
        {
          short[] out = new short[n];
          bb.asShortBuffer().get(out);
          return out;
        }
      case "int32":
        {
          int[] out = new int[n];
          bb.asIntBuffer().get(out);
          return out;
        }
      case "int64":
        {
          long[] out = new long[n];
          bb.asLongBuffer().get(out);
          return out;
        }
      case "float32":
        {
          float[] out = new float[n];
          bb.asFloatBuffer().get(out);
          return out;
        }
      case "float64":
        {
          double[] out = new double[n];
          bb.asDoubleBuffer().get(out);
          return out;
        }
      case "bool":
        {
          boolean[] out = new boolean[n];
          for (int i = 0; i < n; i++) {
            out[i] = nd.data()[i] != 0;
          }
          return out;
        }
      default:
        return nd;
    }
  }

  private Object decodeArray(NdArray nd, Class<?> raw, Type target) {
    if (raw == NdArray.class) {
      return nd;
    }
    Object natural = natural(nd);
    if (raw.isInstance(natural)) {
      return natural;
    }
    long[] shape = nd.shape();
    if (raw == byte[].class
        && shape.length == 1
        && (nd.dtype().equals("int8") || nd.dtype().equals("uint8"))) {
      return nd.data().clone();
    }
    if (shape.length == 0 && !raw.isArray() && !Collection.class.isAssignableFrom(raw)) {
      return convertElement(element(nd, 0), target);
    }
    if (raw.isArray() && arrayRank(raw) == shape.length) {
      int[] flat = {0};
      return fillArray(nd, shape, 0, flat, raw, target);
    }
    if (raw.isAssignableFrom(ArrayList.class) && shape.length >= 1) {
      int[] flat = {0};
      return fillList(nd, shape, 0, flat, target);
    }
    throw fail(
        "array (dtype " + nd.dtype() + ", shape " + java.util.Arrays.toString(shape) + ")",
        null,
        target);
  }

  private static int arrayRank(Class<?> c) {
    int rank = 0;
    while (c.isArray()) {
      rank++;
      c = c.getComponentType();
    }
    return rank;
  }

  private static Object fillArray(
      NdArray nd, long[] shape, int dim, int[] flat, Class<?> raw, Type target) {
    int n = (int) shape[dim];
    Object out = Array.newInstance(raw.getComponentType(), n);
    Type componentType = Types.componentType(target);
    for (int i = 0; i < n; i++) {
      if (dim + 1 < shape.length) {
        Array.set(
            out,
            i,
            fillArray(nd, shape, dim + 1, flat, Types.rawClass(componentType), componentType));
      } else {
        Array.set(out, i, convertElement(element(nd, flat[0]++), componentType));
      }
    }
    return out;
  }

  private static Object fillList(NdArray nd, long[] shape, int dim, int[] flat, Type target) {
    int n = (int) shape[dim];
    List<Object> out = new ArrayList<>(n);
    Type elementType = Types.typeArgument(target, 0, 1);
    for (int i = 0; i < n; i++) {
      if (dim + 1 < shape.length) {
        Class<?> elementRaw = Types.rawClass(elementType);
        if (elementRaw.isArray()) {
          out.add(fillArray(nd, shape, dim + 1, flat, elementRaw, elementType));
        } else {
          out.add(fillList(nd, shape, dim + 1, flat, elementType));
        }
      } else {
        out.add(convertElement(element(nd, flat[0]++), elementType));
      }
    }
    return out;
  }

  /** Element i as Long, Double, Boolean, or BigInteger for a uint64 above Long.MAX_VALUE. */
  private static Object element(NdArray nd, int i) {
    Object e = nd.element(i);
    if (nd.dtype().equals("uint64") && (Long) e < 0) {
      return new BigInteger(Long.toUnsignedString((Long) e));
    }
    return e;
  }

  // ---- errors ---------------------------------------------------------------------------------

  private static ValueConversionException fail(String kind, Object value, Type target) {
    return new ValueConversionException(
        String.format(
            "Cannot convert the stored XLANG %s%s to %s. Read it as %s (or a type it converts"
                + " to), or return a value of the type you ask for.",
            kind,
            value == null ? "" : " (" + value + ")",
            Types.name(target),
            naturalTypeName(kind)));
  }

  private static String naturalTypeName(String kind) {
    if (kind.startsWith("array")) {
      return "a primitive array or " + NdArray.class.getName();
    }
    switch (kind) {
      case "null":
        return "a reference type";
      case "bool":
        return "java.lang.Boolean";
      case "int":
        return "java.lang.Long";
      case "float":
        return "java.lang.Double";
      case "string":
        return "java.lang.String";
      case "bytes":
        return "byte[]";
      case "list":
        return "java.util.List or an array";
      case "map":
        return "java.util.Map";
      default:
        return "java.lang.Object";
    }
  }
}
