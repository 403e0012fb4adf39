package io.ray.test;

import com.google.common.collect.ImmutableList;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.exception.RayTimeoutException;
import java.util.ArrayList;
import java.util.List;
import org.junit.Assert;
import org.junit.jupiter.api.Test;

/**
 * Every Java snippet of the seed document ("Objects": put, get, get with a timeout, get of many,
 * and the RayTimeoutException of a slow task), verbatim, against a cluster started with `ray start`
 * and joined by address. {@code Assert} is JUnit 4's and {@code ImmutableList} Guava's, as in
 * upstream's Java docs.
 */
class SeedSnippetsTest extends BaseTest {

  @Test
  void putAnObject() {
    // Put an object in Ray's object store.
    int y = 1;
    ObjectRef<Integer> objectRef = Ray.put(y);
    Assert.assertEquals(Integer.valueOf(1), objectRef.get());
  }

  @Test
  void getTheValueOfOneObjectRef() {
    // Get the value of one object ref.
    ObjectRef<Integer> objRef = Ray.put(1);
    Assert.assertTrue(objRef.get() == 1);
    // You can also set a timeout(ms) to return early from a ``get`` that's blocking for too long.
    Assert.assertTrue(objRef.get(1000) == 1);
  }

  @Test
  void getTheValuesOfMultipleObjectRefsInParallel() {
    // Get the values of multiple object refs in parallel.
    List<ObjectRef<Integer>> objectRefs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      objectRefs.add(Ray.put(i));
    }
    List<Integer> results = Ray.get(objectRefs);
    Assert.assertEquals(results, ImmutableList.of(0, 1, 2));
  }

  @Test
  void getThrowsRayTimeoutExceptionOnTimeout() {
    long start = System.nanoTime();
    // Ray.get timeout example: Ray.get will throw an RayTimeoutException if time out.
    Assert.assertThrows(
        RayTimeoutException.class, () -> Ray.get(Ray.task(MyRayApp::slowFunction).remote(), 3000));
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    // It waited for the timeout, and no longer than the task would have taken.
    Assert.assertTrue("waited " + elapsedMs + " ms", elapsedMs >= 2900 && elapsedMs < 9000);
  }
}
