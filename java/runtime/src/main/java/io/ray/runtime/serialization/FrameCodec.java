package io.ray.runtime.serialization;

import com.google.protobuf.InvalidProtocolBufferException;
import io.ray.api.exception.CrossLanguageException;
import io.ray.api.exception.RayException;
import io.ray.api.id.ObjectId;
import io.ray.rpc.ErrorInfo;
import io.ray.rpc.LanguageValueHeader;
import io.ray.rpc.Value;
import java.io.Serializable;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;

/**
 * Writes Java values as object frames and reads frames back as Java values of a requested type.
 *
 * <p>Writing: plain data becomes XLANG (readable by every language, see {@link XlangEncoder} for
 * the mapping); any other {@link Serializable} value (or plain data with a part XLANG cannot hold
 * exactly) becomes the Java-only format: a {@code LanguageValueHeader} naming its class and one
 * buffer of Java serialization bytes.
 *
 * <p>Reading: XLANG converts to the requested type ({@link XlangDecoder}); the Java format
 * deserializes; RAW gives {@code byte[]}; ERROR throws the matching {@link RayException}; a value
 * in another language's own format (PICKLE5, CPP) throws a {@link CrossLanguageException} that
 * names it.
 */
public final class FrameCodec {
  /** OBJECT_FORMAT_XLANG. */
  public static final int XLANG = 1;

  /** OBJECT_FORMAT_PICKLE5. */
  public static final int PICKLE5 = 2;

  /** OBJECT_FORMAT_RAW. */
  public static final int RAW = 3;

  /** OBJECT_FORMAT_ERROR. */
  public static final int ERROR = 4;

  /** OBJECT_FORMAT_JAVA. */
  public static final int JAVA = 5;

  /** OBJECT_FORMAT_CPP. */
  public static final int CPP = 6;

  private FrameCodec() {}

  /**
   * Writes a value: XLANG when it has an exact XLANG form, else the Java-only format.
   *
   * @param value The value.
   * @return The frame and the references inside the value.
   * @throws RayException If the value is neither plain data nor serializable.
   */
  public static EncodedValue encode(Object value) {
    try {
      return new EncodedValue(encodeXlang(value), List.of());
    } catch (XlangEncoder.NotXlangException e) {
      if (!(value instanceof Serializable)) {
        throw new RayException(
            String.format(
                "Cannot store a value of type %s: it is not plain data (%s) and not"
                    + " java.io.Serializable. Make it Serializable, or pass plain data (null,"
                    + " Boolean, numbers, String, byte[], List, Map, primitive arrays).",
                value.getClass().getName(), e.getMessage()));
      }
      return encodeJava(value);
    }
  }

  /**
   * Writes a value as XLANG.
   *
   * @param value The value.
   * @return The frame.
   * @throws XlangEncoder.NotXlangException If the value has no exact XLANG form.
   */
  static byte[] encodeXlang(Object value) throws XlangEncoder.NotXlangException {
    XlangEncoder.Encoded encoded = XlangEncoder.encode(value);
    return Frame.write(XLANG, XlangEncoder.headerBytes(encoded.header), encoded.buffers);
  }

  /**
   * Tells whether a value has an exact XLANG form (so other languages can read it).
   *
   * @param value The value.
   * @return True if {@link #encode} writes it as XLANG.
   */
  public static boolean isXlang(Object value) {
    try {
      XlangEncoder.encode(value);
      return true;
    } catch (XlangEncoder.NotXlangException e) {
      return false;
    }
  }

  /**
   * Writes a value in the Java-only format.
   *
   * @param value A serializable value.
   * @return The frame and the references serialized inside the value.
   */
  public static EncodedValue encodeJava(Object value) {
    Set<ObjectId> previous = NestedRefs.begin();
    byte[] data;
    List<ObjectId> nested;
    try {
      data = JavaSerialization.serialize(value);
    } finally {
      nested = NestedRefs.end(previous);
    }
    String typeName = value == null ? "null" : value.getClass().getName();
    byte[] header = LanguageValueHeader.newBuilder().setTypeName(typeName).build().toByteArray();
    return new EncodedValue(
        Frame.write(JAVA, ByteSlice.of(header), List.of(ByteSlice.of(data))), nested);
  }

  /**
   * Writes bytes as a RAW frame.
   *
   * @param bytes The bytes.
   * @return The frame.
   */
  public static byte[] encodeRaw(byte[] bytes) {
    return Frame.write(RAW, ByteSlice.of(new byte[0]), List.of(ByteSlice.of(bytes)));
  }

  /**
   * Writes an error value.
   *
   * @param info The error.
   * @return The ERROR frame.
   */
  public static byte[] encodeError(ErrorInfo info) {
    return Frame.write(ERROR, ByteSlice.of(info.toByteArray()), List.of());
  }

