import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.exception.RayException;
import io.ray.api.function.PyFunction;
import java.util.List;

/**
 * Checks ray_dist.jar on its own: compiled with only the jar on the class path (so the API's
 * signatures are there), it loads the runtime by name, and a real gRPC call through the relocated
 * gRPC and Netty fails clearly against an address where nothing listens (argument 0).
 */
public class JarSmoke {
  public static int addOne(int x) {
    return x + 1;
  }

  /** An actor class. */
  public static class Counter {
    private int value;

    public int increment() {
      return ++value;
    }
  }

  public static void main(String[] args) {
    if (Ray.isInitialized()) {
      throw new AssertionError("Ray is initialized before Ray.init()");
    }
    System.setProperty("ray.address", args[0]);
    try {
      Ray.init();
      throw new AssertionError("Ray.init() succeeded with nothing listening at " + args[0]);
    } catch (RayException e) {
      if (!e.getMessage().contains(args[0] + " is unreachable")) {
        throw new AssertionError("unexpected failure of Ray.init(): " + e, e);
      }
    }
    if (Ray.isInitialized()) {
      throw new AssertionError("Ray is initialized after a failed Ray.init()");
    }
    if (args.length > 1) {
      // Never run: only compiled, to check the API's shapes against the jar.
      ObjectRef<Integer> x = Ray.put(1);
      ObjectRef<Integer> y = Ray.task(JarSmoke::addOne, x).remote();
      List<Integer> both = Ray.get(List.of(x, y), 1000);
      ActorHandle<Counter> c = Ray.actor(Counter::new).setMaxRestarts(1).remote();
      ObjectRef<Integer> n = c.task(Counter::increment).remote();
      ObjectRef<Integer> p = Ray.task(PyFunction.of("m", "f", Integer.class), 1).remote();
      System.out.println(both + " " + n.get() + " " + p.get(10));
    }
    System.out.println("ray_dist.jar smoke test passed");
  }
}
