package io.ray.runtime.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.api.exception.ActorUnavailableException;
import io.ray.api.exception.CrossLanguageException;
import io.ray.api.exception.RayActorException;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTaskException;
import io.ray.api.exception.RayWorkerException;
import io.ray.api.exception.UnreconstructableException;
import io.ray.api.id.ActorId;
import io.ray.api.id.ObjectId;
import io.ray.rpc.ErrorInfo;
import io.ray.rpc.ErrorType;
import io.ray.rpc.Language;
import io.ray.rpc.LanguageValueHeader;
import io.ray.runtime.object.ValueTypes;
import java.io.Serializable;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/** The Java mapping of values to frames, and back to the types callers ask for. */
class FrameCodecTest {

  /** Generic types to decode to, taken from fields. */
  @SuppressWarnings("unused")
  private static final class Shapes {
    List<Integer> listOfInts;
    Map<String, Integer> mapOfInts;
    Map<String, List<Short>> mapOfLists;
    List<double[]> listOfArrays;
  }

  private static Type shape(String field) throws NoSuchFieldException {
    return Shapes.class.getDeclaredField(field).getGenericType();
  }

  private static Object roundTrip(Object value, Type type) {
    byte[] frame = FrameCodec.encode(value).frame();
    return FrameCodec.decode(frame, type, null, null);
  }

  private static int formatOf(Object value) {
    return FrameCodec.formatOf(FrameCodec.encode(value).frame());
  }

  /** A Java-only value. */
  static final class Point implements Serializable {
    private static final long serialVersionUID = 1L;
    final int x;
    final int y;

    Point(int x, int y) {
      this.x = x;
      this.y = y;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Point && ((Point) o).x == x && ((Point) o).y == y;
    }

    @Override
    public int hashCode() {
      return Objects.hash(x, y);
    }
  }

  @Test
  void scalarsRoundTripAsTheRequestedType() {
    assertNull(roundTrip(null, Object.class));
    assertEquals(true, roundTrip(true, Boolean.class));
    assertEquals(7, roundTrip(7, Integer.class));
    assertEquals(7, roundTrip(7, int.class));
    assertEquals(7L, roundTrip(7, Object.class));
    assertEquals(Long.MIN_VALUE, roundTrip(Long.MIN_VALUE, Long.class));
    assertEquals((short) -3, roundTrip((short) -3, Short.class));
    assertEquals((byte) 5, roundTrip((byte) 5, Byte.class));
    assertEquals(2.5, roundTrip(2.5, Double.class));
    assertEquals(1.25f, roundTrip(1.25f, Float.class));
    assertEquals(3.0, roundTrip(3, Double.class));
    assertEquals("héllo ✓ 🚀", roundTrip("héllo ✓ 🚀", String.class));
    assertEquals('x', roundTrip('x', Character.class));
    for (Object v : new Object[] {null, true, 7, 7L, (short) 1, (byte) 1, 2.5, 1.5f, "s", 'c'}) {
      assertEquals(FrameCodec.XLANG, formatOf(v), "format of " + v);
    }
  }

  @Test
  void bytesStayBytesAndTheEmptyArrayStaysAnEmptyArray() {
    byte[] empty = (byte[]) roundTrip(new byte[0], Object.class);
    assertEquals(0, empty.length);
    assertArrayEquals(
        new byte[] {1, 2, (byte) 0xff}, (byte[]) roundTrip(new byte[] {1, 2, -1}, byte[].class));
    ByteBuffer buffer = (ByteBuffer) roundTrip(new byte[] {9}, ByteBuffer.class);
    assertEquals(9, buffer.get(0));
  }

