package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.ray.api.Ray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

/**
 * Base of the cluster tests. Each test class gets its own cluster, started as upstream's docs tell
 * Java users to ({@code ray start --head --port P --num-cpus N --temp-dir DIR}, see {@link
 * TestCluster}) and stopped after the class, checking that it left no process and no {@code
 * /dev/shm} entry behind. Each test joins it by address: {@code Ray.init()} with {@code
 * ray.address} set before it and {@code Ray.shutdown()} after it, then checks that nothing was left
 * initialized. The job's code search path (this module's test classes and {@code src/test/python})
 * comes from the build ({@code ray.job.code-search-path}).
 */
@Timeout(120)
public abstract class BaseTest {
  /** CPUs of each test class's cluster. */
  static final int NUM_CPUS = 4;

  /** The cluster of the running test class. */
  protected static TestCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = TestCluster.start(NUM_CPUS);
  }

  @AfterAll
  static void stopCluster() {
    TestCluster c = cluster;
    cluster = null;
    if (c != null) {
      c.stop();
    }
  }

  @BeforeEach
  void initRay() {
    System.setProperty("ray.address", cluster.address());
    Ray.init();
  }

  @AfterEach
  void shutdownRay() {
    try {
      cluster.snapshot();
      Ray.shutdown();
    } finally {
      System.clearProperty("ray.address");
    }
    assertFalse(Ray.isInitialized(), "Ray is still initialized after Ray.shutdown()");
  }
}
