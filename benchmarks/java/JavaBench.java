// The Java benchmark: the Java API's hot paths against a running cluster, so the same program
// (built with plain javac against either ray_dist.jar) measures this project and upstream Ray.
//
//   java -Dray.address=127.0.0.1:P -Dray.job.code-search-path=CLASSES:benchmarks/java \
//       -cp CLASSES:ray_dist.jar JavaBench [--trials N] [--trial-seconds S] [--label NAME]
//       [--only NAME,NAME...]
//
// benchmarks/java/run.sh builds it, starts the cluster and runs it. Each result is the median of
// fixed-length trials after a warm-up (rates per second; higher is better). Progress goes to
// stderr; stdout has a table and, as its last line, one JSON object with every trial.

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

public class JavaBench {
  /** A no-op remote function. */
  public static int noop(int x) {
    return x;
  }

  /** A 1:1 actor. */
  public static class Echo {
    public int ping(int x) {
      return x;
    }
  }

  /** One unit of work: runs and returns how many operations it did. */
  private interface Step {
    int run();
  }

  private static int trials = 5;
  private static double trialSeconds = 1.0;
  private static double warmupSeconds = 0.5;
  private static java.util.Set<String> only = null;

  /** Measures one row; returns null for a row that --only leaves out. */
  private static double[] measure(String name, Step step) {
    if (only != null && !only.contains(name)) {
      return null;
    }
    long warmEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
    while (System.nanoTime() < warmEnd) {
      step.run();
    }
    double[] rates = new double[trials];
    for (int t = 0; t < trials; t++) {
      long start = System.nanoTime();
      long end = start + (long) (trialSeconds * 1e9);
      long ops = 0;
      long now;
      do {
        ops += step.run();
        now = System.nanoTime();
      } while (now < end);
      rates[t] = ops / ((now - start) / 1e9);
    }
    System.err.printf("[java bench] %-28s %12.1f /s%n", name, median(rates));
    return rates;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  public static void main(String[] args) {
    String label = "?";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--trials":
          trials = Integer.parseInt(args[++i]);
          break;
        case "--trial-seconds":
          trialSeconds = Double.parseDouble(args[++i]);
          break;
        case "--label":
          label = args[++i];
          break;
        case "--only":
          only = new java.util.HashSet<>(Arrays.asList(args[++i].split(",")));
          break;
        default:
          throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Ray.init();
    Map<String, double[]> results = new LinkedHashMap<>();
    try {
      PyFunction<Integer> pyNoop = PyFunction.of("bench_fixtures", "noop", Integer.class);
      // Start the workers (and their JVMs) before measuring.
      check(Ray.task(pyNoop, 1).remote().get() == 1);
      check(Ray.task(JavaBench::noop, 1).remote().get() == 1);
      ActorHandle<Echo> echo = Ray.actor(Echo::new).remote();
      check(echo.task(Echo::ping, 1).remote().get() == 1);
      PyActorHandle pyEcho = Ray.actor(PyActorClass.of("bench_fixtures", "Echo")).remote();
      PyActorMethod<Integer> pyPing = PyActorMethod.of("ping", Integer.class);
      check(pyEcho.task(pyPing, 1).remote().get() == 1);

      results.put(
          "small_put_get",
          measure(
              "small_put_get",
              () -> {
                check(Ray.put(7).get() == 7);
                return 1;
              }));
      results.put(
          "small_put",
          measure(
              "small_put",
              () -> {
                Ray.put(7);
                return 1;
              }));
      ObjectRef<Integer> stored = Ray.put(7);
      results.put(
          "small_get",
          measure(
              "small_get",
              () -> {
                check(stored.get() == 7);
                return 1;
              }));
      results.put(
          "python_task_sync", measure("python_task_sync", sync(x -> Ray.task(pyNoop, x).remote())));
      results.put(
          "python_tasks_1000_pipelined",
          measure("python_tasks_1000_pipelined", pipelined(x -> Ray.task(pyNoop, x).remote())));
      results.put(
          "java_task_sync",
          measure("java_task_sync", sync(x -> Ray.task(JavaBench::noop, x).remote())));
      results.put(
          "java_actor_calls_sync",
          measure("java_actor_calls_sync", sync(x -> echo.task(Echo::ping, x).remote())));
      results.put(
          "java_actor_calls_1000_pipelined",
          measure(
              "java_actor_calls_1000_pipelined",
              pipelined(x -> echo.task(Echo::ping, x).remote())));
      // The same 1:1 calls to a Python actor: what the gateway and the actor path cost without
      // the Java runner (py4j) on the actor's side.
      results.put(
          "python_actor_calls_sync",
          measure("python_actor_calls_sync", sync(x -> pyEcho.task(pyPing, x).remote())));
      results.put(
          "python_actor_calls_1000_pipelined",
          measure(
              "python_actor_calls_1000_pipelined",
              pipelined(x -> pyEcho.task(pyPing, x).remote())));
    } finally {
      Ray.shutdown();
    }
    System.out.printf("%-32s %14s%n", "benchmark (" + label + ")", "per second");
    StringBuilder json = new StringBuilder("{\"label\": \"" + label + "\", \"results\": {");
    boolean first = true;
    for (Map.Entry<String, double[]> e : results.entrySet()) {
      if (e.getValue() == null) {
        continue;
      }
      System.out.printf("%-32s %14.1f%n", e.getKey(), median(e.getValue()));
      json.append(first ? "" : ", ")
          .append('"')
          .append(e.getKey())
          .append("\": {\"median\": ")
          .append(String.format("%.1f", median(e.getValue())))
          .append(", \"trials\": ")
          .append(Arrays.toString(e.getValue()))
          .append('}');
      first = false;
    }
    System.out.println(json.append("}}"));
  }

  /** One call at a time: each result is read before the next call. */
  private static Step sync(IntFunction<ObjectRef<Integer>> call) {
    return () -> {
      check(call.apply(1).get() == 1);
      return 1;
    };
  }

  /** 1,000 calls made before any result is read, then one get for all of them. */
  private static Step pipelined(IntFunction<ObjectRef<Integer>> call) {
    return () -> {
      List<ObjectRef<Integer>> refs = new ArrayList<>(1000);
      for (int i = 0; i < 1000; i++) {
        refs.add(call.apply(i));
      }
      check(Ray.get(refs).size() == 1000);
      return 1000;
    };
  }

  private static void check(boolean ok) {
    if (!ok) {
      throw new AssertionError("a benchmark call returned a wrong value");
    }
  }
}