  @Test
  void listsMapsAndObjectArrays() throws Exception {
    List<Integer> ints = Arrays.asList(1, 2, 3);
    assertEquals(Arrays.asList(1L, 2L, 3L), roundTrip(ints, Object.class));
    assertEquals(ints, roundTrip(ints, shape("listOfInts")));
    assertEquals(ints, roundTrip(ints, ValueTypes.shapeOf(ints)));

    Map<String, Integer> map = new LinkedHashMap<>();
    map.put("b", 2);
    map.put("a", 1);
    Object natural = roundTrip(map, Object.class);
    assertEquals(LinkedHashMap.class, natural.getClass());
    assertEquals(Arrays.asList("b", "a"), new ArrayList<>(((Map<?, ?>) natural).keySet()));
    assertEquals(map, roundTrip(map, shape("mapOfInts")));

    Map<String, List<Short>> nested = new LinkedHashMap<>();
    nested.put("k", Arrays.asList((short) 1, (short) 2));
    assertEquals(nested, roundTrip(nested, shape("mapOfLists")));
    assertEquals(nested, roundTrip(nested, ValueTypes.shapeOf(nested)));

    String[] strings = {"a", null, "c"};
    assertEquals(FrameCodec.XLANG, formatOf(strings));
    assertArrayEquals(strings, (String[]) roundTrip(strings, String[].class));
    assertEquals(Arrays.asList("a", null, "c"), roundTrip(strings, Object.class));
    Object[] mixed = {1, "two", 3.0, null, new byte[] {4}};
    Object[] back = (Object[]) roundTrip(mixed, Object[].class);
    assertEquals(1L, back[0]);
    assertEquals("two", back[1]);
    assertEquals(3.0, back[2]);
    assertNull(back[3]);
    assertArrayEquals(new byte[] {4}, (byte[]) back[4]);
    Integer[] boxed = (Integer[]) roundTrip(new Integer[] {4, 5}, Integer[].class);
    assertArrayEquals(new Integer[] {4, 5}, boxed);
    Object set = roundTrip(ints.subList(0, 2), java.util.Set.class);
    assertEquals(java.util.LinkedHashSet.class, set.getClass());
    assertEquals(new HashSet<>(Arrays.asList(1L, 2L)), set);
  }