  /**
   * Returns the format of a frame.
   *
   * @param frame The frame.
   * @return Its format number.
   * @throws MalformedFrameException If it is not a frame.
   */
  public static int formatOf(byte[] frame) {
    return Frame.parse(frame).format();
  }

  /**
   * Reads the error of an ERROR frame.
   *
   * @param frame The frame.
   * @return The error, or null if the frame is not an ERROR frame.
   */
  public static ErrorInfo errorOf(byte[] frame) {
    Frame parsed = Frame.parse(frame);
    return parsed.format() == ERROR ? parseError(parsed) : null;
  }

  /**
   * Reads a frame with the natural mapping (as {@code Object}).
   *
   * @param frame The frame.
   * @return The value.
   */
  public static Object decode(byte[] frame) {
    return decode(frame, Object.class, Thread.currentThread().getContextClassLoader(), null);
  }

  /**
   * Reads a frame as a value of the requested type.
   *
   * @param frame The frame.
   * @param target The requested type (a Class or a generic type such as {@code List<Integer>});
   *     null for {@code Object}.
   * @param loader Loads the classes of Java-format values (null: the context class loader).
   * @param objectId The object, for error messages, or null.
   * @return The value.
   * @throws RayException The error of an ERROR frame, a {@link CrossLanguageException} for another
   *     language's value, a {@link ValueConversionException} when the value cannot become {@code
   *     target}, or a {@link MalformedFrameException}.
   */
  public static Object decode(byte[] frame, Type target, ClassLoader loader, ObjectId objectId) {
    Frame parsed = Frame.parse(frame);
    Type type = target == null ? Object.class : target;
    switch (parsed.format()) {
      case XLANG:
        return XlangDecoder.decode(parseValue(parsed), parsed.buffers(), type);
      case ERROR:
        throw ErrorFrames.toException(parseError(parsed), objectId);
      case RAW:
        {
          if (parsed.buffers().size() != 1) {
            throw new MalformedFrameException(
                "a RAW frame has one buffer, this one has " + parsed.buffers().size());
          }
          byte[] bytes = parsed.buffers().get(0).toByteArray();
          Class<?> raw = Types.rawClass(type);
          if (raw.isAssignableFrom(byte[].class)) {
            return bytes;
          }
          if (raw == ByteBuffer.class) {
            return ByteBuffer.wrap(bytes);
          }
          throw new ValueConversionException(
              String.format(
                  "Cannot convert stored RAW bytes (%d bytes) to %s: read them as byte[].",
                  bytes.length, Types.name(type)));
        }
      case JAVA:
        return decodeJava(parsed, type, loader, objectId);
      case PICKLE5:
        throw new CrossLanguageException(
            String.format(
                "The object%s is a Python-only value (format PICKLE5: e.g. a tuple, a set or a"
                    + " class instance), which Java cannot read. Return plain data from Python"
                    + " (None, bool, int, float, str, bytes, list, dict, numpy arrays) to share it"
                    + " with Java.",
                objectId == null ? "" : " " + objectId));
      case CPP:
        throw new CrossLanguageException(
            String.format(
                "The object%s is a C++-only value (format CPP, type %s), which Java cannot read."
                    + " Return plain data from C++ to share it with Java.",
                objectId == null ? "" : " " + objectId, languageTypeName(parsed)));
      default:
        throw new MalformedFrameException("unknown format " + parsed.format());
    }
  }

  private static Object decodeJava(Frame parsed, Type type, ClassLoader loader, ObjectId id) {
    String typeName = languageTypeName(parsed);
    if (parsed.buffers().size() != 1) {
      throw new MalformedFrameException(
          "a JAVA frame has one buffer, this one has " + parsed.buffers().size());
    }
    ClassLoader effective =
        loader != null ? loader : Thread.currentThread().getContextClassLoader();
    Object value = JavaSerialization.deserialize(parsed.buffers().get(0), effective, typeName);
    Class<?> raw = Types.box(Types.rawClass(type));
    if (value != null && !raw.isInstance(value)) {
      throw new ValueConversionException(
          String.format(
              "Cannot convert the stored Java value of type %s to %s%s.",
              value.getClass().getName(),
              Types.name(type),
              id == null ? "" : " (object " + id + ")"));
    }
    return value;
  }

  private static String languageTypeName(Frame parsed) {
    try {
      return LanguageValueHeader.parseFrom(parsed.header().toByteArray()).getTypeName();
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedFrameException("bad LanguageValueHeader: " + e.getMessage(), e);
    }
  }

  private static Value parseValue(Frame parsed) {
    try {
      return Value.parseFrom(parsed.header().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedFrameException("bad XLANG header: " + e.getMessage(), e);
    }
  }

  private static ErrorInfo parseError(Frame parsed) {
    try {
      return ErrorInfo.parseFrom(parsed.header().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedFrameException("bad ErrorInfo header: " + e.getMessage(), e);
    }
  }
}
