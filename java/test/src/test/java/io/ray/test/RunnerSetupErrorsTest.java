package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.Ray;
import io.ray.api.exception.RayTaskException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node without the Ray Java library: Java tasks fail with an error that says which file is
 * missing and how to install it, and Python tasks still run.
 */
@Timeout(120)
class RunnerSetupErrorsTest {

  @Test
  void aMissingJarIsReportedWithItsPath() {
    String missing = "/nonexistent/openray-test/ray_dist.jar";
    TestCluster c = TestCluster.start(2, Map.of("RAY_JAVA_JAR", missing));
    try {
      System.setProperty("ray.address", c.address());
      Ray.init();
      try {
        RayTaskException e =
            assertThrows(
                RayTaskException.class, () -> Ray.task(JavaTaskTest::addOne, 1).remote().get());
        assertTrue(e.getMessage().contains(missing), e.getMessage());
        assertTrue(e.getMessage().contains("scripts/java.sh build"), e.getMessage());
        assertTrue(e.getRemoteExceptionType().contains("JavaNotFoundError"), e.toString());
        assertEquals(
            3,
            Ray.task(
                    io.ray.api.function.PyFunction.of("java_test_fixtures", "add", Integer.class),
                    1,
                    2)
                .remote()
                .get());
        c.snapshot();
      } finally {
        Ray.shutdown();
      }
    } finally {
      System.clearProperty("ray.address");
      c.stop();
    }
  }
}
