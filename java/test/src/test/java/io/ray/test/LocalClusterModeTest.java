package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.exception.RayTimeoutException;
import io.ray.api.function.PyFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The other way to start a cluster: {@code Ray.init()} with no address starts a local one ({@code
 * ray start --head --port 0 --block} in a child process) and {@code Ray.shutdown()} stops it,
 * leaving no process and no {@code /dev/shm} entry behind.
 */
@Timeout(180)
class LocalClusterModeTest {

  @Test
  void rayInitStartsALocalClusterAndShutdownStopsIt() throws Exception {
    Path tempDir = Files.createTempDirectory("openray-java-local-cluster-");
    System.clearProperty("ray.address");
    System.setProperty("ray.cli", TestCluster.rayCli().toString());
    System.setProperty("ray.head-args.0", "--temp-dir");
    System.setProperty("ray.head-args.1", tempDir.toString());
    Map<Long, String> started = new LinkedHashMap<>();
    try {
      Ray.init();
      try {
        // The seed document's snippets, and code of both languages on the cluster.
        ObjectRef<Integer> objRef = Ray.put(1);
        assertTrue(objRef.get() == 1);
        assertTrue(objRef.get(1000) == 1);
        List<ObjectRef<Integer>> objectRefs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          objectRefs.add(Ray.put(i));
        }
        assertEquals(List.of(0, 1, 2), Ray.get(objectRefs));
        assertThrows(
            RayTimeoutException.class,
            () -> Ray.get(Ray.task(MyRayApp::slowFunction).remote(), 3000));
        assertEquals(5, Ray.task(JavaTaskTest::addOne, objectRefs.get(2)).remote().get() + 2);
        assertEquals(
            3,
            Ray.task(PyFunction.of("java_test_fixtures", "add", Integer.class), 1, 2)
                .remote()
                .get());
        ActorHandle<JavaActorTest.Counter> counter = Ray.actor(JavaActorTest.Counter::new).remote();
        assertEquals(1, counter.task(JavaActorTest.Counter::increment).remote().get());
        ProcessHandle.current()
            .descendants()
            .forEach(d -> started.putIfAbsent(d.pid(), TestCluster.describe(d)));
      } finally {
        Ray.shutdown();
      }
      assertFalse(Ray.isInitialized());
      assertTrue(
          started.values().stream().anyMatch(c -> c.contains("node_manager")),
          "no node manager among the processes this JVM started: " + started);
      assertTrue(
          started.values().stream()
              .anyMatch(c -> c.contains("/bin/java") && c.contains("ray_dist.jar")),
          "no JVM runner among the processes: " + started);
      List<String> left = TestCluster.Leftovers.processes(started, 30_000);
      List<String> prefixes = ProgramRun.shmPrefixes(tempDir);
      assertEquals(1, prefixes.size(), "sessions in " + tempDir + ": " + prefixes);
      left.addAll(TestCluster.Leftovers.shmEntries(prefixes.get(0), 20_000));
      assertTrue(left.isEmpty(), "the local cluster left behind: " + left);
    } finally {
      System.clearProperty("ray.cli");
      System.clearProperty("ray.head-args.0");
      System.clearProperty("ray.head-args.1");
      TestCluster.deleteTree(tempDir);
    }
  }
}
