package io.ray.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A cluster started the way upstream's docs tell Java users to: {@code ray start --head --port P
 * --num-cpus N --temp-dir DIR}, which starts the head node's processes in the background and exits.
 * A driver then joins it with {@code -Dray.address=127.0.0.1:P} (the token is found through the
 * record {@code ray start} keeps in {@code $RAY_TMPDIR}, which the test build points at its own
 * directory).
 *
 * <p>{@link #stop} stops the node by the pids {@code ray start} printed (SIGTERM, then SIGKILL),
 * and checks that nothing is left behind: no process that ran under the node (workers and their
 * JVMs, seen while the node ran) and no {@code /dev/shm} entry of its session.
 */
public final class TestCluster {
  private static final Pattern GCS = Pattern.compile("GCS address:\\s*(\\S+)\\s*\\(pid (\\d+)\\)");
  private static final Pattern NODE_MANAGER =
      Pattern.compile("Node manager:\\s*(\\S+)\\s*\\(pid (\\d+)");
  private static final Pattern SESSION = Pattern.compile("Session:\\s*(\\S+)");

  private final String address;
  private final long gcsPid;
  private final long nodeManagerPid;
  private final Path sessionDir;
  private final Path tempDir;
  private final Map<Long, String> seen = new LinkedHashMap<>();
  private boolean stopped;

  private TestCluster(
      String address, long gcsPid, long nodeManagerPid, Path sessionDir, Path tempDir) {
    this.address = address;
    this.gcsPid = gcsPid;
    this.nodeManagerPid = nodeManagerPid;
    this.sessionDir = sessionDir;
    this.tempDir = tempDir;
  }

  /**
   * Starts a head node.
   *
   * @param numCpus Its CPUs.
   * @return The running cluster.
   */
  public static TestCluster start(int numCpus) {
    return start(numCpus, Map.of());
  }

  /**
   * Starts a head node with extra environment variables (its processes and workers inherit them).
   *
   * @param numCpus Its CPUs.
   * @param env The variables.
   * @return The running cluster.
   */
  public static TestCluster start(int numCpus, Map<String, String> env) {
    Path tempDir;
    try {
      String records = System.getenv("RAY_TMPDIR");
      if (records != null && !records.isEmpty()) {
        Files.createDirectories(Paths.get(records));
      }
      tempDir = Files.createTempDirectory("openray-java-test-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int port = freePort();
    List<String> command =
        List.of(
            rayCli().toString(),
            "start",
            "--head",
            "--port",
            Integer.toString(port),
            "--num-cpus",
            Integer.toString(numCpus),
            "--temp-dir",
            tempDir.toString());
    ProcessResult result = run(command, env, 120);
    if (result.exitCode != 0) {
      deleteTree(tempDir);
      throw new IllegalStateException(
          "`" + String.join(" ", command) + "` failed (" + result.exitCode + "):\n" + result.out);
    }
    Matcher gcs = GCS.matcher(result.out);
    Matcher nm = NODE_MANAGER.matcher(result.out);
    Matcher session = SESSION.matcher(result.out);
    if (!gcs.find() || !nm.find() || !session.find()) {
      // Stop what it started (every pid it printed) before failing.
      stopPrinted(result.out);
      deleteTree(tempDir);
      throw new IllegalStateException("unexpected output of `ray start`:\n" + result.out);
    }
    String address = gcs.group(1);
    if (!address.equals("127.0.0.1:" + port)) {
      stopPrinted(result.out);
      deleteTree(tempDir);
      throw new IllegalStateException("ray start --port " + port + " listens at " + address);
    }
    TestCluster cluster =
        new TestCluster(
            address,
            Long.parseLong(gcs.group(2)),
            Long.parseLong(nm.group(2)),
            Paths.get(session.group(1)),
            tempDir);
    // If this JVM ends before stop() (a Surefire timeout, Ctrl-C), the node goes with it.
    Runtime.getRuntime().addShutdownHook(new Thread(cluster::killIfRunning, "stop-test-cluster"));
    return cluster;
  }

  /** Kills the node's processes (by pid, with their descendants) unless stop() ran. */
  private void killIfRunning() {
    List<ProcessHandle> all = new ArrayList<>();
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
    }
    for (long pid : new long[] {nodeManagerPid, gcsPid}) {
      ProcessHandle.of(pid)
          .ifPresent(
              h -> {
                h.descendants().forEach(all::add);
                all.add(h);
              });
    }
    all.forEach(ProcessHandle::destroyForcibly);
  }

  /** Stops the processes whose pids a `ray start` output names ("(pid N"), with their children. */
  private static void stopPrinted(String out) {
    Matcher m = Pattern.compile("\\(pid (\\d+)").matcher(out);
    List<ProcessHandle> started = new ArrayList<>();
    while (m.find()) {
      ProcessHandle.of(Long.parseLong(m.group(1))).ifPresent(started::add);
    }
    List<ProcessHandle> all = new ArrayList<>();
    for (ProcessHandle h : started) {
      all.add(h);
      h.descendants().forEach(all::add);
    }
    all.forEach(ProcessHandle::destroy);
    for (ProcessHandle h : all) {
      if (!waitGone(h.pid(), 10_000)) {
        h.destroyForcibly();
      }
    }
  }

  /**
   * Returns the GCS address.
   *
   * @return 127.0.0.1:PORT.
   */
  public String address() {
    return address;
  }

  /**
   * Returns the session directory (logs are in its {@code logs/}).
   *
   * @return The directory.
   */
  public Path sessionDir() {
    return sessionDir;
  }

  /**
   * Returns the process ids of the node manager's children now (its workers).
   *
   * @return The pids.
   */
  public Set<Long> workerPids() {
    return ProcessHandle.of(nodeManagerPid)
        .map(h -> h.children().map(ProcessHandle::pid).collect(Collectors.toSet()))
        .orElse(Set.of());
  }

  /** Remembers the node's processes running now, so {@link #stop} checks they are gone. */
  public synchronized void snapshot() {
    for (long pid : new long[] {gcsPid, nodeManagerPid}) {
      ProcessHandle.of(pid)
          .ifPresent(
              h -> {
                seen.putIfAbsent(h.pid(), describe(h));
                h.descendants().forEach(d -> seen.putIfAbsent(d.pid(), describe(d)));
              });
    }
  }

  /**
   * Stops the node by pid and checks that it left nothing behind.
   *
   * @throws AssertionError Listing what survived (it is killed, or removed, first).
   */
  public synchronized void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    snapshot();
    List<String> problems = new ArrayList<>();
    for (long pid : new long[] {nodeManagerPid, gcsPid}) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
    }
    for (long pid : new long[] {nodeManagerPid, gcsPid}) {
      if (!waitGone(pid, 30_000)) {
        problems.add("pid " + pid + " (" + seen.get(pid) + ") ignored SIGTERM for 30 s");
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    problems.addAll(Leftovers.processes(seen, 20_000));
    problems.addAll(Leftovers.shmEntries(shmPrefix(), 20_000));
    deleteTree(tempDir);
    if (!problems.isEmpty()) {
      throw new AssertionError("the cluster at " + address + " left behind: " + problems);
    }
  }

  /** The prefix of the node's /dev/shm entries (see ray._private.session.Session.shm_dir). */
  String shmPrefix() {
    String name = sessionDir.getFileName().toString();
    return "ray_" + name.substring(Math.max(0, name.length() - 26)) + "_";
  }

  // ---- helpers shared by the tests ----------------------------------------------------------

  /** The output and exit code of a command. */
  public static final class ProcessResult {
    final int exitCode;
    final String out;

    ProcessResult(int exitCode, String out) {
      this.exitCode = exitCode;
      this.out = out;
    }
  }

  /**
   * Runs a command to its end (output and errors together; killed after the timeout).
   *
   * @param command The command.
   * @param env Extra environment variables.
   * @param timeoutS Its time limit.
   * @return The result.
   */
  public static ProcessResult run(List<String> command, Map<String, String> env, long timeoutS) {
    try {
      Path out = Files.createTempFile("openray-java-test-", ".out");
      try {
        ProcessBuilder pb =
            new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().remove("RAY_ADDRESS");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
          return new ProcessResult(
              -1,
              "(killed after "
                  + timeoutS
                  + " s)\n"
                  + Files.readString(out, StandardCharsets.UTF_8));
        }
        return new ProcessResult(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The {@code ray} command: {@code -Dray.cli}, else {@code $RAY_CLI}, else {@code .venv/bin/ray}
   * of the repository.
   *
   * @return Its path.
   */
  public static Path rayCli() {
    String configured =
        Optional.ofNullable(System.getProperty("ray.cli")).orElse(System.getenv("RAY_CLI"));
    if (configured != null && !configured.isEmpty()) {
      return Paths.get(configured);
    }
    return repoRoot().resolve(".venv/bin/ray");
  }

  /**
   * The Python of the {@code ray} command's environment.
   *
   * @return Its path.
   */
  public static Path python() {
    return rayCli().toAbsolutePath().getParent().resolve("python");
  }

  /**
   * The repository's root (set by the build as {@code openray.repo-root}).
   *
   * @return The directory.
   */
  public static Path repoRoot() {
    return Paths.get(System.getProperty("openray.repo-root", "../..")).toAbsolutePath().normalize();
  }

  /**
   * The built {@code ray_dist.jar} (set by the build as {@code openray.jar}).
   *
   * @return Its path.
   */
  public static Path jar() {
    return Paths.get(
            System.getProperty(
                "openray.jar", repoRoot().resolve("java/runtime/target/ray_dist.jar").toString()))
        .toAbsolutePath()
        .normalize();
  }

  /**
   * The {@code ray_dist.jar} installed in the {@code ray} package of the {@code ray} command's
   * Python ({@code ray/jars/ray_dist.jar}, where upstream's wheel keeps it and where the workers'
   * Java runner finds it), as that Python locates it.
   *
   * @return Its path.
   * @throws AssertionError If it is not there.
   */
  public static Path installedJar() {
    ProcessResult where =
        run(
            List.of(
                python().toString(),
                "-c",
                "import os, ray; print(os.path.join(os.path.dirname(ray.__file__), 'jars',"
                    + " 'ray_dist.jar'))"),
            Map.of(),
            60);
    if (where.exitCode != 0) {
      throw new AssertionError("cannot locate the ray package:\n" + where.out);
    }
    String[] lines = where.out.strip().split("\n");
    Path jar = Paths.get(lines[lines.length - 1].strip());
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(
          "ray_dist.jar is not installed at " + jar + " (scripts/java.sh build installs it)");
    }
    return jar;
  }

  /**
   * A port nothing listens on now.
   *
   * @return The port.
   */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String describe(ProcessHandle h) {
    return h.info()
        .commandLine()
        .map(c -> c.length() > 160 ? c.substring(0, 160) + "..." : c)
        .orElse("?");
  }

  static boolean waitGone(long pid, long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      sleep(50);
    }
    return true;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a leftover temp directory is not a test failure.
    }
  }

  /** Checks for what a cluster or a program may have left behind. */
  static final class Leftovers {
    private Leftovers() {}

    /**
     * Waits for processes to be gone; kills (by pid) and lists those that are not.
     *
     * @param pids The processes, with their command lines.
     * @param timeoutMs How long they may take.
     * @return One line per survivor.
     */
    static List<String> processes(Map<Long, String> pids, long timeoutMs) {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      List<String> survivors = new ArrayList<>();
      for (Map.Entry<Long, String> e : pids.entrySet()) {
        long left = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        if (!waitGone(e.getKey(), left)) {
          survivors.add("process " + e.getKey() + " (" + e.getValue() + ")");
          ProcessHandle.of(e.getKey()).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
      return survivors;
    }

    /**
     * Waits for the /dev/shm entries with a prefix to be gone; removes and lists those that are
     * not.
     *
     * @param prefix The prefix.
     * @param timeoutMs How long they may take.
     * @return One line per leftover entry.
     */
    static List<String> shmEntries(String prefix, long timeoutMs) {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      Set<String> left = shm(prefix);
      while (!left.isEmpty() && System.nanoTime() < deadline) {
        sleep(100);
        left = shm(prefix);
      }
      List<String> out = new ArrayList<>();
      for (String name : left) {
        out.add("/dev/shm/" + name);
        deleteTree(Paths.get("/dev/shm", name));
      }
      return out;
    }

    /**
     * Lists /dev/shm entries with a prefix.
     *
     * @param prefix The prefix ("" for all).
     * @return Their names.
     */
    static Set<String> shm(String prefix) {
      Set<String> out = new TreeSet<>();
      try (Stream<Path> entries = Files.list(Paths.get("/dev/shm"))) {
        entries
            .map(p -> p.getFileName().toString())
            .filter(n -> n.startsWith(prefix))
            .forEach(out::add);
      } catch (IOException e) {
        // No /dev/shm: nothing can be left there.
      }
      return out;
    }
  }
}
