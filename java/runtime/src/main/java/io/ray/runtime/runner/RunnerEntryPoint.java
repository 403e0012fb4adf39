package io.ray.runtime.runner;

import io.ray.api.exception.RayException;
import io.ray.rpc.ErrorInfo;
import io.ray.rpc.ErrorType;
import io.ray.runtime.function.JavaFunction;
import io.ray.runtime.serialization.EncodedValue;
import io.ray.runtime.serialization.ErrorFrames;
import io.ray.runtime.serialization.FrameCodec;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The entry points a Python worker calls through py4j to run Java code: static methods (remote
 * functions), actor creation (constructor or static factory) and actor method calls, with arguments
 * and results as object frames. Arguments and results are {@link PackedFrames}; methods are named
 * by class, name and JVM descriptor as a {@code FunctionDescriptor} of language JAVA names them (an
 * empty descriptor matches the one method of that name and argument count).
 *
 * <p>Failures never escape as Java exceptions: user exceptions become ERROR frames of type {@code
 * ERROR_TYPE_TASK_EXECUTION} with the Java type, message and stack trace ({@code LANGUAGE_JAVA}); a
 * class or method that cannot be found, or arguments that cannot be read as the parameter types,
 * become ERROR frames too. A result that Java cannot serialize becomes an ERROR frame of type
 * {@code ERROR_TYPE_SERIALIZATION}. Thread-safe: py4j serves each Python thread on its own thread.
 */
public final class RunnerEntryPoint {
  /** What {@link #version()} returns. */
  public static final String VERSION = "openray-java-runner/1";

  private final ClassLoader loader;
  private final Map<String, Object> actors = new ConcurrentHashMap<>();
  private final Map<String, Object> pinned = new ConcurrentHashMap<>();
  private final Runnable onShutdown;

  /**
   * Creates the entry points.
   *
   * @param loader Loads the job's classes (see {@link JobClassLoader}).
   * @param onShutdown Run (on another thread) when {@link #shutdown()} is called.
   */
  public RunnerEntryPoint(ClassLoader loader, Runnable onShutdown) {
    this.loader = loader;
    this.onShutdown = onShutdown;
  }

  /**
   * Names the runner and its protocol version.
   *
   * @return {@value #VERSION}.
   */
  public String version() {
    return VERSION;
  }

  /**
   * Runs a static method (a remote function).
   *
   * @param className Binary name of the class, e.g. {@code com.example.App} or {@code
   *     com.example.App$Inner}.
   * @param methodName The method's name.
   * @param signature Its JVM descriptor, e.g. {@code (II)I}; empty to match by name and arity.
   * @param packedArgs The argument frames, packed.
   * @param numReturns How many result frames to return: 0, 1, or n for a method returning a List or
   *     array of n elements.
   * @return The result frames, packed ({@code numReturns} of them; ERROR frames on failure).
   */
  public byte[] callStatic(
      String className, String methodName, String signature, byte[] packedArgs, int numReturns) {
    return callStatic(null, className, methodName, signature, packedArgs, numReturns);
  }

  /**
   * Runs a static method, keeping a result that contains object references reachable until {@link
   * #release} (so the caller can take its own references to them first).
   *
   * @param callId The key of the kept result (e.g. the task id in hex); null to keep nothing.
   * @param className Binary name of the class.
   * @param methodName The method's name.
   * @param signature Its JVM descriptor; empty to match by name and arity.
   * @param packedArgs The argument frames, packed.
   * @param numReturns How many result frames to return.
   * @return The result frames, packed. If any contains ids, the result is kept under {@code
   *     callId}.
   */
  public byte[] callStatic(
      String callId,
      String className,
      String methodName,
      String signature,
      byte[] packedArgs,
      int numReturns) {
    return PackedFrames.packEntries(
        run(
            callId,
            numReturns,
            () -> {
              Class<?> cls = loadClass(className);
              Executable e = resolve(cls, methodName, signature, packedArgCount(packedArgs));
              if (!(e instanceof Method) || !Modifier.isStatic(e.getModifiers())) {
                throw new Failure(
                    ErrorType.ERROR_TYPE_TASK_EXECUTION,
                    "java.lang.IllegalArgumentException",
                    className
                        + "."
                        + methodName
                        + signature
                        + " is not a static method; a remote"
                        + " function must be static (call instance methods on an actor).");
              }
              return invoke(e, null, packedArgs);
            }));
  }

