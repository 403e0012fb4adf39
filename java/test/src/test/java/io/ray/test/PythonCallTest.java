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
}
