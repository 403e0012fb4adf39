package io.ray.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.exception.RayException;
import io.ray.runtime.config.RayConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starting the runtime fails fast and clearly when there is no cluster: real gRPC calls to a port
 * where nothing listens (no cluster is needed, and none is faked).
 */
@Timeout(120)
class GatewayRuntimeStartTest {
  @TempDir Path tmp;

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private Map<String, String> env(String... kv) {
    Map<String, String> env = new HashMap<>();
    env.put("RAY_TMPDIR", tmp.toString());
    for (int i = 0; i < kv.length; i += 2) {
      env.put(kv[i], kv[i + 1]);
    }
    return env;
  }

  private static Properties props(String... kv) {
    Properties p = new Properties();
    for (int i = 0; i < kv.length; i += 2) {
      p.setProperty(kv[i], kv[i + 1]);
    }
    return p;
  }

  @Test
  void anUnreachableClusterFailsWithTheAddress() throws IOException {
    String address = "127.0.0.1:" + closedPort();
    Map<String, String> env = env("RAY_CLUSTER_TOKEN", "t");
    long start = System.nanoTime();
    RayException e =
        assertThrows(
            RayException.class,
            () -> GatewayRuntime.start(RayConfig.from(props("ray.address", address), env), env));
    assertTrue(e.getMessage().contains("OpenSession"), e.getMessage());
    assertTrue(e.getMessage().contains(address + " is unreachable"), e.getMessage());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "took too long");
  }

  @Test
  void aMissingTokenSaysHowToProvideIt() throws IOException {
    String address = "127.0.0.1:" + closedPort();
    Map<String, String> env = env();
    RayException e =
        assertThrows(
            RayException.class,
            () -> GatewayRuntime.start(RayConfig.from(props("ray.address", address), env), env));
    assertTrue(e.getMessage().contains("RAY_CLUSTER_TOKEN"), e.getMessage());
  }

  @Test
  void aLocalClusterIsStoppedWhenTheSessionCannotOpen() throws Exception {
    // A stand-in `ray` that prints the banner of a head whose GCS does not answer, then blocks.
    int port = closedPort();
    Path ray = tmp.resolve("ray");
    Files.write(
        ray,
        ("#!/bin/bash\n"
                + "echo $$ > '"
                + tmp.resolve("pid")
                + "'\n"
                + "echo '  GCS address:   127.0.0.1:"
                + port
                + "  (pid 1)'\n"
                + "echo '    export RAY_CLUSTER_TOKEN=tok'\n"
                + "echo 'See the cluster with `ray status`; stop it with `ray stop`.'\n"
                + "while true; do sleep 0.1; done\n")
            .getBytes(StandardCharsets.UTF_8));
    Files.setPosixFilePermissions(ray, PosixFilePermissions.fromString("rwxr-xr-x"));
    Map<String, String> env = env();
    RayException e =
        assertThrows(
            RayException.class,
            () -> GatewayRuntime.start(RayConfig.from(props("ray.cli", ray.toString()), env), env));
    assertTrue(e.getMessage().contains("unreachable"), e.getMessage());
    long pid = Long.parseLong(Files.readString(tmp.resolve("pid")).trim());
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    assertFalse(h.isPresent() && h.get().isAlive(), "the local cluster was left running");
  }
}
