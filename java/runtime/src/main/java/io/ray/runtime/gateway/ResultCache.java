package io.ray.runtime.gateway;

import io.ray.api.id.ObjectId;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Return values that the session owner sends back on the Submit stream ({@code
 * SubmitReply.results}), without any I/O.
 *
 * <p>A submission asks for its value on the stream while few are on their way ({@link #expect}):
 * a round trip then needs no Get rpc, while a burst of submissions is read with one Get as before.
 * The stream's reader delivers each value as it becomes ready, or a "fetch" mark for one the client
 * must read with Get ({@link #deliver}). A get takes the values from here when every id it asks for
 * is expected ({@link #take}). A value is taken once (a later get of the same reference asks the
 * owner); values nobody takes are dropped oldest first beyond a size limit (the owner still has
 * them).
 */
public final class ResultCache {
  /** What {@link #take} found. */
  public enum Outcome {
    /** Every value was here: the frames are filled in, in the order of the ids. */
    TAKEN,
    /** Some value is not (or no longer) expected here: read them with Get. */
    ASK_GATEWAY,
    /** Some value was still on its way at the deadline. */
    TIMED_OUT
  }

  private enum State {
    PENDING,
    READY,
    FETCH
  }

  private static final class Entry {
    State state = State.PENDING;
    byte[] frame;
  }

  private final long maxBytes;
  private final int maxEntries;
  private final Map<ObjectId, Entry> entries = new HashMap<>();
  // Ids in the order they were expected (some may be gone from entries already).
  private final ArrayDeque<ObjectId> order = new ArrayDeque<>();
  private long bytes = 0;
  private int pending = 0;

  /**
   * Creates a cache.
   *
   * @param maxBytes Most bytes of frames kept that nobody took yet.
   * @param maxEntries Most values kept or expected.
   */
  public ResultCache(long maxBytes, int maxEntries) {
    this.maxBytes = maxBytes;
    this.maxEntries = maxEntries;
  }

  /**
   * Expects the value of {@code id} on the Submit stream, if fewer than {@code maxPending} values
   * are on their way now.
   *
   * @param id A return id of an item about to be queued.
   * @param maxPending The most values on their way at once.
   * @return Whether it does (the item then asks for its results).
   */
  public synchronized boolean expect(ObjectId id, int maxPending) {
    if (pending >= maxPending) {
      return false;
    }
    Entry existing = entries.get(id);
    if (existing != null) {
      return existing.state == State.PENDING;
    }
    entries.put(id, new Entry());
    pending++;
    order.addLast(id);
    evict();
    return true;
  }

  /**
   * The stream brought a value, or said to read it with Get.
   *
   * @param id The object.
   * @param frame Its frame (ignored with {@code fetch}).
   * @param fetch Whether the value must be read with Get.
   */
  public synchronized void deliver(ObjectId id, byte[] frame, boolean fetch) {
    Entry e = entries.get(id);
    if (e == null || e.state == State.READY) {
      return;
    }
    if (e.state == State.PENDING) {
      pending--;
    }
    if (fetch) {
      e.state = State.FETCH;
    } else {
      e.state = State.READY;
      e.frame = frame;
      bytes += frame.length;
    }
    evict();
    notifyAll();
  }

  /** The stream ended: values still expected will not come on it (get reads them instead). */
  public synchronized void streamLost() {
    for (Entry e : entries.values()) {
      if (e.state == State.PENDING) {
        e.state = State.FETCH;
      }
    }
    pending = 0;
    notifyAll();
  }

  /**
   * Forgets ids (their values were read from the owner).
   *
   * @param ids The objects.
   */
  public synchronized void forget(Collection<ObjectId> ids) {
    for (ObjectId id : ids) {
      erase(id);
    }
  }

  /**
   * Waits until every id's value arrived, then takes them. Returns at once with {@link
   * Outcome#ASK_GATEWAY} when an id is not expected here or was marked fetch.
   *
   * @param ids The objects, distinct.
   * @param deadlineNanos The latest {@link System#nanoTime} to wait until.
   * @param frames Filled with the frames, in the order of {@code ids}, when they were taken.
   * @return What was found.
   * @throws InterruptedException If the wait was interrupted.
   */
  public synchronized Outcome take(List<ObjectId> ids, long deadlineNanos, byte[][] frames)
      throws InterruptedException {
    // Values mostly arrive in order: each wake-up checks from the first one still missing.
    int next = 0;
    while (true) {
      for (; next < ids.size(); next++) {
        Entry e = entries.get(ids.get(next));
        if (e == null || e.state == State.FETCH) {
          return Outcome.ASK_GATEWAY;
        }
        if (e.state == State.PENDING) {
          break;
        }
      }
      if (next == ids.size()) {
        break;
      }
      long leftNanos = deadlineNanos - System.nanoTime();
      if (leftNanos <= 0) {
        return Outcome.TIMED_OUT;
      }
      long ms = leftNanos / 1_000_000;
      wait(ms, (int) (leftNanos % 1_000_000));
    }
    for (int i = 0; i < ids.size(); i++) {
      Entry e = entries.get(ids.get(i));
      if (e == null) {
        return Outcome.ASK_GATEWAY; // dropped while we waited
      }
      frames[i] = e.frame;
    }
    for (ObjectId id : ids) {
      erase(id);
    }
    return Outcome.TAKEN;
  }

  /**
   * Returns how many values are kept or expected.
   *
   * @return The count.
   */
  public synchronized int size() {
    return entries.size();
  }

  /**
   * Returns how many values are on their way.
   *
   * @return The count.
   */
  public synchronized int pending() {
    return pending;
  }

  private void erase(ObjectId id) {
    Entry e = entries.remove(id);
    if (e == null) {
      return;
    }
    if (e.state == State.PENDING) {
      pending--;
    }
    if (e.frame != null) {
      bytes -= e.frame.length;
    }
  }

  private void evict() {
    // Oldest first; ids whose entry is gone (taken) are skipped. A get of an evicted id (even one
    // still on its way) asks the owner.
    boolean evicted = false;
    while (!order.isEmpty() && (bytes > maxBytes || entries.size() > maxEntries)) {
      ObjectId oldest = order.pollFirst();
      if (entries.containsKey(oldest)) {
        erase(oldest);
        evicted = true;
      }
    }
    if (evicted) {
      notifyAll(); // a waiter's id may be gone
    }
    // Taken entries leave their ids behind in order: keep that list from growing without end.
    if (order.size() > 2 * entries.size() + 1024) {
      order.removeIf(id -> !entries.containsKey(id));
    }
  }
}
