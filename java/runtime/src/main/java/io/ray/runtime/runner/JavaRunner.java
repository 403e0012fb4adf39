package io.ray.runtime.runner;

import io.ray.api.Ray;
import io.ray.runtime.config.RayConfig;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import py4j.GatewayServer;

/**
 * The JVM a Python worker starts to run a job's Java code (DESIGN.md section 8). It serves {@link
 * RunnerEntryPoint} over py4j on 127.0.0.1 and prints the port:
 *
 * <pre>
 * java [job JVM options] -cp ray_dist.jar[:code search path] \
 *     -Dray.job.code-search-path=DIR_OR_JAR:... io.ray.runtime.runner.JavaRunner
 * </pre>
 *
 * <p>Protocol with the parent:
 *
 * <ul>
 *   <li>stdout: the line {@code RAY_JVM_RUNNER_PORT=<port>} once py4j listens (after what JVM
 *       options may print before it); after it, what the job's code prints on System.out. The
 *       parent keeps reading stdout and stderr (it forwards them as its own output).
 *   <li>stdin: the parent keeps it open as a pipe; EOF (the parent closed it or died) stops the
 *       JVM. {@link RunnerEntryPoint#shutdown()} stops it too.
 *   <li>env {@code RAY_JVM_RUNNER_AUTH_TOKEN} (optional): the py4j auth token the parent will send
 *       ({@code GatewayParameters(auth_token=...)}).
 *   <li>The job's code search path: {@code -Dray.job.code-search-path} or env {@code
 *       RAY_JOB_CODE_SEARCH_PATH} ({@code :}-separated directories and jars).
 *   <li>Ray inside tasks: with env {@code RAY_SESSION_ADDRESS}, {@code RAY_SESSION_ID}, {@code
 *       RAY_JOB_ID} and {@code RAY_CLUSTER_TOKEN} (or the matching {@code -Dray.session.*}
 *       properties) the runner calls {@code Ray.init()} at start, attached to that session, so the
 *       job's code can use the Ray API without initializing it.
 * </ul>
 *
 * <p>Exit codes: 0 after EOF on stdin or shutdown(), 2 for a bad configuration, 3 if py4j cannot
 * listen.
 */
public final class JavaRunner {
  /** Prefix of the line that reports the py4j port. */
  public static final String PORT_LINE_PREFIX = "RAY_JVM_RUNNER_PORT=";

  /** Environment variable of the py4j auth token. */
  public static final String AUTH_TOKEN_ENV = "RAY_JVM_RUNNER_AUTH_TOKEN";

  /** Environment variable of the code search path (if the property is not set). */
  public static final String CODE_SEARCH_PATH_ENV = "RAY_JOB_CODE_SEARCH_PATH";

  private JavaRunner() {}

  /**
   * Runs the runner until stdin reaches EOF.
   *
   * @param args Ignored.
   */
  public static void main(String[] args) {
    PrintStream stdout = System.out;
    List<String> searchPath = codeSearchPath();
    ClassLoader loader = JobClassLoader.create(searchPath, JavaRunner.class.getClassLoader());
    Thread.currentThread().setContextClassLoader(loader);

    RayConfig config;
    try {
      config = RayConfig.fromSystem();
      if (config.attach != null) {
        Ray.init();
      }
    } catch (RuntimeException e) {
      System.err.println("ray java runner: cannot attach to the session: " + e.getMessage());
      System.exit(2);
      return;
    }

    GatewayServer.turnLoggingOff();
    RunnerEntryPoint entryPoint =
        new RunnerEntryPoint(
            loader,
            () -> {
              // Let py4j send the reply of shutdown() first.
              try {
                Thread.sleep(200);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              stop(0);
            });
    GatewayServer.GatewayServerBuilder builder =
        new GatewayServer.GatewayServerBuilder(entryPoint)
            .javaPort(Integer.getInteger("ray.runner.port", 0))
            .javaAddress(InetAddress.getLoopbackAddress());
    String token = System.getenv(AUTH_TOKEN_ENV);
    if (token != null && !token.isEmpty()) {
      builder.authToken(token);
    }
    GatewayServer server = builder.build();
    try {
      server.start(true);
    } catch (RuntimeException e) {
      System.err.println("ray java runner: py4j cannot listen: " + e);
      System.exit(3);
      return;
    }
    stdout.println(PORT_LINE_PREFIX + server.getListeningPort());
    stdout.flush();

    waitForEof(System.in);
    server.shutdown();
    stop(0);
  }

  private static List<String> codeSearchPath() {
    String value = System.getProperty("ray.job.code-search-path");
    if (value == null || value.isEmpty()) {
      value = System.getenv(CODE_SEARCH_PATH_ENV);
    }
    List<String> out = new ArrayList<>();
    if (value != null) {
      for (String entry : value.split(File.pathSeparator)) {
        if (!entry.isBlank()) {
          out.add(entry.trim());
        }
      }
    }
    return out;
  }

  private static void waitForEof(InputStream in) {
    byte[] buf = new byte[256];
    try {
      while (in.read(buf) >= 0) {
        // The parent has nothing to say on stdin; only its end matters.
      }
    } catch (IOException e) {
      // A broken stdin means the parent is gone.
    }
  }

  private static void stop(int code) {
    try {
      if (Ray.isInitialized()) {
        Ray.shutdown();
      }
    } finally {
      System.exit(code);
    }
  }
}
