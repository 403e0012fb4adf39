package io.ray.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs a program to its end while noting every process it starts (its descendants, polled), so the
 * test can check they are all gone afterwards.
 */
final class ProgramRun {
  final int exitCode;
  final String output;
  final Map<Long, String> descendants;

  private ProgramRun(int exitCode, String output, Map<Long, String> descendants) {
    this.exitCode = exitCode;
    this.output = output;
    this.descendants = descendants;
  }

  static ProgramRun run(List<String> command, long timeoutS) {
    Map<Long, String> seen = new LinkedHashMap<>();
    try {
      Path out = Files.createTempFile("openray-java-program-", ".out");
      try {
        ProcessBuilder pb =
            new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().remove("RAY_ADDRESS");
        Process p = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
        while (p.isAlive() && System.nanoTime() < deadline) {
          p.descendants().forEach(d -> seen.putIfAbsent(d.pid(), TestCluster.describe(d)));
          p.waitFor(100, TimeUnit.MILLISECONDS);
        }
        if (p.isAlive()) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
          return new ProgramRun(
              -1, "(killed after " + timeoutS + " s)\n" + Files.readString(out), seen);
        }
        return new ProgramRun(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), seen);
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

  /** The /dev/shm prefixes of the sessions under a temp dir (see TestCluster#shmPrefix). */
  static List<String> shmPrefixes(Path tempDir) {
    List<String> out = new ArrayList<>();
    try (Stream<Path> entries = Files.list(tempDir)) {
      entries
          .map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("session_") && !n.equals("session_latest"))
          .forEach(n -> out.add("ray_" + n.substring(Math.max(0, n.length() - 26)) + "_"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