  /**
   * Creates an actor instance and keeps it under {@code instanceId}.
   *
   * @param instanceId The key later calls use (e.g. the actor id in hex).
   * @param className Binary name of the class (of the constructor or the factory).
   * @param methodName {@code <init>} for a constructor, else a static factory method.
   * @param signature The JVM descriptor, e.g. {@code (I)V}; empty to match by name and arity.
   * @param packedArgs The argument frames, packed.
   * @return Packed frames: none on success, one ERROR frame on failure.
   */
  public byte[] createActor(
      String instanceId, String className, String methodName, String signature, byte[] packedArgs) {
    List<PackedFrames.Entry> result =
        run(
            null,
            1,
            () -> {
              if (actors.containsKey(instanceId)) {
                throw new Failure(
                    ErrorType.ERROR_TYPE_ACTOR_DIED,
                    "java.lang.IllegalStateException",
                    "An actor instance " + instanceId + " exists already in this JVM.");
              }
              Class<?> cls = loadClass(className);
              Executable e = resolve(cls, methodName, signature, packedArgCount(packedArgs));
              if (e instanceof Method && !Modifier.isStatic(e.getModifiers())) {
                throw new Failure(
                    ErrorType.ERROR_TYPE_TASK_EXECUTION,
                    "java.lang.IllegalArgumentException",
                    className
                        + "."
                        + methodName
                        + signature
                        + " is neither a constructor nor a"
                        + " static factory method.");
              }
              Object instance = invoke(e, null, packedArgs);
              if (instance == null) {
                throw new Failure(
                    ErrorType.ERROR_TYPE_TASK_EXECUTION,
                    "java.lang.NullPointerException",
                    "The actor factory " + className + "." + methodName + " returned null.");
              }
              if (actors.putIfAbsent(instanceId, instance) != null) {
                throw new Failure(
                    ErrorType.ERROR_TYPE_ACTOR_DIED,
                    "java.lang.IllegalStateException",
                    "An actor instance " + instanceId + " exists already in this JVM.");
              }
              return Success.NOTHING;
            });
    return PackedFrames.packEntries(
        result.isEmpty() || isSuccessMarker(result) ? List.of() : result);
  }

  /**
   * Calls a method of an actor instance.
   *
   * @param instanceId The instance (from {@link #createActor}).
   * @param className Binary name of the class declaring the method (may be a superclass or
   *     interface of the actor's class); empty for the actor's own class.
   * @param methodName The method's name.
   * @param signature Its JVM descriptor; empty to match by name and arity.
   * @param packedArgs The argument frames, packed.
   * @param numReturns How many result frames to return.
   * @return The result frames, packed.
   */
  public byte[] callActor(
      String instanceId,
      String className,
      String methodName,
      String signature,
      byte[] packedArgs,
      int numReturns) {
    return callActor(null, instanceId, className, methodName, signature, packedArgs, numReturns);
  }

