package io.ray.runtime.object;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The type a put value is read back as. */
class ValueTypesTest {

  @Test
  void homogeneousContainersGetParameterizedTypes() {
    assertEquals(Integer.class, ValueTypes.shapeOf(1));
    assertEquals(
        new ValueTypes.SimpleParameterizedType(List.class, Integer.class),
        ValueTypes.shapeOf(Arrays.asList(1, null, 3)));
    Map<String, List<Long>> m = new LinkedHashMap<>();
    m.put("a", List.of(1L));
    assertEquals(
        new ValueTypes.SimpleParameterizedType(
            Map.class,
            String.class,
            new ValueTypes.SimpleParameterizedType(List.class, Long.class)),
        ValueTypes.shapeOf(m));
    assertEquals(String[].class, ValueTypes.shapeOf(new String[] {"x"}));
  }

  @Test
  void referencesKeepTheirTypeThroughJavaSerialization() throws Exception {
    java.lang.reflect.Type listOfInts =
        getClass().getDeclaredMethod("listOfInts").getGenericReturnType();
    ObjectRefImpl<List<Integer>> ref =
        new ObjectRefImpl<>(io.ray.api.id.ObjectId.fromRandom(), listOfInts, 7);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(ref);
    }
    ObjectRefImpl<?> back;
    try (java.io.ObjectInputStream in =
        new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      back = (ObjectRefImpl<?>) in.readObject();
    }
    assertEquals(ref, back);
    assertEquals(new ValueTypes.SimpleParameterizedType(List.class, Integer.class), back.getType());
    assertEquals(0, back.getSubmitSeq());
  }

  @SuppressWarnings("unused")
  private static List<Integer> listOfInts() {
    return null;
  }

  @Test
  void mixedContainersAreReadNaturally() {
    assertEquals(List.class, ValueTypes.shapeOf(Arrays.asList(1, "x")));
    assertEquals(List.class, ValueTypes.shapeOf(List.of()));
    assertEquals(Object.class, ValueTypes.shapeOf(null));
  }
}
