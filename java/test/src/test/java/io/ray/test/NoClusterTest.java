package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.Ray;
import io.ray.api.exception.RayException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The facade without a cluster: the runtime loads by name and fails clearly. */
@Timeout(60)
class NoClusterTest {
  private String savedAddress;

  @AfterEach
  void restore() {
    if (savedAddress == null) {
      System.clearProperty("ray.address");
    } else {
      System.setProperty("ray.address", savedAddress);
    }
    assertFalse(Ray.isInitialized());
  }

  @Test
  void theApiNeedsInit() {
    assertFalse(Ray.isInitialized());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Ray.put(1));
    assertTrue(e.getMessage().contains("Ray.init()"), e.getMessage());
    Ray.shutdown();
    assertFalse(Ray.isInitialized());
  }

  @Test
  void initFailsClearlyWhenNothingListens() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    savedAddress = System.getProperty("ray.address");
    System.setProperty("ray.address", "127.0.0.1:" + port);
    RayException e = assertThrows(RayException.class, Ray::init);
    assertTrue(
        e.getMessage().contains("127.0.0.1:" + port)
            || e.getMessage().contains("RAY_CLUSTER_TOKEN"),
        e.getMessage());
    assertFalse(Ray.isInitialized());
  }
}
