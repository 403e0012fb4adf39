package io.ray.runtime.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Array;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Deep comparison of decoded values (arrays compared by content, maps in order). */
final class Values {
  private Values() {}

  static void assertDeepEquals(Object expected, Object actual, String where) {
    if (expected == null) {
      assertNull(actual, where);
      return;
    }
    if (actual == null) {
      fail(where + ": expected " + describe(expected) + " but got null");
    }
    if (expected.getClass().isArray()) {
      assertEquals(expected.getClass(), actual.getClass(), where + ": array type");
      int n = Array.getLength(expected);
      assertEquals(n, Array.getLength(actual), where + ": array length");
      if (expected instanceof byte[]) {
        assertArrayEquals((byte[]) expected, (byte[]) actual, where);
        return;
      }
      for (int i = 0; i < n; i++) {
        assertDeepEquals(Array.get(expected, i), Array.get(actual, i), where + "[" + i + "]");
      }
      return;
    }
    if (expected instanceof List) {
      assertEquals(expected.getClass(), actual.getClass(), where + ": list type");
      List<?> e = (List<?>) expected;
      List<?> a = (List<?>) actual;
      assertEquals(e.size(), a.size(), where + ": list size");
      for (int i = 0; i < e.size(); i++) {
        assertDeepEquals(e.get(i), a.get(i), where + "[" + i + "]");
      }
      return;
    }
    if (expected instanceof Map) {
      assertEquals(expected.getClass(), actual.getClass(), where + ": map type");
      Map<?, ?> e = (Map<?, ?>) expected;
      Map<?, ?> a = (Map<?, ?>) actual;
      assertEquals(e.size(), a.size(), where + ": map size");
      Iterator<? extends Map.Entry<?, ?>> ei = e.entrySet().iterator();
      Iterator<? extends Map.Entry<?, ?>> ai = a.entrySet().iterator();
      int i = 0;
      while (ei.hasNext()) {
        Map.Entry<?, ?> ee = ei.next();
        Map.Entry<?, ?> ae = ai.next();
        assertDeepEquals(ee.getKey(), ae.getKey(), where + ".key" + i);
        assertDeepEquals(ee.getValue(), ae.getValue(), where + ".value" + i);
        i++;
      }
      return;
    }
    assertEquals(expected.getClass(), actual.getClass(), where + ": type");
    if (expected instanceof Double) {
      // Compare bits: -0.0 must stay -0.0.
      assertEquals(
          Double.doubleToRawLongBits((Double) expected),
          Double.doubleToRawLongBits((Double) actual),
          where + ": " + expected + " vs " + actual);
      return;
    }
    assertEquals(expected, actual, where);
  }

  private static String describe(Object o) {
    return o.getClass().getName();
  }
}
