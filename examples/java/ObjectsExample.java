// Objects from Java: put a value, get one and many refs, get with a timeout, and the
// RayTimeoutException of a task slower than the timeout. Built from the Java snippets of Ray's
// "Objects" guide (their Assert and ImmutableList are replaced by a check and List.of, so the
// program needs nothing but the jar).
//
// Build and run it with plain javac against the jar (`scripts/java.sh build` installs it in
// python/ray/jars/):
//   javac -cp python/ray/jars/ray_dist.jar -d /tmp/ray-example examples/java/ObjectsExample.java
//   java -cp /tmp/ray-example:python/ray/jars/ray_dist.jar ObjectsExample
// With no address Ray.init() starts a local cluster (`ray start --head --block` with the `ray`
// command on PATH or the repository's .venv) and Ray.shutdown() stops it. To join a cluster
// started beforehand, as upstream's docs say:
//   ray start --head --port 6379 --num-cpus 4 --temp-dir /tmp/ray-java
//   java -Dray.address=127.0.0.1:6379 -Dray.job.code-search-path=/tmp/ray-example \
//       -cp /tmp/ray-example:python/ray/jars/ray_dist.jar ObjectsExample
// The remote function below runs in a JVM on the cluster, which loads this class from the code
// search path (by default the driver's class path). It checks its own results and exits 0.

import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.exception.RayTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

public class ObjectsExample {

  // Ray.get timeout example: Ray.get will throw an RayTimeoutException if time out.
  public static class MyRayApp {
    public static int slowFunction() throws InterruptedException {
      TimeUnit.SECONDS.sleep(10);
      return 1;
    }
  }

  public static int addOne(int x) {
    return x + 1;
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError("check failed: " + what);
    }
  }

  public static void main(String[] args) {
    Ray.init();
    try {
      // Put an object in Ray's object store.
      int y = 1;
      ObjectRef<Integer> objectRef = Ray.put(y);
      System.out.println("put " + y + " as " + objectRef);

      // Get the value of one object ref.
      ObjectRef<Integer> objRef = Ray.put(1);
      check(objRef.get() == 1, "objRef.get() == 1");
      // You can also set a timeout(ms) to return early from a ``get`` that's blocking for too
      // long.
      check(objRef.get(1000) == 1, "objRef.get(1000) == 1");

      // Get the values of multiple object refs in parallel.
      List<ObjectRef<Integer>> objectRefs = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        objectRefs.add(Ray.put(i));
      }
      List<Integer> results = Ray.get(objectRefs);
      check(results.equals(List.of(0, 1, 2)), "results == [0, 1, 2], got " + results);
      System.out.println("got " + results);

      // A remote function's result, passed by reference to another one.
      ObjectRef<Integer> two = Ray.task(ObjectsExample::addOne, objectRefs.get(1)).remote();
      check(Ray.task(ObjectsExample::addOne, two).remote().get() == 3, "addOne(addOne(1)) == 3");

      // Ray.get timeout example: Ray.get will throw an RayTimeoutException if time out.
      try {
        Ray.get(Ray.task(MyRayApp::slowFunction).remote(), 3000);
        throw new AssertionError("Ray.get did not time out");
      } catch (RayTimeoutException e) {
        System.out.println("`get` timed out.");
      }
    } finally {
      Ray.shutdown();
    }
  }
}
