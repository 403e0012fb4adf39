package io.ray.runtime.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.exception.RayException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the runtime runs {@code ray start --head --block} for a driver without an address: the
 * command line, reading the banner, stopping it, and the child dying with the JVM even on {@code
 * kill -9}. The {@code ray} command here is a stand-in shell script that prints the CLI's banner
 * and blocks until SIGTERM, recording what happened; this tests the process handling, not a
 * cluster.
 */
@Timeout(120)
class LocalClusterTest {
  @TempDir Path tmp;

  private Path standIn(String body) throws IOException {
    Path script = tmp.resolve("ray");
    Files.write(script, ("#!/bin/bash\n" + body).getBytes(StandardCharsets.UTF_8));
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    return script;
  }

  /** A stand-in that prints the banner of `ray start --head` and blocks until SIGTERM. */
  private Path blockingStandIn(boolean printToken) throws IOException {
    Path session = Files.createDirectories(tmp.resolve("session_test"));
    Files.write(session.resolve("token"), "token-from-file\n".getBytes(StandardCharsets.UTF_8));
    return standIn(
        "echo \"$@\" > '"
            + tmp.resolve("args")
            + "'\n"
            + "echo $$ > '"
            + tmp.resolve("pid")
            + "'\n"
            + "trap 'echo stopped > \""
            + tmp.resolve("stopped")
            + "\"; exit 0' TERM\n"
            + "echo 'Started a Ray head node.'\n"
            + "echo '  GCS address:   127.0.0.1:45678  (pid 1)'\n"
            + "echo '  Node manager:  127.0.0.1:45679  (pid 2, node abc)'\n"
            + "echo '  Session:       "
            + session
            + "  (logs in logs/)'\n"
            + (printToken ? "echo '    export RAY_CLUSTER_TOKEN=printed-token'\n" : "")
            + "echo 'See the cluster with `ray status`; stop it with `ray stop`.'\n"
            + "while true; do sleep 0.1; done\n");
  }

  private long standInPid() throws Exception {
    waitFor(() -> Files.exists(tmp.resolve("pid")), "the stand-in's pid file");
    return Long.parseLong(Files.readString(tmp.resolve("pid")).trim());
  }

  private static boolean alive(long pid) {
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    return h.isPresent() && h.get().isAlive();
  }

  private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void startsReadsTheBannerAndStopsWithSigterm() throws Exception {
    Path ray = blockingStandIn(true);
    LocalCluster cluster =
        LocalCluster.start(
            LocalCluster.headCommand(ray, 3, List.of("--resources={}")), Map.of(), 30_000);
    assertEquals("127.0.0.1:45678", cluster.gcsAddress());
    assertEquals("printed-token", cluster.token());
    assertEquals(Optional.of(tmp.resolve("session_test")), cluster.sessionDir());
    assertEquals(
        "start --head --port 0 --num-cpus 3 --block --resources={}",
        Files.readString(tmp.resolve("args")).trim());
    long pid = standInPid();
    assertTrue(alive(pid));
    Path log = cluster.logFile();
    assertTrue(cluster.stop(30_000), "the stand-in did not stop by itself");
    assertFalse(alive(pid));
    assertEquals("stopped", Files.readString(tmp.resolve("stopped")).trim(), "no SIGTERM arrived");
    assertFalse(Files.exists(log), "the log file was left behind");
  }

  @Test
  void theTokenIsReadFromTheSessionDirectoryWhenNotPrinted() throws Exception {
    LocalCluster cluster =
        LocalCluster.start(
            LocalCluster.headCommand(blockingStandIn(false), 1, List.of()), Map.of(), 30_000);
    try {
      assertEquals("token-from-file", cluster.token());
    } finally {
      cluster.stop(30_000);
    }
  }

  @Test
  void theChildDiesWithTheJvmEvenOnKill9() throws Exception {
    Path ray = blockingStandIn(true);
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    Process holder =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                LocalClusterHolder.class.getName(),
                ray.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("ADDRESS 127.0.0.1:45678", out.readLine());
      long pid = standInPid();
      assertTrue(alive(pid));
      holder.destroyForcibly();
      assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
      waitFor(() -> !alive(pid), "the stand-in to die with its JVM");
      assertEquals(
          "stopped", Files.readString(tmp.resolve("stopped")).trim(), "it was not sent SIGTERM");
    } finally {
      holder.destroyForcibly();
    }
  }

  @Test
  void aCommandThatFailsIsReportedWithItsOutput() throws Exception {
    Path ray = standIn("echo 'Error: Could not start the node: port in use' >&2\nexit 1\n");
    RayException e =
        assertThrows(
            RayException.class,
            () ->
                LocalCluster.start(LocalCluster.headCommand(ray, 1, List.of()), Map.of(), 30_000));
    assertTrue(e.getMessage().contains("exited with code 1"), e.getMessage());
    assertTrue(e.getMessage().contains("port in use"), e.getMessage());
  }

  @Test
  void aCommandThatPrintsNothingTimesOutAndIsKilled() throws Exception {
    Path ray = standIn("echo $$ > '" + tmp.resolve("pid") + "'\nwhile true; do sleep 0.1; done\n");
    RayException e =
        assertThrows(
            RayException.class,
            () -> LocalCluster.start(LocalCluster.headCommand(ray, 1, List.of()), Map.of(), 1000));
    assertTrue(e.getMessage().contains("printed no GCS address within 1000 ms"), e.getMessage());
    long pid = standInPid();
    waitFor(() -> !alive(pid), "the silent command to be stopped");
  }

  @Test
  void theCliIsFoundByPropertyPathOrVenv() throws Exception {
    Path ray = standIn("exit 0\n");
    assertEquals(ray, RayCliLocator.locate(ray.toString(), Map.of()));
    assertThrows(
        RayException.class, () -> RayCliLocator.locate(tmp.resolve("nope").toString(), Map.of()));
    assertEquals(
        ray.toAbsolutePath(), RayCliLocator.locate(null, Map.of("PATH", "/nonexistent:" + tmp)));
  }
}
