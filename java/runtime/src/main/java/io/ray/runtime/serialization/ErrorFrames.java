package io.ray.runtime.serialization;

import io.ray.api.exception.ActorUnavailableException;
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
import java.io.PrintWriter;
import java.io.StringWriter;

/** Maps ERROR values to {@code io.ray.api.exception} types, and Java exceptions to ERROR values. */
public final class ErrorFrames {
  private ErrorFrames() {}

  /**
   * Turns an error value into the exception {@code get} throws.
   *
   * @param info The error.
   * @param objectId The object that holds it, or null.
   * @return The exception (not thrown).
   */
  public static RayException toException(ErrorInfo info, ObjectId objectId) {
    String message = info.getMessage();
    String language = languageName(info.getLanguage());
    switch (info.getType()) {
      case ERROR_TYPE_TASK_EXECUTION:
        {
          String full =
              message.strip().isEmpty() ? "The task raised an exception." : message.strip();
          String traceback = info.getTraceback().strip();
          // Python's message already ends with the formatted traceback; add it only if missing.
          if (!traceback.isEmpty() && !full.contains(traceback)) {
            full +=
                "\n\nRemote traceback"
                    + (language.isEmpty() ? "" : " (" + language + ")")
                    + ":\n"
                    + info.getTraceback();
          }
          return new RayTaskException(
              full, null, info.getExceptionType(), message, info.getTraceback(), language);
        }
      case ERROR_TYPE_WORKER_DIED:
        return message.isEmpty() ? new RayWorkerException() : new RayWorkerException(message);
      case ERROR_TYPE_ACTOR_DIED:
        {
          ActorId actorId =
              info.getActorId().size() == ActorId.LENGTH
                  ? ActorId.fromBytes(info.getActorId().toByteArray())
                  : null;
          if (message.isEmpty()) {
            return actorId == null ? new RayActorException() : new RayActorException(actorId);
          }
          return new RayActorException(message, actorId, null);
        }
      case ERROR_TYPE_ACTOR_UNAVAILABLE:
        return new ActorUnavailableException(
            message.isEmpty() ? "The actor is not available right now (restarting)." : message);
      case ERROR_TYPE_OBJECT_LOST:
      case ERROR_TYPE_OWNER_DIED:
        return message.isEmpty()
            ? new UnreconstructableException(objectId)
            : new UnreconstructableException(objectId, message);
      case ERROR_TYPE_TASK_CANCELLED:
        return new RayException(message.isEmpty() ? "The task was cancelled." : message);
      case ERROR_TYPE_OBJECT_STORE_FULL:
        return new RayException(
            message.isEmpty() ? "The object store is full, even after spilling." : message);
      case ERROR_TYPE_SERIALIZATION:
        return new RayException(
            message.isEmpty() ? "The value or its arguments could not be serialized." : message);
      default:
        return new RayException(
            message.isEmpty()
                ? "The object holds an error of type " + info.getTypeValue() + "."
                : message);
    }
  }

  /**
   * Describes an exception raised by Java user code as an error value.
   *
   * @param error The exception.
   * @param type The kind of error (usually {@code ERROR_TYPE_TASK_EXECUTION}).
   * @return The error value.
   */
  public static ErrorInfo fromThrowable(Throwable error, ErrorType type) {
    return ErrorInfo.newBuilder()
        .setType(type)
        .setMessage(error.toString())
        .setTraceback(traceback(error))
        .setLanguage(Language.LANGUAGE_JAVA)
        .setExceptionType(error.getClass().getName())
        .build();
  }

  /**
   * Describes a failure that is not a user exception (a class that cannot be found, a bad
   * argument).
   *
   * @param type The kind of error.
   * @param exceptionType The Java type that best names it.
   * @param message What happened and what to do next.
   * @return The error value.
   */
  public static ErrorInfo of(ErrorType type, String exceptionType, String message) {
    return ErrorInfo.newBuilder()
        .setType(type)
        .setMessage(message)
        .setLanguage(Language.LANGUAGE_JAVA)
        .setExceptionType(exceptionType)
        .build();
  }

  /**
   * Formats a stack trace, leaving out the reflection frames through which the runner called the
   * user's method.
   *
   * @param error The exception.
   * @return The trace, as {@link Throwable#printStackTrace()} writes it.
   */
  public static String traceback(Throwable error) {
    StringWriter out = new StringWriter();
    error.printStackTrace(new PrintWriter(out));
    StringBuilder trimmed = new StringBuilder();
    boolean skipping = false;
    for (String line : out.toString().split("\n", -1)) {
      String t = line.trim();
      if (t.startsWith("Caused by:") || t.startsWith("Suppressed:")) {
        skipping = false;
      } else if (t.startsWith("at jdk.internal.reflect.")
          || t.startsWith("at java.base/jdk.internal.reflect.")
          || t.startsWith("at java.lang.reflect.Method.invoke")
          || t.startsWith("at java.base/java.lang.reflect.Method.invoke")
          || t.startsWith("at java.lang.reflect.Constructor.newInstance")
          || t.startsWith("at java.base/java.lang.reflect.Constructor.newInstance")) {
        skipping = true;
      }
      if (!skipping) {
        trimmed.append(line).append('\n');
      }
    }
    String result = trimmed.toString();
    while (result.endsWith("\n\n")) {
      result = result.substring(0, result.length() - 1);
    }
    return result;
  }

  /**
   * Names a language as {@link RayTaskException#getLanguage()} reports it.
   *
   * @param language The proto enum.
   * @return {@code PYTHON}, {@code JAVA}, {@code CPP} or empty.
   */
  public static String languageName(Language language) {
    switch (language) {
      case LANGUAGE_PYTHON:
        return "PYTHON";
      case LANGUAGE_JAVA:
        return "JAVA";
      case LANGUAGE_CPP:
        return "CPP";
      default:
        return "";
    }
  }
}