  /**
   * Calls a method of an actor instance, keeping a result that contains object references reachable
   * until {@link #release}.
   *
   * @param callId The key of the kept result; null to keep nothing.
   * @param instanceId The instance (from {@link #createActor}).
   * @param className Binary name of the class declaring the method; empty for the actor's class.
   * @param methodName The method's name.
   * @param signature Its JVM descriptor; empty to match by name and arity.
   * @param packedArgs The argument frames, packed.
   * @param numReturns How many result frames to return.
   * @return The result frames, packed.
   */
  public byte[] callActor(
      String callId,
      String instanceId,
      String className,
      String methodName,
      String signature,
      byte[] packedArgs,
      int numReturns) {
    return PackedFrames.packEntries(
        run(
            callId,
            numReturns,
            () -> {
              Object instance = actors.get(instanceId);
              if (instance == null) {
                throw new Failure(
                    ErrorType.ERROR_TYPE_ACTOR_DIED,
                    "java.lang.IllegalStateException",
                    "No actor instance "
                        + instanceId
                        + " in this JVM (never created, failed to"
                        + " start, or removed).");
              }
              Class<?> cls =
                  className == null || className.isEmpty()
                      ? instance.getClass()
                      : loadClass(className);
              if (!cls.isInstance(instance)) {
                throw new Failure(
                    ErrorType.ERROR_TYPE_TASK_EXECUTION,
                    "java.lang.IllegalArgumentException",
                    "Actor "
                        + instanceId
                        + " is a "
                        + instance.getClass().getName()
                        + ", not a "
                        + cls.getName()
                        + ".");
              }
              Executable e = resolve(cls, methodName, signature, packedArgCount(packedArgs));
              if (!(e instanceof Method) || Modifier.isStatic(e.getModifiers())) {
                throw new Failure(
                    ErrorType.ERROR_TYPE_TASK_EXECUTION,
                    "java.lang.IllegalArgumentException",
                    cls.getName() + "." + methodName + signature + " is not an instance method.");
              }
              return invoke(e, instance, packedArgs);
            }));
  }

  /**
   * Forgets an actor instance (when the actor is killed or its job ends).
   *
   * @param instanceId The instance.
   * @return True if it existed.
   */
  public boolean removeActor(String instanceId) {
    return actors.remove(instanceId) != null;
  }

  /**
   * Lets go of a result kept by a call with a call id (its references may then be released).
   *
   * @param callId The call's key.
   * @return True if a result was kept under it.
   */
  public boolean release(String callId) {
    return callId != null && pinned.remove(callId) != null;
  }

  /**
   * Counts the results kept for their references.
   *
   * @return The number.
   */
  public int numKeptResults() {
    return pinned.size();
  }

  /**
   * Counts the actor instances this JVM holds.
   *
   * @return The number.
   */
  public int numActors() {
    return actors.size();
  }

  /** Stops the runner soon after replying (the JVM exits). */
  public void shutdown() {
    Thread t = new Thread(onShutdown, "ray-runner-shutdown");
    t.setDaemon(false);
    t.start();
  }

  // ---- implementation -------------------------------------------------------------------------

  /** A failure that is not the user's exception: becomes an ERROR frame as given. */
  private static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;
    final ErrorInfo info;

    Failure(ErrorType type, String exceptionType, String message) {
      super(message, null, false, false);
      this.info = ErrorFrames.of(type, exceptionType, message);
    }

