package io.ray.runtime.function;

import io.ray.api.exception.RayException;
import io.ray.api.function.RayFunc;
import io.ray.api.function.RayFuncVoid;
import java.lang.invoke.MethodType;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Java method a {@link RayFunc} names: read from the method reference (or lambda) through its
 * {@link SerializedLambda}, as upstream Ray does. A remote Java function is a static method (or a
 * non-capturing lambda), an actor constructor is {@code Class::new} or a static factory method, an
 * actor method is an unbound reference {@code Class::method}.
 */
public final class JavaFunction {
  private static final Map<Class<?>, JavaFunction> CACHE = new ConcurrentHashMap<>();

  /** MethodHandleInfo.REF_invokeStatic. */
  private static final int REF_INVOKE_STATIC = 6;

  /** MethodHandleInfo.REF_newInvokeSpecial. */
  private static final int REF_NEW_INVOKE_SPECIAL = 8;

  /** Binary name of the class that declares the method, e.g. {@code com.example.Outer$Inner}. */
  public final String className;

  /** The method's name; {@code <init>} for a constructor. */
  public final String methodName;

  /** The method's JVM descriptor, e.g. {@code (II)I}. */
  public final String signature;

  /** The generic return type (the class itself for a constructor), or null for void. */
  public final Type returnType;

  /** Returns of a call: 0 for a function that returns nothing, else 1. */
  public final int numReturns;

  /** True for a static method (or a constructor). */
  public final boolean isStatic;

  /** True for a constructor reference. */
  public final boolean isConstructor;

  private JavaFunction(
      String className,
      String methodName,
      String signature,
      Type returnType,
      int numReturns,
      boolean isStatic,
      boolean isConstructor) {
    this.className = className;
    this.methodName = methodName;
    this.signature = signature;
    this.returnType = returnType;
    this.numReturns = numReturns;
    this.isStatic = isStatic;
    this.isConstructor = isConstructor;
  }

  /**
   * Describes the method a function names.
   *
   * @param func A method reference or lambda.
   * @return Its description (cached per call site).
   * @throws RayException If it is not a serializable method reference or lambda, or it captures
   *     values.
   */
  public static JavaFunction of(RayFunc func) {
    if (func == null) {
      throw new IllegalArgumentException("The remote function must not be null.");
    }
    return CACHE.computeIfAbsent(func.getClass(), c -> describe(func));
  }

  private static JavaFunction describe(RayFunc func) {
    SerializedLambda lambda = serializedLambda(func);
    if (lambda.getCapturedArgCount() > 0) {
      throw new RayException(
          String.format(
              "The remote function %s.%s captures %d value(s) (a bound method reference like"
                  + " obj::method, or a lambda using local variables). Use a static method or an"
                  + " unbound reference like MyClass::method, and pass values as arguments.",
              lambda.getImplClass().replace('/', '.'),
              lambda.getImplMethodName(),
              lambda.getCapturedArgCount()));
    }
    String className = lambda.getImplClass().replace('/', '.');
    String methodName = lambda.getImplMethodName();
    String signature = lambda.getImplMethodSignature();
    int kind = lambda.getImplMethodKind();
    boolean isConstructor = kind == REF_NEW_INVOKE_SPECIAL;
    boolean isStatic = kind == REF_INVOKE_STATIC || isConstructor;
    boolean isVoid = func instanceof RayFuncVoid;
    Type returnType = null;
    if (!isVoid) {
      returnType =
          resolveReturnType(
              func.getClass().getClassLoader(), className, methodName, signature, isConstructor);
    }
    return new JavaFunction(
        className, methodName, signature, returnType, isVoid ? 0 : 1, isStatic, isConstructor);
  }

  private static SerializedLambda serializedLambda(RayFunc func) {
    try {
      Method writeReplace = func.getClass().getDeclaredMethod("writeReplace");
      writeReplace.setAccessible(true);
      Object replacement = writeReplace.invoke(func);
      if (replacement instanceof SerializedLambda) {
        return (SerializedLambda) replacement;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new RayException(
          "Cannot tell which method "
              + func.getClass().getName()
              + " names: pass a method reference (MyClass::method) or a lambda, not an object"
              + " implementing the RayFunc interface ("
              + e
              + ").",
          e);
    }
    throw new RayException(
        "Cannot tell which method "
            + func.getClass().getName()
            + " names: pass a method reference (MyClass::method) or a lambda.");
  }

  private static Type resolveReturnType(
      ClassLoader loader, String className, String methodName, String signature, boolean ctor) {
    Class<?> declaring;
    try {
      declaring = Class.forName(className, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      return Object.class;
    }
    if (ctor) {
      return declaring;
    }
    Executable m = findExecutable(declaring, methodName, signature);
    if (m instanceof Method) {
      Method method = (Method) m;
      return method.getReturnType() == void.class ? null : method.getGenericReturnType();
    }
    return Object.class;
  }

  /**
   * Finds a method (or constructor, for {@code <init>}) by name and JVM descriptor in a class and
   * its supertypes.
   *
   * @param c The class.
   * @param name The method's name.
   * @param descriptor The descriptor, or empty to match by name alone (unique name required).
   * @return The method, or null if there is none.
   */
  public static Executable findExecutable(Class<?> c, String name, String descriptor) {
    if (name.equals("<init>")) {
      for (java.lang.reflect.Constructor<?> ctor : c.getDeclaredConstructors()) {
        if (descriptor.isEmpty() || descriptorOf(ctor).equals(descriptor)) {
          return ctor;
        }
      }
      return null;
    }
    for (Class<?> k = c; k != null; k = k.getSuperclass()) {
      Method m = findDeclared(k, name, descriptor);
      if (m != null) {
        return m;
      }
    }
    for (Class<?> i : allInterfaces(c)) {
      Method m = findDeclared(i, name, descriptor);
      if (m != null) {
        return m;
      }
    }
    return null;
  }

  private static Method findDeclared(Class<?> k, String name, String descriptor) {
    for (Method m : k.getDeclaredMethods()) {
      if (m.getName().equals(name)
          && !m.isBridge()
          && (descriptor.isEmpty() || descriptorOf(m).equals(descriptor))) {
        return m;
      }
    }
    return null;
  }

  private static java.util.List<Class<?>> allInterfaces(Class<?> c) {
    java.util.List<Class<?>> out = new java.util.ArrayList<>();
    java.util.ArrayDeque<Class<?>> todo = new java.util.ArrayDeque<>();
    for (Class<?> k = c; k != null; k = k.getSuperclass()) {
      todo.addAll(java.util.Arrays.asList(k.getInterfaces()));
    }
    while (!todo.isEmpty()) {
      Class<?> i = todo.removeFirst();
      if (!out.contains(i)) {
        out.add(i);
        todo.addAll(java.util.Arrays.asList(i.getInterfaces()));
      }
    }
    return out;
  }

  /**
   * Returns the JVM descriptor of a method or constructor.
   *
   * @param e The method or constructor.
   * @return E.g. {@code (ILjava/lang/String;)V}.
   */
  public static String descriptorOf(Executable e) {
    Class<?> ret = e instanceof Method ? ((Method) e).getReturnType() : void.class;
    return MethodType.methodType(ret, e.getParameterTypes()).toMethodDescriptorString();
  }

  @Override
  public String toString() {
    return className + "." + methodName + signature;
  }
}
