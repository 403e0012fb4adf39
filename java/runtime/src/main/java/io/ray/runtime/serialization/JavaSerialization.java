package io.ray.runtime.serialization;

import io.ray.api.exception.RayException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;

/** Java's own serialization, used for the Java-only format (OBJECT_FORMAT_JAVA). */
final class JavaSerialization {
  private JavaSerialization() {}

  static byte[] serialize(Object value) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    } catch (IOException e) {
      throw new RayException(
          String.format(
              "Cannot store a value of type %s: it is neither plain data (null, Boolean, numbers,"
                  + " String, byte[], List, Map, primitive arrays) nor serializable by Java"
                  + " serialization (%s). Make it and everything it holds java.io.Serializable.",
              value.getClass().getName(), e),
          e);
    }
    return bytes.toByteArray();
  }

  static Object deserialize(ByteSlice data, ClassLoader loader, String typeName) {
    InputStream in = new ByteArrayInputStream(data.array(), data.offset(), data.length());
    try (ObjectInputStream ois = new LoaderObjectInputStream(in, loader)) {
      return ois.readObject();
    } catch (ClassNotFoundException e) {
      throw new RayException(
          String.format(
              "Cannot read a stored Java value of type %s: class %s is not on this JVM's class"
                  + " path (or the job's code search path).",
              typeName, e.getMessage()),
          e);
    } catch (IOException e) {
      throw new RayException(
          String.format("Cannot read a stored Java value of type %s: %s", typeName, e), e);
    }
  }

  /** Resolves classes with a given loader first (the job's code search path). */
  private static final class LoaderObjectInputStream extends ObjectInputStream {
    private final ClassLoader loader;

    LoaderObjectInputStream(InputStream in, ClassLoader loader) throws IOException {
      super(in);
      this.loader = loader;
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc)
        throws IOException, ClassNotFoundException {
      if (loader != null) {
        try {
          return Class.forName(desc.getName(), false, loader);
        } catch (ClassNotFoundException e) {
          // Primitive types and classes of the platform: the default resolution knows them.
        }
      }
      return super.resolveClass(desc);
    }
  }
}
