package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.Ray;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A Java driver SIGKILLed mid-session leaves nothing behind: the objects it put are freed from the
 * store (seen by a small Python driver, {@code cluster_probe.py}, as the node's {@code
 * object_store_used_bytes}) and its actors are gone (their processes exit, their names are free),
 * within a bounded time.
 */
class KilledDriverTest extends BaseTest {
  private static final Pattern USED = Pattern.compile("\"object_store_used_bytes\": (\\d+)");
  private static final Pattern OBJECTS = Pattern.compile("\"num_objects\": (\\d+)");

  /** The probe's lines, as they come. */
  private static final class Probe implements AutoCloseable {
    final Process process;
    final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    volatile String last = "(nothing yet)";

    Probe(String address) throws IOException {
      ProcessBuilder pb =
          new ProcessBuilder(
                  TestCluster.python().toString(),
                  Paths.get("src/test/python/cluster_probe.py").toAbsolutePath().toString(),
                  address,
                  "150")
              .redirectError(ProcessBuilder.Redirect.INHERIT);
      process = pb.start();
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader in =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = in.readLine()) != null) {
                    lines.add(line);
                  }
                } catch (IOException e) {
                  // The probe ended.
                }
              },
              "probe-reader");
      reader.setDaemon(true);
      reader.start();
    }

    /** Waits for a line that satisfies the condition; returns it, or null after the timeout. */
    String await(Predicate<String> condition, long timeoutMs) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      while (System.nanoTime() < deadline) {
        String line = lines.poll(200, TimeUnit.MILLISECONDS);
        if (line == null) {
          continue;
        }
        last = line;
        if (condition.test(line)) {
          return line;
        }
      }
      return null;
    }

    @Override
    public void close() throws Exception {
      process.getOutputStream().close();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static long number(Pattern p, String line) {
    Matcher m = p.matcher(line);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  @Test
  @org.junit.jupiter.api.Timeout(240)
  void aKilledDriverLeavesNoPinnedObjectsAndNoActors() throws Exception {
    String namespace = "killed-driver-" + System.nanoTime();
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("openray.test-classpath") + ":" + TestCluster.jar());
    command.add("-Dray.address=" + cluster.address());
    command.add("-Dray.job.namespace=" + namespace);
    command.add("-Dray.job.code-search-path=" + System.getProperty("ray.job.code-search-path"));
    command.add("-Dray.session.reconnect-grace-ms=2000");
    command.add(KilledDriver.class.getName());
    try (Probe probe = new Probe(cluster.address())) {
      assertTrue(
          probe.await(l -> number(USED, l) == 0, 60_000) != null,
          "the store is not empty before the driver starts: " + probe.last);
      Process driver =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      long jvm;
      long worker;
      long pyActor;
      try {
        BufferedReader out =
            new BufferedReader(
                new InputStreamReader(driver.getInputStream(), StandardCharsets.UTF_8));
        String ready = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
          String line = out.readLine();
          if (line == null || line.startsWith("READY ")) {
            ready = line;
            break;
          }
        }
        assertTrue(ready != null, "the driver exited before it was ready");
        String[] pids = ready.split(" ");
        jvm = Long.parseLong(pids[1]);
        worker = Long.parseLong(pids[2]);
        pyActor = Long.parseLong(pids[3]);
        long stored = (long) KilledDriver.MIB_PUT << 20;
        assertTrue(
            probe.await(l -> number(USED, l) >= stored, 30_000) != null,
            "the driver's objects are not in the store: " + probe.last);
        assertTrue(Ray.getActor("killed-driver-java", namespace).isPresent());
        assertTrue(Ray.getActor("killed-driver-python", namespace).isPresent());
      } finally {
        // SIGKILL: the driver gets no chance to close its session.
        driver.destroyForcibly();
        assertTrue(driver.waitFor(30, TimeUnit.SECONDS));
      }
      assertEquals(137, driver.exitValue());
      String clean = probe.await(l -> number(USED, l) == 0 && number(OBJECTS, l) == 0, 60_000);
      assertTrue(clean != null, "objects stay pinned after the driver died: " + probe.last);
      assertTrue(TestCluster.waitGone(jvm, 60_000), "the Java actor's JVM is still alive");
      assertTrue(TestCluster.waitGone(worker, 60_000), "the Java actor's worker is still alive");
      assertTrue(TestCluster.waitGone(pyActor, 60_000), "the Python actor is still alive");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (Ray.getActor("killed-driver-java", namespace).isPresent()
          && System.nanoTime() < deadline) {
        TestCluster.sleep(200);
      }
      assertFalse(Ray.getActor("killed-driver-java", namespace).isPresent());
      assertFalse(Ray.getActor("killed-driver-python", namespace).isPresent());
    }
  }
}
