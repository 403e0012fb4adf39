package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.exception.CrossLanguageException;
import io.ray.api.exception.RayTaskException;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Java calls Python functions and actors by name (src/test/python is on the code search path). */
class PythonCallTest extends BaseTest {
  private static final String MODULE = "java_test_fixtures";

  @Test
  void pythonFunctions() {
    ObjectRef<Integer> sum = Ray.task(PyFunction.of(MODULE, "add", Integer.class), 1, 2).remote();
    assertEquals(3, sum.get());
    ObjectRef<Integer> x = Ray.put(20);
    assertEquals(42, Ray.task(PyFunction.of(MODULE, "add", Integer.class), x, 22).remote().get());
    assertEquals(
        List.of("a", 1L, Map.of("k", 2.5)),
        Ray.task(PyFunction.of(MODULE, "echo"), List.of("a", 1, Map.of("k", 2.5))).remote().get());
  }

  @Test
  void pythonExceptionsArriveWithTypeAndTraceback() {
    ObjectRef<Object> failed = Ray.task(PyFunction.of(MODULE, "fail"), "bad input").remote();
    RayTaskException e = assertThrows(RayTaskException.class, failed::get);
    assertEquals("PYTHON", e.getLanguage());
    assertTrue(e.getRemoteExceptionType().contains("ValueError"), e.getRemoteExceptionType());
    assertTrue(e.getMessage().contains("bad input"), e.getMessage());
    assertTrue(e.getRemoteTraceback().contains("Traceback"), e.getRemoteTraceback());
  }

  @Test
  void pythonOnlyValuesAreReportedClearly() {
    ObjectRef<Object> tuple = Ray.task(PyFunction.of(MODULE, "python_only")).remote();
    Exception e = assertThrows(Exception.class, tuple::get);
    assertTrue(
        e instanceof CrossLanguageException || e.getMessage().contains("tuple"), e.toString());
  }

  @Test
  void pythonActors() {
    PyActorHandle counter =
        Ray.actor(PyActorClass.of(MODULE, "Counter"), 10).setName("py-counter").remote();
    assertEquals(11, counter.task(PyActorMethod.of("increment", Integer.class)).remote().get());
    assertEquals(12, counter.task(PyActorMethod.of("increment", Integer.class)).remote().get());
    Optional<PyActorHandle> found = Ray.getActor("py-counter");
    assertTrue(found.isPresent());
    assertEquals(12, found.get().task(PyActorMethod.of("get", Integer.class)).remote().get());
    counter.kill();
  }

  @Test
  void aSubmissionTheClusterRefusesFailsItsGetAtOnce() {
    // The gateway refuses a descriptor without a module (INVALID_ARGUMENT on the Submit stream).
    // The Get is sent before the submission is acknowledged; the refusal cancels it, so the get
    // throws the gateway's reason at once, not after the owner's wait for the ids (10 s).
    for (int i = 0; i < 3; i++) {
      long start = System.nanoTime();
      ObjectRef<Integer> refused = Ray.task(PyFunction.of("", "add", Integer.class), 1, 2).remote();
      io.ray.api.exception.RayException e =
          assertThrows(io.ray.api.exception.RayException.class, refused::get);
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      assertTrue(e.getMessage().contains("module_name"), e.getMessage());
      assertTrue(elapsedMs < 5_000, "the refused submission's get took " + elapsedMs + " ms");
      // The same failure again from a second get, and for a get with a timeout.
      assertThrows(io.ray.api.exception.RayException.class, refused::get);
      assertThrows(io.ray.api.exception.RayException.class, () -> refused.get(1000));
      // The session goes on: what was submitted after the refused one runs.
      assertEquals(3, Ray.task(PyFunction.of(MODULE, "add", Integer.class), 1, 2).remote().get());
    }
  }

  @Test
  void aWorkerThatDiesIsARayWorkerException() {
    // The task is retried (3 times by default), its worker dying each time.
    ObjectRef<Object> crashed = Ray.task(PyFunction.of(MODULE, "exit_worker")).remote();
    io.ray.api.exception.RayWorkerException e =
        assertThrows(io.ray.api.exception.RayWorkerException.class, () -> crashed.get(60_000));
    assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), e.toString());
    assertEquals(3, Ray.task(PyFunction.of(MODULE, "add", Integer.class), 1, 2).remote().get());
  }
}
