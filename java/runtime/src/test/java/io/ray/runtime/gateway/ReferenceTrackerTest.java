package io.ray.runtime.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.id.JobId;
import io.ray.api.id.ObjectId;
import io.ray.runtime.id.IdMaker;
import io.ray.runtime.object.ObjectRefImpl;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Reference counting of the client: releases follow unreachability (through the JVM's Cleaner, so
 * these tests drive the garbage collector), are batched, and wait for earlier submissions.
 */
@Timeout(60)
class ReferenceTrackerTest {
  private final IdMaker ids = new IdMaker(JobId.fromInt(7));
  private final List<List<ObjectId>> released = new CopyOnWriteArrayList<>();
  private final List<ObjectId> added = new CopyOnWriteArrayList<>();
  private final AtomicLong lastSeq = new AtomicLong();
  private final AtomicLong acceptedSeq = new AtomicLong();
  private volatile boolean addSucceeds = true;

  private final ReferenceTracker tracker =
      new ReferenceTracker(
          new ReferenceTracker.Sink() {
            @Override
            public void release(List<ObjectId> objectIds) {
              released.add(new ArrayList<>(objectIds));
            }

            @Override
            public boolean add(ObjectId id) {
              added.add(id);
              return addSucceeds;
            }
          },
          lastSeq::get,
          acceptedSeq::get);

