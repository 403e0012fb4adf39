package io.ray.runtime.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.exception.RayException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration is read as upstream reads it: system properties, then the environment. */
class RayConfigTest {
  @TempDir Path tmp;

  private Properties props(String... kv) {
    Properties p = new Properties();
    p.setProperty("java.class.path", "/opt/app/classes:/opt/app/lib/x.jar");
    for (int i = 0; i < kv.length; i += 2) {
      p.setProperty(kv[i], kv[i + 1]);
    }
    return p;
  }

  private Map<String, String> env(String... kv) {
    Map<String, String> e = new HashMap<>();
    e.put("RAY_TMPDIR", tmp.toString());
    for (int i = 0; i < kv.length; i += 2) {
      e.put(kv[i], kv[i + 1]);
    }
    return e;
  }

  @Test
  void addressFromPropertyOrEnvironment() {
    assertNull(RayConfig.from(props(), env()).address);
    assertEquals(
        "10.0.0.1:6379", RayConfig.from(props(), env("RAY_ADDRESS", "10.0.0.1:6379")).address);
    RayConfig both =
        RayConfig.from(props("ray.address", "127.0.0.1:1"), env("RAY_ADDRESS", "10.0.0.1:6379"));
    assertEquals("127.0.0.1:1", both.resolveAddress());
    assertEquals("h:5", RayConfig.from(props("ray.address", "ray://h:5"), env()).resolveAddress());
    assertThrows(
        RayException.class,
        () -> RayConfig.from(props("ray.address", "nohost"), env()).resolveAddress());
    assertThrows(
        RayException.class,
        () -> RayConfig.from(props("ray.address", "h:99999"), env()).resolveAddress());
  }

  @Test
  void jobSettings() {
    RayConfig c =
        RayConfig.from(
            props(
                "ray.job.code-search-path", "/a/classes::relative/dir",
                "ray.job.namespace", "team",
                "ray.job.jvm-options.1", "-Xss2m",
                "ray.job.jvm-options.0", "-Xmx1g",
                "ray.head-args.0", "--resources={\"x\": 1}",
                "ray.some-unknown-option", "ignored"),
            env());
    assertEquals(
        List.of("/a/classes", Paths.get("relative/dir").toAbsolutePath().toString()),
        c.codeSearchPath);
    assertEquals("team", c.namespace);
    assertEquals(List.of("-Xmx1g", "-Xss2m"), c.jvmOptions);
    assertEquals(List.of("--resources={\"x\": 1}"), c.headArgs);
    assertEquals(30_000, c.rpcTimeoutMs);
    assertThrows(
        RayException.class, () -> RayConfig.from(props("ray.job.jvm-options.x", "-a"), env()));
    assertThrows(
        RayException.class, () -> RayConfig.from(props("ray.rpc.timeout-ms", "-5"), env()));
  }

  @Test
  void codeSearchPathDefaultsToTheClassPath() {
    assertEquals(
        List.of("/opt/app/classes", "/opt/app/lib/x.jar"),
        RayConfig.from(props(), env()).codeSearchPath);
  }

  @Test
  void tokenFromEnvironmentFirst() {
    RayConfig c =
        RayConfig.from(props("ray.address", "127.0.0.1:7"), env("RAY_CLUSTER_TOKEN", "tok"));
    assertEquals("tok", c.resolveToken("127.0.0.1:7"));
  }

  @Test
  void tokenFromTheRecordOfRayStart() throws IOException {
    Path session = Files.createDirectory(tmp.resolve("session_x"));
    Files.write(session.resolve("token"), "secret\n".getBytes(StandardCharsets.UTF_8));
    Files.write(
        tmp.resolve("ray_current_cluster"),
        ("127.0.0.1:6379\n" + session + "\n").getBytes(StandardCharsets.UTF_8));
    RayConfig c = RayConfig.from(props("ray.address", "auto"), env());
    String address = c.resolveAddress();
    assertEquals("127.0.0.1:6379", address);
    assertEquals("secret", c.resolveToken(address));
    RayException e = assertThrows(RayException.class, () -> c.resolveToken("10.1.1.1:6379"));
    assertTrue(e.getMessage().contains("RAY_CLUSTER_TOKEN"), e.getMessage());
  }

  @Test
  void tokenFromThisUsersRegistryOfClusters() throws IOException {
    Path session = Files.createDirectory(tmp.resolve("session_y"));
    Files.write(session.resolve("token"), "per-user\n".getBytes(StandardCharsets.UTF_8));
    Path registry =
        Files.createDirectory(tmp.resolve("clusters-" + ClusterRecord.currentUid().get()));
    Files.write(
        registry.resolve("127.0.0.1_7001"),
        ("127.0.0.1:7001\n" + session + "\n").getBytes(StandardCharsets.UTF_8));
    // The current-cluster record names another cluster: the registry still finds this one.
    Files.write(
        tmp.resolve("ray_current_cluster"),
        ("127.0.0.1:9999\n" + tmp.resolve("elsewhere") + "\n").getBytes(StandardCharsets.UTF_8));
    RayConfig c = RayConfig.from(props("ray.address", "127.0.0.1:7001"), env());
    assertEquals("per-user", c.resolveToken(c.resolveAddress()));
    assertThrows(RayException.class, () -> c.resolveToken("127.0.0.1:7002"));
  }

  @Test
  void autoWithoutARecordFailsClearly() {
    RayException e =
        assertThrows(
            RayException.class,
            () -> RayConfig.from(props("ray.address", "auto"), env()).resolveAddress());
    assertTrue(e.getMessage().contains("ray start --head"), e.getMessage());
  }

  @Test
  void upstreamRecordsWithOnlyAnAddressAreIgnored() throws IOException {
    Files.write(
        tmp.resolve("ray_current_cluster"), "127.0.0.1:6379".getBytes(StandardCharsets.UTF_8));
    assertTrue(ClusterRecord.read(tmp).isEmpty());
  }

  @Test
  void attachSettings() {
    RayConfig c =
        RayConfig.from(
            props(),
            env(
                "RAY_SESSION_ADDRESS", "127.0.0.1:4000",
                "RAY_SESSION_ID", "0a0b",
                "RAY_JOB_ID", "01000000"));
    assertEquals("127.0.0.1:4000", c.attach.sessionAddress);
    assertArrayEquals(new byte[] {10, 11}, c.attach.sessionId);
    assertArrayEquals(new byte[] {1, 0, 0, 0}, c.attach.jobId);
    assertNull(RayConfig.from(props(), env()).attach);
    RayException e =
        assertThrows(
            RayException.class, () -> RayConfig.from(props(), env("RAY_SESSION_ADDRESS", "h:1")));
    assertTrue(e.getMessage().contains("RAY_SESSION_ID"), e.getMessage());
    assertThrows(
        RayException.class,
        () ->
            RayConfig.from(
                props(),
                env("RAY_SESSION_ADDRESS", "h:1", "RAY_SESSION_ID", "00", "RAY_JOB_ID", "0102")));
  }
}
