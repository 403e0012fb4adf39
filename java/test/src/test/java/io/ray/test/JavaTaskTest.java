package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.exception.RayTaskException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Java tasks and actors: they run in the JVM runner of a Python worker (DESIGN.md section 8); this
 * module's test classes are on the code search path.
 */
class JavaTaskTest extends BaseTest {

  public static int addOne(int x) {
    return x + 1;
  }

  public static List<Integer> range(int n) {
    List<Integer> out = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(i);
    }
    return out;
  }

  public static int slowFunction() throws InterruptedException {
    Thread.sleep(10_000);
    return 1;
  }

  public static int fail(String message) {
    throw new IllegalStateException(message);
  }

  /** An actor. */
  public static class Counter {
    private int value;

    public Counter(int start) {
      value = start;
    }

    public int increment() {
      return ++value;
    }

    public int add(int n) {
      value += n;
      return value;
    }
  }

  @Test
  void tasksWithValuesAndReferences() {
    assertEquals(2, Ray.task(JavaTaskTest::addOne, 1).remote().get());
    ObjectRef<Integer> x = Ray.put(41);
    assertEquals(42, Ray.task(JavaTaskTest::addOne, x).remote().get());
    ObjectRef<Integer> chained =
        Ray.task(JavaTaskTest::addOne, Ray.task(JavaTaskTest::addOne, 0).remote()).remote();
    assertEquals(2, chained.get());
    assertEquals(List.of(0, 1, 2), Ray.task(JavaTaskTest::range, 3).remote().get());
  }

  @Test
  void javaExceptionsArriveAsRayTaskExceptions() {
    RayTaskException e =
        assertThrows(
            RayTaskException.class, () -> Ray.task(JavaTaskTest::fail, "boom").remote().get());
    assertEquals("JAVA", e.getLanguage());
    assertEquals("java.lang.IllegalStateException", e.getRemoteExceptionType());
    assertTrue(e.getMessage().contains("boom"));
  }

  @Test
  void getTimesOutOnASlowTask() {
    assertThrows(
        io.ray.api.exception.RayTimeoutException.class,
        () -> Ray.get(Ray.task(JavaTaskTest::slowFunction).remote(), 3000));
  }

  @Test
  void actors() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new, 10).setName("java-counter").remote();
    assertEquals(11, counter.task(Counter::increment).remote().get());
    assertEquals(16, counter.task(Counter::add, 5).remote().get());
    Optional<ActorHandle<Counter>> found = Ray.getActor("java-counter");
    assertTrue(found.isPresent());
    assertEquals(17, found.get().task(Counter::increment).remote().get());
    counter.kill();
  }
}
