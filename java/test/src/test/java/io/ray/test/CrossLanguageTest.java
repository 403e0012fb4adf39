package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.exception.RayTaskException;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Values across languages: Java objects read by Python tasks, Python objects read by Java, and
 * references handed from one language's tasks to the other's as arguments.
 */
class CrossLanguageTest extends BaseTest {
  private static final String MODULE = "java_test_fixtures";

  public static int sumList(List<Integer> values) {
    return values.stream().mapToInt(Integer::intValue).sum();
  }

  @Test
  @SuppressWarnings("unchecked")
  void aJavaObjectIsReadByAPythonTask() {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("name", "java");
    value.put("count", 3);
    value.put("ratio", 0.5);
    value.put("flag", true);
    value.put("words", List.of("a", "b"));
    value.put("blob", new byte[] {7, 8});
    value.put("longs", new long[] {1, 2, 3});
    ObjectRef<Map<String, Object>> ref = Ray.put(value);
    Map<String, String> seen =
        Ray.task(PyFunction.of(MODULE, "describe", Map.class), ref).remote().get();
    assertEquals("str 'java'", seen.get("name"));
    assertEquals("int 3", seen.get("count"));
    assertEquals("float 0.5", seen.get("ratio"));
    assertEquals("bool True", seen.get("flag"));
    assertEquals("list str 'a',str 'b'", seen.get("words"));
    assertEquals("bytes b'\\x07\\x08'", seen.get("blob"));
    assertEquals("ndarray int64 [3] sum=6", seen.get("longs"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void aPythonObjectIsReadByJava() {
    Map<String, Object> value =
        Ray.task(PyFunction.of(MODULE, "python_object", Map.class)).remote().get();
    assertEquals("python", value.get("name"));
    assertEquals(List.of(1L, 2L, 3L), value.get("ints"));
    assertEquals(0.25, value.get("ratio"));
    assertEquals(true, value.get("flag"));
    assertTrue(value.containsKey("nothing"));
    assertNull(value.get("nothing"));
    assertArrayEquals(new byte[] {0, 1, 2}, (byte[]) value.get("blob"));
    assertEquals(Map.of("a", List.of(1.5, "x")), value.get("nested"));
    assertArrayEquals(new long[] {0, 1, 2, 3}, (long[]) value.get("array"));
  }

  @Test
  void javaReferencesAsArgumentsAreReadByPython() {
    ObjectRef<Integer> a = Ray.put(5);
    ObjectRef<Integer> b = Ray.task(JavaTaskTest::addOne, 6).remote();
    assertEquals(12, Ray.task(PyFunction.of(MODULE, "add", Integer.class), a, b).remote().get());
  }

  @Test
  void referencesInsideValuesStayInTheirLanguageAndSaySo() {
    // XLANG has no reference type (DESIGN.md section 5): a value holding references is in its
    // writer's own format, and the other language's reader says why it cannot read it.
    Exception fromPython =
        assertThrows(
            Exception.class,
            () ->
                Ray.task(PyFunction.of(MODULE, "put_and_return_ref", List.class), "x")
                    .remote()
                    .get());
    assertTrue(fromPython.getMessage().contains("no cross-language form"), fromPython.toString());
    ObjectRef<Integer> a = Ray.put(5);
    RayTaskException toPython =
        assertThrows(
            RayTaskException.class,
            () ->
                Ray.task(PyFunction.of(MODULE, "get_inner", List.class), List.of(a))
                    .remote()
                    .get());
    assertTrue(toPython.getMessage().contains("Java value"), toPython.getMessage());
  }

  @Test
  void resultsFlowBetweenPythonAndJavaTasks() {
    ObjectRef<Integer> fromPython =
        Ray.task(PyFunction.of(MODULE, "times_two", Integer.class), 21).remote();
    ObjectRef<Integer> inJava = Ray.task(JavaTaskTest::addOne, fromPython).remote();
    ObjectRef<Integer> backInPython =
        Ray.task(PyFunction.of(MODULE, "times_two", Integer.class), inJava).remote();
    assertEquals(86, backInPython.get());
    ObjectRef<List<Integer>> list = Ray.task(JavaTaskTest::range, 5).remote();
    assertEquals(10, Ray.task(CrossLanguageTest::sumList, list).remote().get());
    assertEquals(
        List.of(0L, 1L, 2L, 3L, 4L, 0L, 1L, 2L, 3L, 4L),
        Ray.task(PyFunction.of(MODULE, "times_two", List.class), list).remote().get());
  }

  @Test
  void pythonCallsJavaTasks() {
    // A Python task submits Java tasks (a JAVA function descriptor) and reads their results.
    String task = JavaTaskTest.class.getName();
    assertEquals(
        "int 8",
        Ray.task(PyFunction.of(MODULE, "call_java", String.class), task, "addOne", 7)
            .remote()
            .get());
    assertEquals(
        "list int 0,int 1,int 2",
        Ray.task(PyFunction.of(MODULE, "call_java", String.class), task, "range", 3)
            .remote()
            .get());
    // A Java exception reaches the Python caller with its Java type and message.
    String seen =
        Ray.task(
                PyFunction.of(MODULE, "call_java_failing", String.class),
                task,
                "fail",
                "thrown for python")
            .remote()
            .get();
    assertTrue(seen.contains("IllegalStateException"), seen);
    assertTrue(seen.contains("thrown for python"), seen);
  }

  @Test
  void aPythonActorKeepsJavaValues() {
    PyActorHandle counter = Ray.actor(PyActorClass.of(MODULE, "Counter"), 40).remote();
    assertEquals(41, counter.task(PyActorMethod.of("increment", Integer.class)).remote().get());
    ObjectRef<Integer> fromJava = Ray.task(JavaTaskTest::addOne, 1).remote();
    ObjectRef<Integer> sum =
        Ray.task(PyFunction.of(MODULE, "add", Integer.class), fromJava, 40).remote();
    assertEquals(42, sum.get());
    counter.kill();
  }
}
