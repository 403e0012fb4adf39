package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.ray.api.Ray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

/**
 * Base of the cluster tests: {@code Ray.init()} before each test and {@code Ray.shutdown()} after
 * it, then checks that nothing was left initialized. The cluster comes from {@code ray.address} /
 * {@code RAY_ADDRESS} (scripts/java.sh test-cluster starts one), else a local one is started.
 */
@Timeout(120)
public abstract class BaseTest {

  @BeforeEach
  void initRay() {
    Ray.init();
  }

  @AfterEach
  void shutdownRay() {
    Ray.shutdown();
    assertFalse(Ray.isInitialized(), "Ray is still initialized after Ray.shutdown()");
  }
}