  /** Polls (with garbage collections) until the condition holds; fails with what it last saw. */
  private void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out waiting for "
                + what
                + "; pending releases "
                + tracker.pendingReleases()
                + ", live objects "
                + tracker.liveObjects());
      }
      System.gc();
      Thread.sleep(20);
    }
  }

  private static List<ObjectId> flat(List<List<ObjectId>> batches) {
    List<ObjectId> out = new ArrayList<>();
    batches.forEach(out::addAll);
    return out;
  }

  @Test
  void unreachableReferencesAreReleasedInOneBatch() throws InterruptedException {
    List<ObjectRefImpl<?>> holder = new ArrayList<>();
    List<ObjectId> objectIds = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      ObjectId id = ids.nextPutId();
      objectIds.add(id);
      holder.add(tracker.register(new ObjectRefImpl<>(id, null, 0)));
    }
    assertEquals(100, tracker.liveObjects());
    tracker.flush();
    assertTrue(released.isEmpty());
    holder.clear();
    waitFor(() -> tracker.pendingReleases() == 100, "100 pending releases");
    tracker.flush();
    assertEquals(1, released.size());
    assertEquals(new HashSet<>(objectIds), new HashSet<>(released.get(0)));
    assertEquals(0, tracker.liveObjects());
  }

  @Test
  void anObjectIsReleasedWhenItsLastLocalReferenceGoes() throws InterruptedException {
    ObjectId id = ids.nextPutId();
    List<ObjectRefImpl<?>> first =
        new ArrayList<>(List.of(tracker.register(new ObjectRefImpl<>(id, null, 0))));
    List<ObjectRefImpl<?>> second =
        new ArrayList<>(List.of(tracker.register(new ObjectRefImpl<>(id, null, 0))));
    assertEquals(2, tracker.localCount(id));
    first.clear();
    waitFor(() -> tracker.localCount(id) == 1, "one local reference left");
    tracker.flush();
    assertTrue(released.isEmpty(), "released while a reference lives: " + released);
    second.clear();
    waitFor(() -> tracker.pendingReleases() == 1, "the release");
    tracker.flush();
    assertEquals(List.of(List.of(id)), released);
  }

  @Test
  void releasesWaitUntilEarlierSubmissionsWereAccepted() throws InterruptedException {
    ObjectId id = ids.nextPutId();
    List<ObjectRefImpl<?>> holder =
        new ArrayList<>(List.of(tracker.register(new ObjectRefImpl<>(id, null, 0))));
    // A task taking the object as argument was submitted (#5) but not yet accepted.
    lastSeq.set(5);
    acceptedSeq.set(4);
    holder.clear();
    waitFor(() -> tracker.pendingReleases() == 1, "the pending release");
    tracker.flush();
    assertTrue(released.isEmpty(), "released before the task was accepted");
    acceptedSeq.set(5);
    tracker.flush();
    assertEquals(List.of(List.of(id)), released);
  }

  @Test
  void aDeserializedCopyReclaimsAPendingRelease() throws InterruptedException {
    ObjectId id = ids.nextPutId();
    List<ObjectRefImpl<?>> holder =
        new ArrayList<>(List.of(tracker.register(new ObjectRefImpl<>(id, null, 0))));
    lastSeq.set(1);
    holder.clear();
    waitFor(() -> tracker.pendingReleases() == 1, "the pending release");
    ObjectRefImpl<?> copy = new ObjectRefImpl<>(id, null, 0);
    tracker.registerDeserialized(copy);
    assertEquals(0, tracker.pendingReleases());
    acceptedSeq.set(1);
    tracker.flush();
    assertTrue(released.isEmpty());
    assertTrue(added.isEmpty(), "the session still held it: no AddReferences needed");
    assertEquals(1, tracker.localCount(copy.getId()));
  }

  @Test
  void aDeserializedReferenceOfAnotherObjectIsAddedThenReleased() throws InterruptedException {
    ObjectId id = ids.nextPutId();
    List<ObjectRefImpl<?>> holder = new ArrayList<>();
    holder.add(new ObjectRefImpl<>(id, null, 0));
    tracker.registerDeserialized(holder.get(0));
    tracker.flush();
    assertEquals(List.of(id), added);
    holder.clear();
    waitFor(() -> tracker.pendingReleases() == 1, "the release of the added reference");
    tracker.flush();
    assertEquals(List.of(List.of(id)), released);
  }

  @Test
  void aReferenceTheSessionDoesNotHoldIsNeverReleased() throws InterruptedException {
    addSucceeds = false;
    ObjectId id = ids.nextPutId();
    List<ObjectRefImpl<?>> holder = new ArrayList<>();
    holder.add(new ObjectRefImpl<>(id, null, 0));
    tracker.registerDeserialized(holder.get(0));
    tracker.flush();
    assertEquals(List.of(id), added);
    holder.clear();
    waitFor(() -> tracker.liveObjects() == 0, "the reference to go");
    tracker.flush();
    assertTrue(released.isEmpty(), "released an object the session does not hold");
  }

  @Test
  void referencesReadByGetAreCountedByTheSessionAndReleasedPerCount() throws InterruptedException {
    ObjectId id = ids.nextPutId();
    List<ObjectRefImpl<?>> holder = new ArrayList<>();
    // Two Gets of values holding the reference: the session counted it twice.
    for (int i = 0; i < 2; i++) {
      ReferenceTracker.decodingGetResult(
          () -> {
            ObjectRefImpl<?> r = new ObjectRefImpl<>(id, null, 0);
            tracker.registerDeserialized(r);
            // The same id twice in one value is counted once.
            ObjectRefImpl<?> again = new ObjectRefImpl<>(id, null, 0);
            tracker.registerDeserialized(again);
            holder.add(r);
            holder.add(again);
            return null;
          });
    }
    assertEquals(2, tracker.serverCounts(id));
    assertEquals(4, tracker.localCount(id));
    tracker.flush();
    assertTrue(added.isEmpty(), "a reference read by Get needs no AddReferences");
    holder.clear();
    waitFor(() -> tracker.pendingReleases() == 1, "the release");
    tracker.flush();
    assertEquals(List.of(List.of(id, id)), released);
  }

  @Test
  void nothingIsReleasedAfterClose() throws InterruptedException {
    ObjectId id = ids.nextPutId();
    List<ObjectRefImpl<?>> holder =
        new ArrayList<>(List.of(tracker.register(new ObjectRefImpl<>(id, null, 0))));
    tracker.close();
    holder.clear();
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(20);
    }
    tracker.flush();
    assertTrue(released.isEmpty());
    assertEquals(0, tracker.pendingReleases());
  }
}