  @Test
  void primitiveArraysAreXlangArrays() throws Exception {
    assertArrayEquals(new int[] {1, -2, 3}, (int[]) roundTrip(new int[] {1, -2, 3}, Object.class));
    assertArrayEquals(
        new long[] {1L << 40, -1}, (long[]) roundTrip(new long[] {1L << 40, -1}, long[].class));
    assertArrayEquals(
        new double[] {0.5, -0.0}, (double[]) roundTrip(new double[] {0.5, -0.0}, double[].class));
    assertArrayEquals(new float[] {1.5f}, (float[]) roundTrip(new float[] {1.5f}, Object.class));
    assertArrayEquals(new short[] {-7}, (short[]) roundTrip(new short[] {-7}, Object.class));
    assertArrayEquals(
        new boolean[] {true, false},
        (boolean[]) roundTrip(new boolean[] {true, false}, Object.class));
    // int32 data read as long[] and as a list of Integers.
    assertArrayEquals(new long[] {1, 2}, (long[]) roundTrip(new int[] {1, 2}, long[].class));
    assertEquals(Arrays.asList(1, 2), roundTrip(new int[] {1, 2}, shape("listOfInts")));
    // A list of ints read as int[].
    assertArrayEquals(new int[] {1, 2}, (int[]) roundTrip(Arrays.asList(1, 2), int[].class));
    // Arrays of arrays are lists of arrays.
    double[][] matrix = {{1, 2}, {3, 4}};
    assertArrayEquals(matrix, (double[][]) roundTrip(matrix, double[][].class));
    List<?> rows = (List<?>) roundTrip(matrix, shape("listOfArrays"));
    assertArrayEquals(new double[] {3, 4}, (double[]) rows.get(1));
    // The header of an int[] names dtype int32 and its shape.
    NdArray nd = (NdArray) roundTrip(new int[] {5, 6}, NdArray.class);
    assertEquals("int32", nd.dtype());
    assertArrayEquals(new long[] {2}, nd.shape());
    ByteBuffer le = ByteBuffer.wrap(nd.data()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(5, le.getInt(0));
    assertEquals(6, le.getInt(4));
  }

  @Test
  void multiDimensionalArraysConvertByShape() {
    ByteBuffer data = ByteBuffer.allocate(6 * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) {
      data.putInt(i);
    }
    NdArray nd = new NdArray("int32", new long[] {2, 3}, data.array());
    byte[] frame = FrameCodec.encode(nd).frame();
    assertEquals(nd, FrameCodec.decode(frame));
    int[][] ints = (int[][]) FrameCodec.decode(frame, int[][].class, null, null);
    assertArrayEquals(new int[] {3, 4, 5}, ints[1]);
    long[][] longs = (long[][]) FrameCodec.decode(frame, long[][].class, null, null);
    assertEquals(5L, longs[1][2]);
    ValueConversionException e =
        assertThrows(
            ValueConversionException.class,
            () -> FrameCodec.decode(frame, int[].class, null, null));
    assertTrue(e.getMessage().contains("int[]"), e.getMessage());
    assertTrue(e.getMessage().contains("shape [2, 3]"), e.getMessage());
  }

  @Test
  void conversionFailuresNameBothTypes() {
    byte[] string = FrameCodec.encode("hello").frame();
    ValueConversionException e =
        assertThrows(
            ValueConversionException.class,
            () -> FrameCodec.decode(string, Integer.class, null, null));
    assertTrue(e.getMessage().contains("string"), e.getMessage());
    assertTrue(e.getMessage().contains("java.lang.Integer"), e.getMessage());

    byte[] big = FrameCodec.encode(1L << 40).frame();
    e =
        assertThrows(
            ValueConversionException.class,
            () -> FrameCodec.decode(big, Integer.class, null, null));
    assertTrue(e.getMessage().contains("out of range"), e.getMessage());

    byte[] dbl = FrameCodec.encode(1.5).frame();
    e =
        assertThrows(
            ValueConversionException.class, () -> FrameCodec.decode(dbl, Long.class, null, null));
    assertTrue(e.getMessage().contains("float") && e.getMessage().contains("java.lang.Long"));

    byte[] nul = FrameCodec.encode(null).frame();
    assertThrows(
        ValueConversionException.class, () -> FrameCodec.decode(nul, int.class, null, null));

    byte[] list = FrameCodec.encode(Arrays.asList(1, 2)).frame();
    e =
        assertThrows(
            ValueConversionException.class, () -> FrameCodec.decode(list, Map.class, null, null));
    assertTrue(e.getMessage().contains("list") && e.getMessage().contains("java.util.Map"));
  }

  @Test
  void otherSerializableValuesUseTheJavaFormat() {
    Point p = new Point(1, 2);
    EncodedValue encoded = FrameCodec.encode(p);
    Frame frame = Frame.parse(encoded.frame());
    assertEquals(FrameCodec.JAVA, frame.format());
    assertEquals(1, frame.buffers().size());
    assertEquals(Point.class.getName(), typeName(frame));
    assertEquals(p, FrameCodec.decode(encoded.frame(), Point.class, null, null));
    assertEquals(p, FrameCodec.decode(encoded.frame()));
    ValueConversionException e =
        assertThrows(
            ValueConversionException.class,
            () -> FrameCodec.decode(encoded.frame(), String.class, null, null));
    assertTrue(e.getMessage().contains(Point.class.getName()), e.getMessage());
    assertTrue(e.getMessage().contains("java.lang.String"), e.getMessage());
  }

  @Test
  void valuesWithAnUnmappablePartUseTheJavaFormatWhole() {
    List<Object> list = new ArrayList<>(Arrays.asList(1, new Point(3, 4)));
    assertEquals(FrameCodec.JAVA, formatOf(list));
    assertEquals(list, roundTrip(list, List.class));
    assertEquals(FrameCodec.JAVA, formatOf(new HashSet<>(Arrays.asList(1, 2))));
    assertEquals(FrameCodec.JAVA, formatOf(new java.math.BigInteger("123")));
    assertEquals(FrameCodec.JAVA, formatOf(new char[] {'a'}));
    // A string with a lone surrogate has no exact UTF-8 form.
    assertEquals(FrameCodec.JAVA, formatOf("bad \ud800 string"));
    assertEquals("bad \ud800 string", roundTrip("bad \ud800 string", String.class));
  }

  @Test
  void sharedAndCyclicContainersUseTheJavaFormat() {
    List<Object> shared = new ArrayList<>(List.of(1));
    List<Object> outer = new ArrayList<>(Arrays.asList(shared, shared));
    assertEquals(FrameCodec.JAVA, formatOf(outer));
    List<Object> cyclic = new ArrayList<>();
    cyclic.add(cyclic);
    assertEquals(FrameCodec.JAVA, formatOf(cyclic));
    List<?> back = (List<?>) roundTrip(cyclic, List.class);
    assertTrue(back.get(0) == back);
    // The same string twice is fine: strings are not containers.
    assertEquals(FrameCodec.XLANG, formatOf(Arrays.asList("a", "a")));
  }

  @Test
  void nestingAndSizeLimitsOfXlang() {
    // 31 nested lists: 1 + 2 * 31 = 63 messages, within 64.
    Object deep = 1;
    for (int i = 0; i < 31; i++) {
      deep = new ArrayList<>(List.of(deep));
    }
    assertEquals(FrameCodec.XLANG, formatOf(deep));
    Object deeper = new ArrayList<>(List.of(deep));
    assertEquals(FrameCodec.JAVA, formatOf(deeper));
    List<Integer> many = new ArrayList<>();
    for (int i = 0; i < 99_999; i++) {
      many.add(i);
    }
    assertEquals(FrameCodec.XLANG, formatOf(many));
    many.add(1);
    assertEquals(FrameCodec.JAVA, formatOf(many));
  }

  @Test
  void nonSerializableValuesFailClearly() {
    Object notSerializable = new Object();
    RayException e = assertThrows(RayException.class, () -> FrameCodec.encode(notSerializable));
    assertTrue(e.getMessage().contains("java.lang.Object"), e.getMessage());
    assertTrue(e.getMessage().contains("Serializable"), e.getMessage());
    List<Object> holder = new ArrayList<>(List.of(new Object()));
    e = assertThrows(RayException.class, () -> FrameCodec.encode(holder));
    assertTrue(e.getMessage().contains("Serializable"), e.getMessage());
  }

  @Test
  void framesOfOtherLanguagesNameTheirFormat() {
    byte[] pickle =
        Frame.write(FrameCodec.PICKLE5, ByteSlice.of(new byte[] {(byte) 0x80, 5}), List.of());
    CrossLanguageException e =
        assertThrows(CrossLanguageException.class, () -> FrameCodec.decode(pickle));
    assertTrue(e.getMessage().contains("PICKLE5"), e.getMessage());
    assertTrue(e.getMessage().contains("Python-only"), e.getMessage());
    byte[] header = LanguageValueHeader.newBuilder().setTypeName("Point3").build().toByteArray();
    byte[] cpp =
        Frame.write(FrameCodec.CPP, ByteSlice.of(header), List.of(ByteSlice.of(new byte[3])));
    e = assertThrows(CrossLanguageException.class, () -> FrameCodec.decode(cpp));
    assertTrue(e.getMessage().contains("CPP") && e.getMessage().contains("Point3"), e.getMessage());
  }

  @Test
  void errorFramesBecomeTheMatchingExceptions() {
    ObjectId objectId = ObjectId.fromRandom();
    ActorId actorId = ActorId.fromRandom();
    ErrorInfo javaError =
        ErrorInfo.newBuilder()
            .setType(ErrorType.ERROR_TYPE_TASK_EXECUTION)
            .setMessage("java.lang.IllegalStateException: boom")
            .setTraceback("java.lang.IllegalStateException: boom\n\tat A.f(A.java:3)\n")
            .setLanguage(Language.LANGUAGE_JAVA)
            .setExceptionType("java.lang.IllegalStateException")
            .build();
    RayTaskException task =
        assertThrows(RayTaskException.class, () -> decodeError(javaError, objectId));
    assertEquals("JAVA", task.getLanguage());
    assertEquals("java.lang.IllegalStateException", task.getRemoteExceptionType());
    assertTrue(task.getMessage().contains("at A.f(A.java:3)"), task.getMessage());

    RayWorkerException worker =
        assertThrows(
            RayWorkerException.class,
            () -> decodeError(error(ErrorType.ERROR_TYPE_WORKER_DIED, "worker 12 died"), objectId));
    assertEquals("worker 12 died", worker.getMessage());

    ErrorInfo actorDied =
        error(ErrorType.ERROR_TYPE_ACTOR_DIED, "the actor died").toBuilder()
            .setActorId(ByteString.copyFrom(actorId.getBytes()))
            .build();
    RayActorException actor =
        assertThrows(RayActorException.class, () -> decodeError(actorDied, objectId));
    assertEquals(actorId, actor.getActorId());

    UnreconstructableException lost =
        assertThrows(
            UnreconstructableException.class,
            () -> decodeError(error(ErrorType.ERROR_TYPE_OBJECT_LOST, ""), objectId));
    assertEquals(objectId, lost.objectId);
    assertTrue(lost.getMessage().contains(objectId.toString()));
    assertThrows(
        UnreconstructableException.class,
        () -> decodeError(error(ErrorType.ERROR_TYPE_OWNER_DIED, "owner gone"), objectId));
    assertThrows(
        ActorUnavailableException.class,
        () -> decodeError(error(ErrorType.ERROR_TYPE_ACTOR_UNAVAILABLE, "restarting"), objectId));
    RayException cancelled =
        assertThrows(
            RayException.class,
            () -> decodeError(error(ErrorType.ERROR_TYPE_TASK_CANCELLED, ""), objectId));
    assertTrue(cancelled.getMessage().contains("cancelled"));
    assertFalse(cancelled instanceof RayTaskException);
  }

  private static ErrorInfo error(ErrorType type, String message) {
    return ErrorInfo.newBuilder().setType(type).setMessage(message).build();
  }

  private static Object decodeError(ErrorInfo info, ObjectId id) {
    return FrameCodec.decode(FrameCodec.encodeError(info), Object.class, null, id);
  }

  @Test
  void malformedFramesAreRejected() {
    byte[] good = FrameCodec.encode(new byte[] {1, 2, 3}).frame();
    assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(new byte[10]));
    byte[] badMagic = good.clone();
    badMagic[0] = 'X';
    assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(badMagic));
    byte[] badFormat = good.clone();
    badFormat[4] = 9;
    assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(badFormat));
    byte[] hugeHeader = good.clone();
    ByteBuffer.wrap(hugeHeader).order(ByteOrder.LITTLE_ENDIAN).putLong(16, 1 << 20);
    assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(hugeHeader));
    byte[] bufferPastEnd = good.clone();
    ByteBuffer.wrap(bufferPastEnd).order(ByteOrder.LITTLE_ENDIAN).putLong(32, 1000);
    assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(bufferPastEnd));
    byte[] bufferInHeader = good.clone();
    ByteBuffer.wrap(bufferInHeader).order(ByteOrder.LITTLE_ENDIAN).putLong(24, 30);
    assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(bufferInHeader));
    byte[] manyBuffers = good.clone();
    ByteBuffer.wrap(manyBuffers).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 1_000_000);
    assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(manyBuffers));
    // A bytes value that names a buffer the frame does not have.
    byte[] noBuffers =
        Frame.write(FrameCodec.XLANG, ByteSlice.of(new byte[] {0x30, 0x02}), List.of());
    assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(noBuffers));
  }

  private static String typeName(Frame frame) {
    try {
      return LanguageValueHeader.parseFrom(frame.header().toByteArray()).getTypeName();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
