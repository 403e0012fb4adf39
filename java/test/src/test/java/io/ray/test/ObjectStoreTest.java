package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.WaitResult;
import io.ray.api.exception.RayTimeoutException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Put, get and wait against a cluster (the seed document's examples). */
class ObjectStoreTest extends BaseTest {

  /** A Java-only value. */
  static final class Point implements Serializable {
    private static final long serialVersionUID = 1L;
    final int x;
    final int y;

    Point(int x, int y) {
      this.x = x;
      this.y = y;
    }
  }

  @Test
  void putAndGet() {
    // Put an object in Ray's object store.
    int y = 1;
    ObjectRef<Integer> objectRef = Ray.put(y);
    assertTrue(objectRef.get() == 1);
    assertTrue(objectRef.get(1000) == 1);
    assertEquals("hello", Ray.put("hello").get());
    assertArrayEquals(new byte[0], Ray.put(new byte[0]).get());
    assertArrayEquals(new int[] {1, 2, 3}, Ray.put(new int[] {1, 2, 3}).get());
    Map<String, List<Integer>> map = new LinkedHashMap<>();
    map.put("a", Arrays.asList(1, 2));
    assertEquals(map, Ray.put(map).get());
    Point p = Ray.put(new Point(3, 4)).get();
    assertEquals(4, p.y);
  }

  @Test
  @SuppressWarnings("unchecked")
  void referencesInsideValuesStayUsable() {
    ObjectRef<Integer> inner = Ray.put(5);
    List<Object> holder = new ArrayList<>(Arrays.asList(inner, new Point(1, 2)));
    ObjectRef<List<Object>> outer = Ray.put(holder);
    inner = null;
    holder = null;
    System.gc();
    List<Object> back = outer.get();
    ObjectRef<Integer> again = (ObjectRef<Integer>) back.get(0);
    assertEquals(5, again.get());
    assertEquals(5, ((ObjectRef<Integer>) outer.get().get(0)).get());
  }

  @Test
  void getManyInOneCall() {
    List<ObjectRef<Integer>> objectRefs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      objectRefs.add(Ray.put(i));
    }
    List<Integer> results = Ray.get(objectRefs);
    assertEquals(Arrays.asList(0, 1, 2), results);
    assertEquals(Arrays.asList(0, 1, 2), Ray.get(objectRefs, 5000));
  }

  @Test
  void largeValuesArePutInChunks() {
    byte[] big = new byte[5 * 1024 * 1024 + 7];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31);
    }
    assertArrayEquals(big, Ray.put(big).get());
  }

  @Test
  void waitForReadyObjects() {
    List<ObjectRef<Integer>> refs = List.of(Ray.put(1), Ray.put(2), Ray.put(3));
    WaitResult<Integer> all = Ray.wait(refs);
    assertEquals(3, all.getReady().size());
    WaitResult<Integer> two = Ray.wait(refs, 2, 5000);
    assertEquals(2, two.getReady().size());
    assertEquals(1, two.getUnready().size());
  }

  @Test
  void getTimesOut() {
    ObjectRef<Integer> slow =
        Ray.task(io.ray.api.function.PyFunction.of("time", "sleep", Integer.class), 30).remote();
    assertThrows(RayTimeoutException.class, () -> Ray.get(slow, 500));
  }
}
