package io.ray.runtime.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.runtime.runner.fixtures.Calculator;
import io.ray.runtime.runner.fixtures.RayUser;
import io.ray.runtime.serialization.FrameCodec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The runner as a Python worker starts it: a child JVM that prints its py4j port, answers the py4j
 * wire protocol (spoken here by hand, as py4j's Python client speaks it) and exits when its stdin
 * closes.
 */
@Timeout(120)
class JavaRunnerProcessTest {
  private static final String TOKEN = "test-token-123";
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void killLeftovers() throws InterruptedException {
    for (Process p : started) {
      if (p.isAlive()) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private Process startRunner(Map<String, String> env) throws IOException {
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
                java, "-cp", System.getProperty("java.class.path"), JavaRunner.class.getName())
            .redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().keySet().removeIf(k -> k.startsWith("RAY_"));
    pb.environment().put(JavaRunner.AUTH_TOKEN_ENV, TOKEN);
    pb.environment().putAll(env);
    Process p = pb.start();
    started.add(p);
    return p;
  }

  private static int readPort(Process p) throws Exception {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line =
        CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return out.readLine();
                  } catch (IOException e) {
                    return "error: " + e;
                  }
                })
            .get(60, TimeUnit.SECONDS);
    assertTrue(line != null && line.startsWith(JavaRunner.PORT_LINE_PREFIX), "first line: " + line);
    return Integer.parseInt(line.substring(JavaRunner.PORT_LINE_PREFIX.length()));
  }

  /** A py4j connection: commands are lines ending with "e", answers one line "!y..." or "!x...". */
  private static final class Py4j implements AutoCloseable {
    final Socket socket;
    final Writer out;
    final BufferedReader in;

    Py4j(int port) throws IOException {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
      socket.setSoTimeout(30_000);
      out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8);
      in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    String send(String command) throws IOException {
      out.write(command);
      out.flush();
      return in.readLine();
    }

    String call(String method, String... typedArgs) throws IOException {
      StringBuilder sb = new StringBuilder("c\nt\n").append(method).append('\n');
      for (String a : typedArgs) {
        sb.append(a).append('\n');
      }
      return send(sb.append("e\n").toString());
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static String bytesArg(byte[] b) {
    return "j" + Base64.getEncoder().encodeToString(b);
  }

  private static Object decodeSingle(String answer) {
    assertTrue(answer.startsWith("!yj"), "answer: " + answer);
    byte[] packed = Base64.getDecoder().decode(answer.substring(3));
    return FrameCodec.decode(PackedFrames.unpack(packed).get(0));
  }

  @Test
  void servesPy4jAndExitsWhenStdinCloses() throws Exception {
    Process p = startRunner(Map.of());
    int port = readPort(p);
    try (Py4j py4j = new Py4j(port)) {
      assertEquals("!yv", py4j.send("A\n" + TOKEN + "\n"));
      assertEquals("!ys" + RunnerEntryPoint.VERSION, py4j.call("version"));
      byte[] args =
          PackedFrames.pack(List.of(FrameCodec.encode(20).frame(), FrameCodec.encode(22).frame()));
      String answer =
          py4j.call(
              "callStatic",
              "s" + Calculator.class.getName(),
              "sadd",
              "s(II)I",
              bytesArg(args),
              "i1");
      assertEquals(42L, decodeSingle(answer));
      assertEquals("!yi0", py4j.call("numActors"));
    }
    try (Py4j intruder = new Py4j(port)) {
      String answer = intruder.send("A\nwrong-token\n");
      assertTrue(
          answer == null || answer.startsWith("!x"), "a wrong token was accepted: " + answer);
    }
    p.getOutputStream().close();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the runner did not exit after stdin closed");
    assertEquals(0, p.exitValue());
  }

  @Test
  void shutdownEntryPointStopsTheJvm() throws Exception {
    Process p = startRunner(Map.of());
    try (Py4j py4j = new Py4j(readPort(p))) {
      assertEquals("!yv", py4j.send("A\n" + TOKEN + "\n"));
      py4j.call("shutdown");
    }
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the runner did not exit after shutdown()");
    assertEquals(0, p.exitValue());
  }

  @Test
  void jobCodeUsesTheRayApiAttachedToTheGivenSession() throws Exception {
    Process p =
        startRunner(
            Map.of(
                "RAY_SESSION_ADDRESS", "127.0.0.1:1",
                "RAY_SESSION_ID", "a1b2",
                "RAY_JOB_ID", "05000000",
                "RAY_NAMESPACE", "team-ns",
                "RAY_CLUSTER_TOKEN", "cluster-token"));
    try (Py4j py4j = new Py4j(readPort(p))) {
      assertEquals("!yv", py4j.send("A\n" + TOKEN + "\n"));
      String cls = "s" + RayUser.class.getName();
      byte[] none = PackedFrames.pack(List.of());
      assertEquals(
          true,
          decodeSingle(
              py4j.call("callStatic", cls, "sisRayInitialized", "s", bytesArg(none), "i1")));
      assertEquals(
          "team-ns",
          decodeSingle(py4j.call("callStatic", cls, "snamespace", "s", bytesArg(none), "i1")));
      assertEquals(
          "05000000",
          decodeSingle(py4j.call("callStatic", cls, "sjobId", "s", bytesArg(none), "i1")));
      // Nothing listens at the session address: the put must have gone there.
      String putError =
          (String) decodeSingle(py4j.call("callStatic", cls, "stryPut", "s", bytesArg(none), "i1"));
      assertTrue(putError.contains("127.0.0.1:1"), putError);
    }
    p.getOutputStream().close();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
  }

  @Test
  void badSessionSettingsExitWithCode2() throws Exception {
    Process p = startRunner(Map.of("RAY_SESSION_ADDRESS", "127.0.0.1:1"));
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue());
  }
}