    Failure(ErrorInfo info) {
      super(info.getMessage(), null, false, false);
      this.info = info;
    }
  }

  /** The result of actor creation: nothing to encode. */
  private enum Success {
    NOTHING
  }

  private interface Body {
    Object run() throws Exception;
  }

  private static final PackedFrames.Entry SUCCESS_MARKER =
      new PackedFrames.Entry(new byte[0], List.of());

  private static boolean isSuccessMarker(List<PackedFrames.Entry> result) {
    return result.size() == 1 && result.get(0) == SUCCESS_MARKER;
  }

  /** Runs a body with the job's class loader and turns its outcome into result frames. */
  private List<PackedFrames.Entry> run(String callId, int numReturns, Body body) {
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(loader);
    try {
      Object result;
      try {
        result = body.run();
      } catch (Failure f) {
        return repeat(FrameCodec.encodeError(f.info), Math.max(numReturns, 1));
      } catch (ErrorFrameArgument a) {
        return repeat(a.frame, Math.max(numReturns, 1));
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        ErrorInfo info = ErrorFrames.fromThrowable(cause, ErrorType.ERROR_TYPE_TASK_EXECUTION);
        return repeat(FrameCodec.encodeError(info), Math.max(numReturns, 1));
      } catch (Throwable t) {
        ErrorInfo info = ErrorFrames.fromThrowable(t, ErrorType.ERROR_TYPE_TASK_EXECUTION);
        return repeat(FrameCodec.encodeError(info), Math.max(numReturns, 1));
      }
      if (result == Success.NOTHING) {
        List<PackedFrames.Entry> ok = new ArrayList<>();
        ok.add(SUCCESS_MARKER);
        return ok;
      }
      List<PackedFrames.Entry> entries = encodeResults(result, numReturns);
      if (callId != null && result != null) {
        for (PackedFrames.Entry e : entries) {
          if (!e.contained().isEmpty()) {
            // The references inside stay reachable (their counts held) until release(callId).
            pinned.put(callId, result);
            break;
          }
        }
      }
      return entries;
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  private static List<PackedFrames.Entry> encodeResults(Object result, int numReturns) {
    try {
      if (numReturns <= 0) {
        return List.of();
      }
      if (numReturns == 1) {
        return List.of(entry(FrameCodec.encode(result)));
      }
      List<?> items;
      if (result instanceof List) {
        items = (List<?>) result;
      } else if (result instanceof Object[]) {
        items = Arrays.asList((Object[]) result);
      } else {
        throw new Failure(
            ErrorType.ERROR_TYPE_TASK_EXECUTION,
            "java.lang.IllegalArgumentException",
            "The call was made with numReturns="
                + numReturns
                + ", but the method returned a "
                + (result == null ? "null" : result.getClass().getName())
                + ", not a List or array of that many values.");
      }
      if (items.size() != numReturns) {
        throw new Failure(
            ErrorType.ERROR_TYPE_TASK_EXECUTION,
            "java.lang.IllegalArgumentException",
            "The call was made with numReturns="
                + numReturns
                + ", but the method returned "
                + items.size()
                + " values.");
      }
      List<PackedFrames.Entry> frames = new ArrayList<>();
      for (Object item : items) {
        frames.add(entry(FrameCodec.encode(item)));
      }
      return frames;
    } catch (Failure f) {
      return repeat(FrameCodec.encodeError(f.info), numReturns);
    } catch (RuntimeException e) {
      ErrorInfo info =
          ErrorFrames.of(
              ErrorType.ERROR_TYPE_SERIALIZATION,
              e.getClass().getName(),
              "The result could not be stored: " + e.getMessage());
      return repeat(FrameCodec.encodeError(info), numReturns);
    }
  }

  private static PackedFrames.Entry entry(EncodedValue encoded) {
    return new PackedFrames.Entry(encoded.frame(), encoded.nestedRefs());
  }

  private static List<PackedFrames.Entry> repeat(byte[] frame, int n) {
    List<PackedFrames.Entry> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new PackedFrames.Entry(frame, List.of()));
    }
    return out;
  }

  private Class<?> loadClass(String className) throws Failure {
    try {
      return Class.forName(className, true, loader);
    } catch (ClassNotFoundException | NoClassDefFoundError e) {
      throw new Failure(
          ErrorType.ERROR_TYPE_TASK_EXECUTION,
          "java.lang.ClassNotFoundException",
          "Class "
              + className
              + " is not on the job's code search path (ray.job.code-search-path) or the"
              + " runner's class path. Searched: "
              + searchedPlaces()
              + ". Put the directory or jar that holds it on the code search path.");
    } catch (LinkageError e) {
      throw new Failure(ErrorFrames.fromThrowable(e, ErrorType.ERROR_TYPE_TASK_EXECUTION));
    }
  }

  /** Where classes are looked for: the code search path's entries, then the class path. */
  private String searchedPlaces() {
    List<String> places = new ArrayList<>();
    if (loader instanceof java.net.URLClassLoader) {
      for (java.net.URL url : ((java.net.URLClassLoader) loader).getURLs()) {
        places.add(url.getPath());
      }
    }
    String own = "the runner's class path " + System.getProperty("java.class.path", "");
    return (places.isEmpty() ? "code search path (empty)" : "code search path " + places)
        + "; "
        + own;
  }

  private static int packedArgCount(byte[] packedArgs) throws Failure {
    try {
      return PackedFrames.unpack(packedArgs).size();
    } catch (IllegalArgumentException e) {
      throw new Failure(
          ErrorType.ERROR_TYPE_SERIALIZATION,
          "java.lang.IllegalArgumentException",
          "The arguments are not packed frames: " + e.getMessage());
    }
  }

  private static Executable resolve(Class<?> cls, String name, String signature, int numArgs)
      throws Failure {
    String descriptor = signature == null ? "" : signature;
    if (!descriptor.isEmpty()) {
      Executable e = JavaFunction.findExecutable(cls, name, descriptor);
      if (e == null) {
        throw new Failure(
            ErrorType.ERROR_TYPE_TASK_EXECUTION,
            "java.lang.NoSuchMethodException",
            "No method "
                + cls.getName()
                + "."
                + name
                + descriptor
                + ": is the job's code the same"
                + " version as the driver's?");
      }
      return e;
    }
    List<Executable> candidates = new ArrayList<>();
    if (name.equals("<init>")) {
      for (Constructor<?> c : cls.getDeclaredConstructors()) {
        if (c.getParameterCount() == numArgs) {
          candidates.add(c);
        }
      }
    } else {
      for (Class<?> k = cls; k != null; k = k.getSuperclass()) {
        for (Method m : k.getDeclaredMethods()) {
          if (m.getName().equals(name) && m.getParameterCount() == numArgs && !m.isBridge()) {
            candidates.add(m);
          }
        }
        if (!candidates.isEmpty()) {
          break;
        }
      }
      if (candidates.isEmpty()) {
        for (Method m : cls.getMethods()) {
          if (m.getName().equals(name) && m.getParameterCount() == numArgs && !m.isBridge()) {
            candidates.add(m);
          }
        }
      }
    }
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    throw new Failure(
        ErrorType.ERROR_TYPE_TASK_EXECUTION,
        "java.lang.NoSuchMethodException",
        (candidates.isEmpty() ? "No method " : candidates.size() + " methods match ")
            + cls.getName()
            + "."
            + name
            + " with "
            + numArgs
            + " parameters"
            + (candidates.isEmpty() ? "" : "; give the JVM signature to choose one")
            + ".");
  }

  /** An argument that is an ERROR frame: the call fails with that error, unchanged. */
  private static final class ErrorFrameArgument extends Exception {
    private static final long serialVersionUID = 1L;
    final byte[] frame;

    ErrorFrameArgument(byte[] frame) {
      super(null, null, false, false);
      this.frame = frame;
    }
  }

  private Object invoke(Executable e, Object instance, byte[] packedArgs) throws Exception {
    List<byte[]> frames = PackedFrames.unpack(packedArgs);
    Type[] types = e.getGenericParameterTypes();
    if (types.length != frames.size()) {
      throw new Failure(
          ErrorType.ERROR_TYPE_TASK_EXECUTION,
          "java.lang.IllegalArgumentException",
          describe(e) + " takes " + types.length + " arguments, got " + frames.size() + ".");
    }
    Object[] args = new Object[frames.size()];
    for (int i = 0; i < args.length; i++) {
      byte[] frame = frames.get(i);
      if (FrameCodec.errorOf(frame) != null) {
        throw new ErrorFrameArgument(frame);
      }
      try {
        args[i] = FrameCodec.decode(frame, types[i], loader, null);
      } catch (RayException ex) {
        throw new Failure(
            ErrorType.ERROR_TYPE_SERIALIZATION,
            ex.getClass().getName(),
            "Argument " + i + " of " + describe(e) + " cannot be read: " + ex.getMessage());
      }
      if (args[i] == null && e.getParameterTypes()[i].isPrimitive()) {
        throw new Failure(
            ErrorType.ERROR_TYPE_TASK_EXECUTION,
            "java.lang.IllegalArgumentException",
            "Argument "
                + i
                + " of "
                + describe(e)
                + " is null, but the parameter is a "
                + e.getParameterTypes()[i].getName()
                + ".");
      }
    }
    e.setAccessible(true);
    if (e instanceof Constructor) {
      return ((Constructor<?>) e).newInstance(args);
    }
    return ((Method) e).invoke(instance, args);
  }

  private static String describe(Executable e) {
    String name = e instanceof Constructor ? "<init>" : e.getName();
    return e.getDeclaringClass().getName() + "." + name + JavaFunction.descriptorOf(e);
  }
}
