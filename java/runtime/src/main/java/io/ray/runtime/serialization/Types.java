package io.ray.runtime.serialization;

import java.lang.reflect.Array;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.util.Map;

/** Helpers for the {@link Type}s values are converted to. */
final class Types {
  private static final Map<Class<?>, Class<?>> BOXES =
      Map.of(
          boolean.class, Boolean.class,
          byte.class, Byte.class,
          short.class, Short.class,
          int.class, Integer.class,
          long.class, Long.class,
          float.class, Float.class,
          double.class, Double.class,
          char.class, Character.class,
          void.class, Void.class);

  private Types() {}

  /** The class a type erases to. */
  static Class<?> rawClass(Type type) {
    if (type == null) {
      return Object.class;
    }
    if (type instanceof Class) {
      return (Class<?>) type;
    }
    if (type instanceof ParameterizedType) {
      return rawClass(((ParameterizedType) type).getRawType());
    }
    if (type instanceof GenericArrayType) {
      return Array.newInstance(rawClass(((GenericArrayType) type).getGenericComponentType()), 0)
          .getClass();
    }
    if (type instanceof WildcardType) {
      Type[] upper = ((WildcardType) type).getUpperBounds();
      return upper.length == 0 ? Object.class : rawClass(upper[0]);
    }
    if (type instanceof TypeVariable) {
      Type[] bounds = ((TypeVariable<?>) type).getBounds();
      return bounds.length == 0 ? Object.class : rawClass(bounds[0]);
    }
    return Object.class;
  }

  /** The boxed class of a primitive, or the class itself. */
  static Class<?> box(Class<?> c) {
    Class<?> boxed = BOXES.get(c);
    return boxed == null ? c : boxed;
  }

  /**
   * Type argument {@code index} of a parameterized type with {@code count} arguments, else Object.
   */
  static Type typeArgument(Type type, int index, int count) {
    if (type instanceof WildcardType || type instanceof TypeVariable) {
      Class<?> raw = rawClass(type);
      return raw == Object.class ? Object.class : typeArgument(boundOf(type), index, count);
    }
    if (type instanceof ParameterizedType) {
      Type[] args = ((ParameterizedType) type).getActualTypeArguments();
      if (args.length == count) {
        return args[index];
      }
    }
    return Object.class;
  }

  private static Type boundOf(Type type) {
    if (type instanceof WildcardType) {
      Type[] upper = ((WildcardType) type).getUpperBounds();
      return upper.length == 0 ? Object.class : upper[0];
    }
    Type[] bounds = ((TypeVariable<?>) type).getBounds();
    return bounds.length == 0 ? Object.class : bounds[0];
  }

  /** The component type of an array type. */
  static Type componentType(Type type) {
    if (type instanceof GenericArrayType) {
      return ((GenericArrayType) type).getGenericComponentType();
    }
    return rawClass(type).getComponentType();
  }

  /** A readable name of a type. */
  static String name(Type type) {
    if (type instanceof Class) {
      return ((Class<?>) type).getTypeName();
    }
    return type == null ? "java.lang.Object" : type.getTypeName();
  }
}
