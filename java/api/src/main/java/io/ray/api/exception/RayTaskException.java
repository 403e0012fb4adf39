package io.ray.api.exception;

/**
 * The user code of a task or actor call raised an exception. {@code get} on the call's result
 * throws it. Besides the message it carries what the remote side reported: the exception's type,
 * message and traceback, and the language it was raised in ({@code "PYTHON"}, {@code "JAVA"} or
 * {@code "CPP"}).
 */
public class RayTaskException extends RayException {
  private static final long serialVersionUID = 1L;

  private final String remoteExceptionType;
  private final String remoteMessage;
  private final String remoteTraceback;
  private final String language;

  /**
   * Creates an exception with a message only.
   *
   * @param message What happened.
   */
  public RayTaskException(String message) {
    this(message, null, "", message, "", "");
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message What happened.
   * @param cause The exception the user code threw.
   */
  public RayTaskException(String message, Throwable cause) {
    this(
        message,
        cause,
        cause == null ? "" : cause.getClass().getName(),
        cause == null ? message : String.valueOf(cause.getMessage()),
        "",
        "JAVA");
  }

  /**
   * Creates an exception naming the process it happened in.
   *
   * @param pid Process id of the worker.
   * @param ipAddress Address of the worker's node.
   * @param message What happened.
   * @param cause The exception the user code threw.
   */
  public RayTaskException(int pid, String ipAddress, String message, Throwable cause) {
    this(String.format("(pid=%d, ip=%s) %s", pid, ipAddress, message), cause);
  }

  /**
   * Creates an exception from what a remote worker reported.
   *
   * @param message The full message (usually the remote message and traceback).
   * @param cause A local cause, or null.
   * @param remoteExceptionType Qualified type of the remote exception, e.g. {@code
   *     builtins.ValueError} or {@code java.lang.IllegalStateException}.
   * @param remoteMessage The remote exception's own message.
   * @param remoteTraceback The remote traceback in the remote language's format.
   * @param language {@code "PYTHON"}, {@code "JAVA"}, {@code "CPP"} or empty when unknown.
   */
  public RayTaskException(
      String message,
      Throwable cause,
      String remoteExceptionType,
      String remoteMessage,
      String remoteTraceback,
      String language) {
    super(message, cause);
    this.remoteExceptionType = nullToEmpty(remoteExceptionType);
    this.remoteMessage = nullToEmpty(remoteMessage);
    this.remoteTraceback = nullToEmpty(remoteTraceback);
    this.language = nullToEmpty(language);
  }

  /**
   * Returns the qualified type name of the exception the remote code raised.
   *
   * @return E.g. {@code builtins.ValueError}; empty when unknown.
   */
  public String getRemoteExceptionType() {
    return remoteExceptionType;
  }

  /**
   * Returns the message the remote side reported.
   *
   * @return The remote message; empty when unknown.
   */
  public String getRemoteMessage() {
    return remoteMessage;
  }

  /**
   * Returns the remote traceback, in the format of the language that raised it.
   *
   * @return The traceback; empty when unknown.
   */
  public String getRemoteTraceback() {
    return remoteTraceback;
  }

  /**
   * Returns the language the exception was raised in.
   *
   * @return {@code "PYTHON"}, {@code "JAVA"}, {@code "CPP"}, or empty when unknown.
   */
  public String getLanguage() {
    return language;
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
