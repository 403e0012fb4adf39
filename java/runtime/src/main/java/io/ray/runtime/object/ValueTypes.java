package io.ray.runtime.object;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The type a stored value is read back as. For a put, it is the value's shape: {@code
 * List<Integer>} for a list of Integers, {@code Map<String, List<Long>>} and so on, so that {@code
 * Ray.put(list).get()} gives back Integers although XLANG only knows 64-bit ints. Lists and maps
 * with mixed element types are read with the natural mapping.
 */
public final class ValueTypes {
  private ValueTypes() {}

  /**
   * Describes the shape of a value.
   *
   * @param value The value.
   * @return Its class, or a parameterized List/Map type for homogeneous containers.
   */
  public static Type shapeOf(Object value) {
    return shapeOf(value, 0);
  }

  private static Type shapeOf(Object value, int depth) {
    if (value == null) {
      return Object.class;
    }
    if (depth > 32) {
      return value.getClass();
    }
    if (value instanceof List) {
      Type element = commonShape(((List<?>) value), depth);
      return element == null ? List.class : new SimpleParameterizedType(List.class, element);
    }
    if (value instanceof Map) {
      Map<?, ?> map = (Map<?, ?>) value;
      Type key = commonShape(map.keySet(), depth);
      Type val = commonShape(map.values(), depth);
      if (key == null && val == null) {
        return Map.class;
      }
      return new SimpleParameterizedType(
          Map.class, key == null ? Object.class : key, val == null ? Object.class : val);
    }
    return value.getClass();
  }

  /** The one shape of all non-null elements, or null if they differ (or there are none). */
  private static Type commonShape(Iterable<?> items, int depth) {
    Type common = null;
    for (Object item : items) {
      if (item == null) {
        continue;
      }
      Type t = shapeOf(item, depth + 1);
      if (common == null) {
        common = t;
      } else if (!common.equals(t)) {
        return null;
      }
    }
    return common;
  }

  /**
   * Turns a type into one that Java serialization can write (so that a reference keeps its type
   * inside a Java-format value): classes stay, parameterized types become {@link
   * SimpleParameterizedType}s, wildcards and type variables become their first bound.
   *
   * @param type A type, or null.
   * @return An equivalent serializable type, or null for null.
   */
  public static Type serializable(Type type) {
    if (type == null || type instanceof Class || type instanceof SimpleParameterizedType) {
      return type;
    }
    if (type instanceof ParameterizedType) {
      ParameterizedType p = (ParameterizedType) type;
      Type[] args = p.getActualTypeArguments();
      Type[] converted = new Type[args.length];
      for (int i = 0; i < args.length; i++) {
        converted[i] = serializable(args[i]);
      }
      return new SimpleParameterizedType((Class<?>) p.getRawType(), converted);
    }
    if (type instanceof java.lang.reflect.WildcardType) {
      Type[] upper = ((java.lang.reflect.WildcardType) type).getUpperBounds();
      return upper.length == 0 ? Object.class : serializable(upper[0]);
    }
    if (type instanceof java.lang.reflect.TypeVariable) {
      Type[] bounds = ((java.lang.reflect.TypeVariable<?>) type).getBounds();
      return bounds.length == 0 ? Object.class : serializable(bounds[0]);
    }
    if (type instanceof java.lang.reflect.GenericArrayType) {
      Type component = ((java.lang.reflect.GenericArrayType) type).getGenericComponentType();
      Type c = serializable(component);
      Class<?> raw =
          c instanceof Class ? (Class<?>) c : (Class<?>) ((ParameterizedType) c).getRawType();
      return java.lang.reflect.Array.newInstance(raw, 0).getClass();
    }
    return Object.class;
  }

  /** A parameterized type with equality, for shapes. Serializable. */
  public static final class SimpleParameterizedType
      implements ParameterizedType, java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final Class<?> raw;
    private final Type[] args;

    /**
     * Creates a type.
     *
     * @param raw The raw class.
     * @param args The type arguments.
     */
    public SimpleParameterizedType(Class<?> raw, Type... args) {
      this.raw = raw;
      this.args = args.clone();
    }

    @Override
    public Type[] getActualTypeArguments() {
      return args.clone();
    }

    @Override
    public Type getRawType() {
      return raw;
    }

    @Override
    public Type getOwnerType() {
      return null;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof ParameterizedType)) {
        return false;
      }
      ParameterizedType p = (ParameterizedType) o;
      return raw.equals(p.getRawType())
          && p.getOwnerType() == null
          && Arrays.equals(args, p.getActualTypeArguments());
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(args) ^ raw.hashCode();
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder(raw.getName()).append('<');
      for (int i = 0; i < args.length; i++) {
        sb.append(i == 0 ? "" : ", ").append(Objects.toString(args[i].getTypeName()));
      }
      return sb.append('>').toString();
    }
  }
}
