package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.WaitResult;
import io.ray.api.exception.RayTaskException;
import io.ray.api.function.PyFunction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Java tasks on the cluster: they run in the JVM that a Python worker starts for the job and drives
 * through py4j (DESIGN.md section 8), with this module's test classes on the code search path.
 */
class JavaTaskTest extends BaseTest {

  public static int addOne(int x) {
    return x + 1;
  }

  public static int sum0() {
    return 0;
  }

  public static int sum2(int a, int b) {
    return a + b;
  }

  public static int sum3(int a, int b, int c) {
    return a + b + c;
  }

  public static int sum4(int a, int b, int c, int d) {
    return a + b + c + d;
  }

  public static int sum5(int a, int b, int c, int d, int e) {
    return a + b + c + d + e;
  }

  public static int sum6(int a, int b, int c, int d, int e, int f) {
    return a + b + c + d + e + f;
  }

  /** A task that returns nothing: it leaves a file behind to show it ran. */
  public static void touch(String path, String content) throws IOException {
    Files.writeString(Path.of(path + ".tmp"), content);
    Files.move(Path.of(path + ".tmp"), Path.of(path));
  }

  public static List<Integer> range(int n) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(i);
    }
    return out;
  }

  public static String concat(String a, long b, double c, boolean d, byte[] e, List<String> f) {
    return a + "|" + b + "|" + c + "|" + d + "|" + e.length + "|" + String.join("+", f);
  }

  public static Map<String, Integer> lengths(List<String> words) {
    Map<String, Integer> out = new HashMap<>();
    for (String w : words) {
      out.put(w, w.length());
    }
    return out;
  }

  public static int fail(String message) {
    throw new IllegalStateException(message);
  }

  /** Uses the Ray API from inside a Java task: a nested Java task, a Python task, put/get/wait. */
  public static int nested(int x) {
    ObjectRef<Integer> javaResult = Ray.task(JavaTaskTest::addOne, x).remote();
    ObjectRef<Integer> pythonResult =
        Ray.task(PyFunction.of("java_test_fixtures", "add", Integer.class), x, 100).remote();
    ObjectRef<Integer> put = Ray.put(1000);
    WaitResult<Integer> ready = Ray.wait(List.of(javaResult, pythonResult, put), 3, 60_000);
    if (ready.getReady().size() != 3) {
      throw new IllegalStateException("wait returned " + ready.getReady().size() + " ready");
    }
    // A nested task that takes a reference made here as its argument.
    int chained = Ray.task(JavaTaskTest::addOne, javaResult).remote().get();
    return chained + pythonResult.get() + Ray.get(put);
  }

  /** Returns a reference to an object this task put: the value the caller gets holds it. */
  public static ObjectRef<String> putAndReturn(String value) {
    return Ray.put(value + " from a Java task");
  }

  /** The JVM's pid and its parent's (the Python worker that started it). */
  public static List<Long> jvmAndWorker() {
    ProcessHandle self = ProcessHandle.current();
    return List.of(self.pid(), self.parent().map(ProcessHandle::pid).orElse(-1L));
  }

  public static String systemProperty(String name) {
    return String.valueOf(System.getProperty(name));
  }

  public static String print(String marker) {
    System.out.println("stdout " + marker);
    System.err.println("stderr " + marker);
    return marker;
  }

  public static int dieWith(String lastWords) {
    System.err.println(lastWords);
    System.err.flush();
    Runtime.getRuntime().halt(7);
    return 0;
  }

  @Test
  void tasksWithValuesAndReferences() {
    assertEquals(2, Ray.task(JavaTaskTest::addOne, 1).remote().get());
    ObjectRef<Integer> x = Ray.put(41);
    assertEquals(42, Ray.task(JavaTaskTest::addOne, x).remote().get());
    ObjectRef<Integer> chained =
        Ray.task(JavaTaskTest::addOne, Ray.task(JavaTaskTest::addOne, 0).remote()).remote();
    assertEquals(2, chained.get());
    assertEquals(List.of(0, 1, 2), Ray.task(JavaTaskTest::range, 3).remote().get());
    assertEquals(
        "a|7|2.5|true|3|x+y",
        Ray.task(JavaTaskTest::concat, "a", 7L, 2.5, true, new byte[] {1, 2, 3}, List.of("x", "y"))
            .remote()
            .get());
    ObjectRef<List<String>> words = Ray.put(List.of("ab", "cde"));
    assertEquals(Map.of("ab", 2, "cde", 3), Ray.task(JavaTaskTest::lengths, words).remote().get());
  }

  @Test
  void tasksOfEveryArityWithValuesOrReferences() {
    ObjectRef<Integer> one = Ray.put(1);
    assertEquals(0, Ray.task(JavaTaskTest::sum0).remote().get());
    assertEquals(2, Ray.task(JavaTaskTest::addOne, one).remote().get());
    assertEquals(3, Ray.task(JavaTaskTest::sum2, one, 2).remote().get());
    assertEquals(6, Ray.task(JavaTaskTest::sum3, 1, one, 4).remote().get());
    assertEquals(7, Ray.task(JavaTaskTest::sum4, 1, 2, 3, one).remote().get());
    assertEquals(15, Ray.task(JavaTaskTest::sum5, one, 2, 3, 4, 5).remote().get());
    assertEquals(21, Ray.task(JavaTaskTest::sum6, 1, 2, 3, 4, 5, Ray.put(6)).remote().get());
  }

  @Test
  void aTaskThatReturnsNothingRuns() throws IOException {
    Path dir = Files.createTempDirectory("openray-java-void-");
    try {
      Path marker = dir.resolve("ran");
      Ray.task(JavaTaskTest::touch, marker.toString(), "void task").remote();
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (!Files.exists(marker) && System.nanoTime() < deadline) {
        TestCluster.sleep(50);
      }
      assertTrue(Files.exists(marker), "the void task did not run");
      assertEquals("void task", Files.readString(marker));
    } finally {
      TestCluster.deleteTree(dir);
    }
  }

  @Test
  void manyTasksInFlight() {
    List<ObjectRef<Integer>> refs = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      refs.add(Ray.task(JavaTaskTest::addOne, i).remote());
    }
    List<Integer> results = Ray.get(refs);
    for (int i = 0; i < 200; i++) {
      assertEquals(i + 1, results.get(i));
    }
  }

  @Test
  void javaCodeOnTheClusterUsesTheRayApi() {
    // addOne(5) = 6 -> addOne(6) = 7; add(5, 100) = 105; put 1000.
    assertEquals(7 + 105 + 1000, Ray.task(JavaTaskTest::nested, 5).remote().get());
  }

  @Test
  void aReferenceMadeInsideATaskOutlivesIt() {
    ObjectRef<ObjectRef<String>> outer = Ray.task(JavaTaskTest::putAndReturn, "hello").remote();
    ObjectRef<String> inner = outer.get();
    System.gc();
    assertEquals("hello from a Java task", inner.get());
    assertEquals("hello from a Java task", Ray.get(outer.get()));
  }

  @Test
  void javaExceptionsArriveWithTypeMessageAndTraceback() {
    RayTaskException e =
        assertThrows(
            RayTaskException.class, () -> Ray.task(JavaTaskTest::fail, "boom").remote().get());
    assertEquals("JAVA", e.getLanguage());
    assertEquals("java.lang.IllegalStateException", e.getRemoteExceptionType());
    assertTrue(e.getMessage().contains("boom"), e.getMessage());
    String trace = e.getRemoteTraceback();
    assertTrue(trace.contains("io.ray.test.JavaTaskTest.fail"), trace);
    assertTrue(trace.contains("IllegalStateException"), trace);
    // The failed task's worker goes on running tasks.
    assertEquals(3, Ray.task(JavaTaskTest::addOne, 2).remote().get());
  }

  @Test
  void oneJvmPerWorkerIsReusedForTheJobsTasks() {
    Map<Long, Set<Long>> jvmsByWorker = new HashMap<>();
    for (int i = 0; i < 30; i++) {
      List<Long> pids = Ray.task(JavaTaskTest::jvmAndWorker).remote().get();
      jvmsByWorker.computeIfAbsent(pids.get(1), k -> new HashSet<>()).add(pids.get(0));
    }
    Set<Long> workers = cluster.workerPids();
    for (Map.Entry<Long, Set<Long>> e : jvmsByWorker.entrySet()) {
      assertTrue(workers.contains(e.getKey()), "the JVM's parent is not a worker: " + e);
      assertEquals(1, e.getValue().size(), "a worker started several JVMs: " + jvmsByWorker);
      assertNotEquals(e.getKey(), e.getValue().iterator().next());
    }
  }

  @Test
  void aWorkerKeepsTheJvmsOfAtMostTwoJobs() {
    Set<Long> workers = new HashSet<>();
    for (int job = 0; job < 3; job++) {
      Ray.shutdown();
      Ray.init();
      List<ObjectRef<List<Long>>> refs = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        refs.add(Ray.task(JavaTaskTest::jvmAndWorker).remote());
      }
      for (List<Long> pids : Ray.get(refs)) {
        workers.add(pids.get(1));
      }
    }
    long deadline = System.nanoTime() + 20_000_000_000L;
    Map<Long, Long> jvms = new HashMap<>();
    do {
      jvms.clear();
      for (long worker : workers) {
        ProcessHandle.of(worker)
            .ifPresent(
                w ->
                    jvms.put(
                        worker,
                        w.children()
                            .filter(c -> c.info().command().orElse("").endsWith("/java"))
                            .count()));
      }
      if (jvms.values().stream().allMatch(n -> n <= 2)) {
        break;
      }
      TestCluster.sleep(100);
    } while (System.nanoTime() < deadline);
    assertTrue(jvms.values().stream().allMatch(n -> n <= 2), "JVMs per worker: " + jvms);
    assertTrue(jvms.values().stream().anyMatch(n -> n >= 1), "JVMs per worker: " + jvms);
  }

  @Test
  void theJobsJvmOptionsApply() {
    Ray.shutdown();
    System.setProperty("ray.job.jvm-options.0", "-Dopenray.test.flag=on");
    try {
      Ray.init();
      assertEquals(
          "on", Ray.task(JavaTaskTest::systemProperty, "openray.test.flag").remote().get());
    } finally {
      System.clearProperty("ray.job.jvm-options.0");
    }
  }

  @Test
  void aJvmThatCannotStartIsReportedWithItsOutput() {
    Ray.shutdown();
    System.setProperty("ray.job.jvm-options.0", "-XX:+NoSuchOptionOfOpenrayTests");
    try {
      Ray.init();
      RayTaskException e =
          assertThrows(
              RayTaskException.class, () -> Ray.task(JavaTaskTest::addOne, 1).remote().get());
      assertTrue(e.getMessage().contains("did not start"), e.getMessage());
      assertTrue(e.getMessage().contains("NoSuchOptionOfOpenrayTests"), e.getMessage());
    } finally {
      System.clearProperty("ray.job.jvm-options.0");
    }
  }

  @Test
  void aClassNotOnTheCodeSearchPathIsReportedWithWhereItLooked() {
    // Guava is on this driver's class path, not on the job's code search path (the runner's
    // own copy is relocated).
    RayTaskException e =
        assertThrows(
            RayTaskException.class,
            () -> Ray.task(com.google.common.base.Strings::isNullOrEmpty, "x").remote().get());
    assertEquals("java.lang.ClassNotFoundException", e.getRemoteExceptionType());
    assertTrue(e.getMessage().contains("com.google.common.base.Strings"), e.getMessage());
    assertTrue(e.getMessage().contains("test-classes"), e.getMessage());
  }

  @Test
  void aJvmThatDiesIsReportedWithItsLastWordsAndReplaced() {
    RayTaskException e =
        assertThrows(
            RayTaskException.class,
            () -> Ray.task(JavaTaskTest::dieWith, "the last words of a JVM").remote().get());
    assertTrue(e.getMessage().contains("exited with code 7"), e.getMessage());
    assertTrue(e.getMessage().contains("the last words of a JVM"), e.getMessage());
    assertTrue(e.getRemoteExceptionType().contains("JvmDiedError"), e.getRemoteExceptionType());
    for (int i = 0; i < 5; i++) {
      assertEquals(i + 1, Ray.task(JavaTaskTest::addOne, i).remote().get());
    }
  }

  @Test
  void printsReachTheWorkersOutput() throws Exception {
    String marker = UUID.randomUUID().toString();
    assertEquals(marker, Ray.task(JavaTaskTest::print, marker).remote().get());
    Path logs = cluster.sessionDir().resolve("logs");
    long deadline = System.nanoTime() + 20_000_000_000L;
    boolean out = false;
    boolean err = false;
    while (!(out && err) && System.nanoTime() < deadline) {
      out = anyLogContains(logs, ".out", "stdout " + marker);
      err = anyLogContains(logs, ".err", "stderr " + marker);
      Thread.sleep(100);
    }
    assertTrue(out, "System.out of the Java task is not in a worker's .out log in " + logs);
    assertTrue(err, "System.err of the Java task is not in a worker's .err log in " + logs);
  }

  private static boolean anyLogContains(Path logs, String suffix, String text) throws IOException {
    try (Stream<Path> files = Files.list(logs)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = p.getFileName().toString();
        if (name.startsWith("worker-")
            && name.endsWith(suffix)
            && Files.readString(p, StandardCharsets.UTF_8).contains(text)) {
          return true;
        }
      }
    }
    return false;
  }

  @Test
  void largeValuesInAndOut() {
    byte[] big = new byte[3 * 1024 * 1024];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) i;
    }
    assertArrayEquals(big, Ray.task(JavaTaskTest::identity, big).remote().get());
    assertArrayEquals(big, Ray.task(JavaTaskTest::identity, Ray.put(big)).remote().get());
  }

  public static byte[] identity(byte[] b) {
    return b;
  }
}
