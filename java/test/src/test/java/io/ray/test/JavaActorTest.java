package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.exception.RayActorException;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTaskException;
import io.ray.api.exception.UnreconstructableException;
import io.ray.api.function.PyFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Java actors on the cluster: the instance lives in the JVM of its worker; calls from one caller
 * run in order with the state kept; a dead JVM restarts the actor under {@code setMaxRestarts}.
 */
class JavaActorTest extends BaseTest {

  /** An actor. */
  public static class Counter {
    private int value;
    private final List<Integer> seen = new ArrayList<>();

    public Counter(int start) {
      value = start;
    }

    public Counter() {
      this(0);
    }

    public int increment() {
      return ++value;
    }

    public int add(int n) {
      value += n;
      return value;
    }

    public int append(int i) {
      seen.add(i);
      return seen.size();
    }

    public List<Integer> seen() {
      return seen;
    }

    public long pid() {
      return ProcessHandle.current().pid();
    }

    public long workerPid() {
      return ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
    }

    public int failWith(String message) {
      throw new IllegalArgumentException(message);
    }

    /** Ends the actor's JVM as a crash would. */
    public int die() {
      Runtime.getRuntime().halt(3);
      return 0;
    }

    /** Puts a value from inside the actor: the actor's worker owns it. */
    public ObjectRef<String> putInside(String v) {
      return Ray.put(v);
    }

    /** Uses the Ray API from inside an actor method. */
    public int addNested(int x) {
      int one = Ray.task(JavaTaskTest::addOne, x).remote().get();
      int two =
          Ray.task(PyFunction.of("java_test_fixtures", "times_two", Integer.class), one)
              .remote()
              .get();
      value += two;
      return value;
    }
  }

  /** An actor made by a static factory, taking a reference's value. */
  public static class Greeter {
    private final String greeting;

    private Greeter(String greeting) {
      this.greeting = greeting;
    }

    public static Greeter create(String greeting) {
      return new Greeter(greeting);
    }

    public String greet(String name) {
      return greeting + ", " + name;
    }
  }

  @Test
  void namedActorKeepsItsState() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new, 10).setName("java-counter").remote();
    assertEquals(11, counter.task(Counter::increment).remote().get());
    assertEquals(16, counter.task(Counter::add, 5).remote().get());
    Optional<ActorHandle<Counter>> found = Ray.getActor("java-counter");
    assertTrue(found.isPresent());
    assertEquals(17, found.get().task(Counter::increment).remote().get());
    counter.kill();
  }

  @Test
  void callsFromOneCallerRunInOrder() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new).remote();
    List<ObjectRef<Integer>> sizes = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      sizes.add(counter.task(Counter::append, i).remote());
    }
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      expected.add(i);
    }
    assertEquals(expected, counter.task(Counter::seen).remote().get());
    List<Integer> got = Ray.get(sizes);
    for (int i = 0; i < 300; i++) {
      assertEquals(i + 1, got.get(i));
    }
  }

  @Test
  void factoriesAndReferenceArguments() {
    ObjectRef<String> greeting = Ray.put("Hello");
    ActorHandle<Greeter> greeter = Ray.actor(Greeter::create, greeting).remote();
    assertEquals("Hello, Java", greeter.task(Greeter::greet, "Java").remote().get());
    ObjectRef<String> name = Ray.put("cluster");
    assertEquals("Hello, cluster", greeter.task(Greeter::greet, name).remote().get());
  }

  @Test
  void anExceptionInAMethodLeavesTheActorAlive() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new, 1).remote();
    RayTaskException e =
        assertThrows(
            RayTaskException.class,
            () -> counter.task(Counter::failWith, "bad call").remote().get());
    assertEquals("JAVA", e.getLanguage());
    assertEquals("java.lang.IllegalArgumentException", e.getRemoteExceptionType());
    assertTrue(e.getMessage().contains("bad call"), e.getMessage());
    assertTrue(e.getRemoteTraceback().contains("Counter.failWith"), e.getRemoteTraceback());
    assertEquals(2, counter.task(Counter::increment).remote().get());
  }

  @Test
  void actorMethodsUseTheRayApi() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new, 100).remote();
    // addOne(4) = 5, times_two(5) = 10.
    assertEquals(110, counter.task(Counter::addNested, 4).remote().get());
    assertEquals(111, counter.task(Counter::increment).remote().get());
  }

  @Test
  void aDeadJvmRestartsTheActorUnderMaxRestarts() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new, 0).setMaxRestarts(1).remote();
    assertEquals(1, counter.task(Counter::increment).remote().get());
    long firstJvm = counter.task(Counter::pid).remote().get();
    long firstWorker = counter.task(Counter::workerPid).remote().get();
    assertThrows(RayException.class, () -> counter.task(Counter::die).remote().get(60_000));
    // The restarted actor runs in a new worker and JVM, with the state its constructor makes.
    int afterRestart = callUntilAlive(counter);
    assertEquals(1, afterRestart);
    assertNotEquals(firstJvm, (long) counter.task(Counter::pid).remote().get());
    assertNotEquals(firstWorker, (long) counter.task(Counter::workerPid).remote().get());
    assertTrue(TestCluster.waitGone(firstWorker, 20_000), "the first worker is still alive");
    assertTrue(TestCluster.waitGone(firstJvm, 20_000), "the first JVM is still alive");
    // No restart left: the actor dies for good.
    assertThrows(RayException.class, () -> counter.task(Counter::die).remote().get(60_000));
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try {
        counter.task(Counter::increment).remote().get(30_000);
      } catch (RayActorException e) {
        break;
      }
      if (System.nanoTime() > deadline) {
        fail("the actor still answers after its restarts ran out");
      }
      TestCluster.sleep(200);
    }
  }

  private static int callUntilAlive(ActorHandle<Counter> counter) {
    long deadline = System.nanoTime() + 60_000_000_000L;
    RayException last = null;
    while (System.nanoTime() < deadline) {
      try {
        return counter.task(Counter::increment).remote().get(30_000);
      } catch (RayActorException e) {
        last = e;
        TestCluster.sleep(200);
      }
    }
    throw new AssertionError("the actor was not restarted in 60 s", last);
  }

  @Test
  void aKilledActorIsGoneWithItsProcesses() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new, 0).setMaxRestarts(2).remote();
    long jvm = counter.task(Counter::pid).remote().get();
    long worker = counter.task(Counter::workerPid).remote().get();
    counter.kill();
    assertThrows(
        RayActorException.class, () -> counter.task(Counter::increment).remote().get(30_000));
    assertTrue(TestCluster.waitGone(worker, 20_000), "the actor's worker is still alive");
    assertTrue(TestCluster.waitGone(jvm, 20_000), "the actor's JVM is still alive");
  }

  @Test
  void anObjectWhoseOwnerDiedIsUnreconstructable() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new, 0).remote();
    ObjectRef<String> inner = counter.task(Counter::putInside, "owned by the actor").remote().get();
    long worker = counter.task(Counter::workerPid).remote().get();
    counter.kill();
    assertTrue(TestCluster.waitGone(worker, 20_000), "the actor's worker is still alive");
    UnreconstructableException e =
        assertThrows(UnreconstructableException.class, () -> inner.get(30_000));
    assertTrue(
        e.objectId != null && inner.toString().contains(e.objectId.toString()), e + " / " + inner);
  }
}
