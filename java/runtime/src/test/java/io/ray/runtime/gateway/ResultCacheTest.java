package io.ray.runtime.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.id.JobId;
import io.ray.api.id.ObjectId;
import io.ray.runtime.id.IdMaker;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client's cache of return values that come back on the Submit stream (no I/O). */
@Timeout(60)
class ResultCacheTest {
  private final IdMaker ids = new IdMaker(JobId.fromInt(5));

  private ObjectId newId() {
    return IdMaker.objectId(ids.nextTaskId(), 1);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static long in(long ms) {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
  }

  /** Runs {@code action} on a new thread 50 ms from now (as the stream's reader would). */
  private static Thread later(Runnable action) {
    Thread t =
        new Thread(
            () -> {
              try {
                Thread.sleep(50);
              } catch (InterruptedException e) {
                return;
              }
              action.run();
            });
    t.start();
    return t;
  }

  @Test
  void onlyAFewValuesAreExpectedAtOnce() {
    ResultCache cache = new ResultCache(1 << 20, 1000);
    ObjectId[] expected = new ObjectId[4];
    for (int i = 0; i < 4; i++) {
      expected[i] = newId();
      assertTrue(cache.expect(expected[i], 4));
    }
    assertFalse(cache.expect(newId(), 4), "a fifth value on its way is not asked for");
    assertEquals(4, cache.pending());
    // A value that arrived no longer counts as on its way.
    cache.deliver(expected[0], bytes("a"), false);
    assertEquals(3, cache.pending());
    assertTrue(cache.expect(newId(), 4));
  }

  @Test
  void aGetWaitsForValuesDeliveredByTheStreamAndTakesThemOnce() throws Exception {
    ResultCache cache = new ResultCache(1 << 20, 1000);
    ObjectId a = newId();
    ObjectId b = newId();
    cache.expect(a, 4);
    cache.expect(b, 4);
    Thread reader =
        later(
            () -> {
              cache.deliver(b, bytes("bee"), false);
              cache.deliver(a, bytes("ay"), false);
            });
    byte[][] frames = new byte[2][];
    assertEquals(ResultCache.Outcome.TAKEN, cache.take(List.of(a, b), in(10_000), frames));
    reader.join();
    assertArrayEquals(bytes("ay"), frames[0]);
    assertArrayEquals(bytes("bee"), frames[1]);
    assertEquals(0, cache.size());
    assertEquals(
        ResultCache.Outcome.ASK_GATEWAY,
        cache.take(List.of(a), in(10_000), new byte[1][]),
        "a value is taken once; a second get asks the owner");
  }

  @Test
  void valuesNotExpectedOrMarkedFetchAreReadWithGet() throws Exception {
    ResultCache cache = new ResultCache(1 << 20, 1000);
    ObjectId ready = newId();
    ObjectId fetch = newId();
    cache.expect(ready, 4);
    cache.expect(fetch, 4);
    cache.deliver(ready, bytes("x"), false);
    cache.deliver(fetch, null, true);
    assertEquals(
        ResultCache.Outcome.ASK_GATEWAY,
        cache.take(List.of(ready, fetch), in(10_000), new byte[2][]));
    assertEquals(
        ResultCache.Outcome.ASK_GATEWAY, cache.take(List.of(newId()), in(10_000), new byte[1][]));
    // Asking the owner leaves the ready value where it was, until forgotten.
    assertEquals(2, cache.size());
    cache.forget(List.of(ready, fetch));
    assertEquals(0, cache.size());
    assertEquals(0, cache.pending());
  }

  @Test
  void aLostStreamSendsWaitingGetsToTheOwner() throws Exception {
    ResultCache cache = new ResultCache(1 << 20, 1000);
    ObjectId id = newId();
    cache.expect(id, 4);
    Thread lose = later(cache::streamLost);
    long start = System.nanoTime();
    assertEquals(
        ResultCache.Outcome.ASK_GATEWAY, cache.take(List.of(id), in(30_000), new byte[1][]));
    lose.join();
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "woke at the loss");
    assertEquals(0, cache.pending());
  }

  @Test
  void aValueStillOnItsWayTimesOut() throws Exception {
    ResultCache cache = new ResultCache(1 << 20, 1000);
    ObjectId id = newId();
    cache.expect(id, 4);
    assertEquals(ResultCache.Outcome.TIMED_OUT, cache.take(List.of(id), in(30), new byte[1][]));
    // It can still arrive and be taken later.
    cache.deliver(id, bytes("late"), false);
    byte[][] frames = new byte[1][];
    assertEquals(ResultCache.Outcome.TAKEN, cache.take(List.of(id), in(10), frames));
    assertArrayEquals(bytes("late"), frames[0]);
  }

  @Test
  void valuesNobodyTakesAreDroppedOldestFirstBeyondTheLimits() throws Exception {
    ResultCache cache = new ResultCache(10, 3);
    ObjectId first = newId();
    ObjectId second = newId();
    cache.expect(first, 100);
    cache.expect(second, 100);
    cache.deliver(first, new byte[6], false);
    cache.deliver(second, new byte[6], false);
    assertEquals(1, cache.size(), "12 bytes > 10: the oldest went");
    assertEquals(
        ResultCache.Outcome.ASK_GATEWAY, cache.take(List.of(first), in(10), new byte[1][]));
    assertEquals(ResultCache.Outcome.TAKEN, cache.take(List.of(second), in(10), new byte[1][]));
    for (int i = 0; i < 5; i++) {
      cache.expect(newId(), 100);
    }
    assertEquals(3, cache.size(), "at most 3 entries");
    assertEquals(3, cache.pending());
  }
}
