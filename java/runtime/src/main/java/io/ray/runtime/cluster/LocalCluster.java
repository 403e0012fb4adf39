package io.ray.runtime.cluster;

import io.ray.api.exception.RayException;
import io.ray.runtime.config.ClusterRecord;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private cluster for one driver: {@code ray start --head --port 0 --num-cpus N --block} in a
 * child process, found from the lines it prints ({@code " GCS address: HOST:PORT"}, {@code "
 * Session: DIR"}, {@code "export RAY_CLUSTER_TOKEN=..."}). Its output goes to a log file ({@link
 * #logFile()}), not a pipe, so that nothing it prints while stopping can fail on a closed pipe.
 *
 * <p>The child dies with this JVM. It runs under a small {@code /bin/sh} wrapper ({@link #WRAPPER})
 * whose stdin is a pipe whose write end only this JVM holds; a watcher process of the wrapper reads
 * that pipe, and when the JVM ends for any reason, including {@code kill -9}, it reads EOF and
 * sends SIGTERM to the command, which (with {@code --block}) stops the node's processes and exits.
 * {@link #stop} closes that pipe the same way and waits, so a normal shutdown and a crash take the
 * same path. Relied on: {@code /bin/sh}, {@code cat} and {@code kill} exist (POSIX), and {@code ray
 * start --block} stops the node's processes on SIGTERM and then exits.
 */
public final class LocalCluster {
  private static final Logger LOG = Logger.getLogger(LocalCluster.class.getName());

  /**
   * The wrapper. It keeps its stdin (the pipe only this JVM writes to) as fd 3, runs "$@" in the
   * background with its output in $RAY_LOCAL_CLUSTER_LOG (a file, so that nothing breaks when this
   * JVM stops reading) and a watcher that sends it SIGTERM when fd 3 reaches EOF, then waits for
   * "$@" and exits with its status, so that a command that fails is seen at once.
   */
  static final String WRAPPER =
      "exec 3<&0\n"
          + "\"$@\" 3<&- < /dev/null > \"$RAY_LOCAL_CLUSTER_LOG\" 2>&1 &\n"
          + "child=$!\n"
          + "( cat <&3 > /dev/null; kill -TERM \"$child\" 2>/dev/null ) &\n"
          + "exec 3<&-\n"
          + "wait \"$child\"\n";

  private static final Pattern GCS_ADDRESS = Pattern.compile("^\\s*GCS address:\\s*(\\S+)");
  private static final Pattern SESSION = Pattern.compile("^\\s*Session:\\s*(\\S+)");
  private static final Pattern TOKEN = Pattern.compile("export RAY_CLUSTER_TOKEN=(\\S+)");
  private static final Pattern END_OF_BANNER = Pattern.compile("^See the cluster with");
  private static final int TAIL_LINES = 40;

  private final Process process;
  private final String gcsAddress;
  private final String token;
  private final Path sessionDir;
  private final Path log;

  private LocalCluster(
      Process process, String gcsAddress, String token, Path sessionDir, Path log) {
    this.process = process;
    this.gcsAddress = gcsAddress;
    this.token = token;
    this.sessionDir = sessionDir;
    this.log = log;
  }

  /**
   * Builds the command line of a head node for this driver.
   *
   * @param rayCli The {@code ray} command.
   * @param numCpus CPUs of the node.
   * @param extraArgs More arguments of {@code ray start}.
   * @return The command.
   */
  public static List<String> headCommand(Path rayCli, int numCpus, List<String> extraArgs) {
    List<String> command = new ArrayList<>();
    command.add(rayCli.toString());
    command.add("start");
    command.add("--head");
    command.add("--port");
    command.add("0");
    command.add("--num-cpus");
    command.add(Integer.toString(numCpus));
    command.add("--block");
    command.addAll(extraArgs);
    return command;
  }

  /**
   * Starts a command that prints a head node's banner and blocks, and waits for the banner.
   *
   * @param command The command (see {@link #headCommand}).
   * @param env Extra environment variables of the child.
   * @param timeoutMs How long the banner may take.
   * @return The running cluster.
   * @throws RayException If the command fails, exits, or prints no address in time; the message has
   *     the last lines it printed.
   */
  public static LocalCluster start(List<String> command, Map<String, String> env, long timeoutMs) {
    List<String> full = new ArrayList<>();
    full.add("/bin/sh");
    full.add("-c");
    full.add(WRAPPER);
    full.add("ray-local-cluster");
    full.addAll(command);
    Path log;
    try {
      log = Files.createTempFile("ray-local-cluster-", ".log");
    } catch (IOException e) {
      throw new RayException("Cannot create the log file of a local cluster: " + e, e);
    }
    ProcessBuilder builder =
        new ProcessBuilder(full)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    builder.environment().put("PYTHONUNBUFFERED", "1");
    builder.environment().put("RAY_LOCAL_CLUSTER_LOG", log.toString());
    builder.environment().putAll(env);
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new RayException("Cannot start a local cluster with " + command + ": " + e, e);
    }
    Banner banner = new Banner();
    Thread reader = new Thread(() -> banner.follow(process, log), "ray-local-cluster-output");
    reader.setDaemon(true);
    reader.start();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    try {
      synchronized (banner) {
        while (!banner.isComplete() && !banner.ended) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          banner.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill(process, 5000);
      throw new RayException("Interrupted while starting a local cluster", e);
    }
    String address;
    String token;
    Path sessionDir;
    String tail;
    synchronized (banner) {
      address = banner.address;
      token = banner.token;
      sessionDir = banner.sessionDir;
      tail = String.join("\n", banner.tail);
    }
    if (address == null) {
      boolean exited = !process.isAlive();
      kill(process, 5000);
      String why =
          exited
              ? "it exited with code " + process.exitValue()
              : "it printed no GCS address within " + timeoutMs + " ms";
      throw new RayException(
          "Cannot start a local cluster with `"
              + String.join(" ", command)
              + "`: "
              + why
              + ". Its last output:\n"
              + tail);
    }
    if (token == null && sessionDir != null) {
      token = ClusterRecord.readTokenFile(sessionDir).orElse(null);
    }
    if (token == null) {
      kill(process, 10_000);
      throw new RayException(
          "The local cluster at "
              + address
              + " started, but its token was neither printed nor readable from its session"
              + " directory. Its output:\n"
              + tail);
    }
    return new LocalCluster(process, address, token, sessionDir, log);
  }

  /**
   * Returns the GCS address.
   *
   * @return HOST:PORT.
   */
  public String gcsAddress() {
    return gcsAddress;
  }

  /**
   * Returns the cluster token.
   *
   * @return The token.
   */
  public String token() {
    return token;
  }

  /**
   * Returns the session directory, if the banner named it.
   *
   * @return The directory.
   */
  public Optional<Path> sessionDir() {
    return Optional.ofNullable(sessionDir);
  }

  /**
   * Tells whether the cluster's process still runs.
   *
   * @return True while it runs.
   */
  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Returns the process id of the wrapper (the {@code ray} command is its child).
   *
   * @return The pid.
   */
  public long pid() {
    return process.pid();
  }

  /**
   * Stops the cluster: closes the wrapper's stdin (it then sends SIGTERM to {@code ray start
   * --block}) and waits; after {@code timeoutMs} kills what is left.
   *
   * @param timeoutMs How long the node may take to stop.
   * @return True if it stopped by itself in time.
   */
  public boolean stop(long timeoutMs) {
    boolean stopped = kill(process, timeoutMs);
    try {
      Files.deleteIfExists(log);
    } catch (IOException e) {
      LOG.log(Level.FINE, "deleting " + log, e);
    }
    return stopped;
  }

  /**
   * Returns the file the command's output goes to.
   *
   * @return The log file.
   */
  public Path logFile() {
    return log;
  }

  private static boolean kill(Process process, long timeoutMs) {
    List<ProcessHandle> descendants = new ArrayList<>();
    process.descendants().forEach(descendants::add);
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      LOG.log(Level.FINE, "closing the local cluster's stdin", e);
    }
    try {
      if (process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.warning(
        "The local cluster (pid "
            + process.pid()
            + ") did not stop in "
            + timeoutMs
            + " ms; killing it");
    for (ProcessHandle h : descendants) {
      h.destroy();
    }
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (ProcessHandle h : descendants) {
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
    return false;
  }

  /** What the command printed: the values of interest and the last lines. */
  static final class Banner {
    String address;
    String token;
    Path sessionDir;
    boolean bannerEnded;
    boolean ended;
    final Deque<String> tail = new ArrayDeque<>();

    synchronized boolean isComplete() {
      return address != null && (token != null || bannerEnded);
    }

    synchronized void accept(String line) {
      tail.addLast(line);
      if (tail.size() > TAIL_LINES) {
        tail.removeFirst();
      }
      Matcher m = GCS_ADDRESS.matcher(line);
      if (m.find() && address == null) {
        address = m.group(1);
      }
      m = SESSION.matcher(line);
      if (m.find() && sessionDir == null) {
        sessionDir = Paths.get(m.group(1));
      }
      m = TOKEN.matcher(line);
      if (m.find() && token == null) {
        token = m.group(1);
      }
      if (END_OF_BANNER.matcher(line).find()) {
        bannerEnded = true;
      }
      notifyAll();
    }

    /** Follows the log file until the banner is complete or the process ends. */
    void follow(Process process, Path log) {
      StringBuilder partial = new StringBuilder();
      byte[] chunk = new byte[8192];
      try (InputStream in = Files.newInputStream(log)) {
        while (true) {
          int n = in.read(chunk);
          if (n > 0) {
            partial.append(new String(chunk, 0, n, StandardCharsets.UTF_8));
            int nl;
            while ((nl = partial.indexOf("\n")) >= 0) {
              accept(partial.substring(0, nl));
              partial.delete(0, nl + 1);
            }
            continue;
          }
          if (isComplete()) {
            return;
          }
          if (!process.isAlive()) {
            // Read what is left once more, then give up.
            int rest;
            while ((rest = in.read(chunk)) > 0) {
              partial.append(new String(chunk, 0, rest, StandardCharsets.UTF_8));
            }
            for (String line : partial.toString().split("\n")) {
              if (!line.isEmpty()) {
                accept(line);
              }
            }
            return;
          }
          Thread.sleep(20);
        }
      } catch (IOException e) {
        LOG.log(Level.FINE, "reading the local cluster's output", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        synchronized (this) {
          ended = true;
          notifyAll();
        }
      }
    }
  }
}
