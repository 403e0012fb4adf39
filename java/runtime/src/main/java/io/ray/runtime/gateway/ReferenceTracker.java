package io.ray.runtime.gateway;

import io.ray.api.exception.RayException;
import io.ray.api.id.ObjectId;
import io.ray.runtime.object.ObjectRefImpl;
import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Counts the {@link ObjectRefImpl} instances of each object in this JVM and tells the session owner
 * when the last one became unreachable ({@code ReleaseReferences}, batched), so the cluster frees
 * the object as it would for any driver.
 *
 * <p>The session holds one count per put and per task return from the start; further local
 * instances only change the local count. A reference read from a value (a new holder) is added with
 * {@code AddReferences}. A release waits until every submission made before it was accepted by the
 * owner, so a task that takes the object as an argument is known to the owner (and keeps the object
 * alive) before the client's count goes.
 */
public final class ReferenceTracker {
  private static final Logger LOG = Logger.getLogger(ReferenceTracker.class.getName());

  /** One cleaner (one daemon thread) for every tracker of this JVM. */
  private static final Cleaner CLEANER =
      Cleaner.create(
          r -> {
            Thread t = new Thread(r, "ray-reference-cleaner");
            t.setDaemon(true);
            return t;
          });

  /** Most ids in one ReleaseReferences call. */
  static final int MAX_BATCH = 10_000;

  /** Where the counts go: the gateway's AddReferences and ReleaseReferences. */
  public interface Sink {
    /**
     * Drops one count of each object.
     *
     * @param ids The objects.
     */
    void release(List<ObjectId> ids);

    /**
     * Adds one count of an object.
     *
     * @param id The object.
     * @return True if the session held the object (so it now holds one more count), false if not
     *     (NOT_FOUND: the reference came from someone else and is not counted by this session).
     */
    boolean add(ObjectId id);
  }

  /** The references of one object in this JVM. */
  private static final class Entry {
    /** Live local instances. */
    int count;

    /** Counts the session holds for this client. */
    int serverCounts;

    Entry(int serverCounts) {
      this.serverCounts = serverCounts;
    }
  }

  private static final class PendingRelease {
    final ObjectId id;
    final int counts;
    final long gateSeq;

    PendingRelease(ObjectId id, int counts, long gateSeq) {
      this.id = id;
      this.counts = counts;
      this.gateSeq = gateSeq;
    }
  }

  /** The ids already counted in the value being decoded from a Get reply on this thread. */
  private static final ThreadLocal<java.util.Set<ObjectId>> GET_DECODE = new ThreadLocal<>();

  /**
   * Decodes one value of a {@code Get} reply: the references deserialized meanwhile on this thread
   * are ones the session counted for the client (one count per distinct id).
   *
   * @param decode Decodes the value.
   * @param <T> The value's type.
   * @return The value.
   */
  public static <T> T decodingGetResult(java.util.function.Supplier<T> decode) {
    java.util.Set<ObjectId> previous = GET_DECODE.get();
    GET_DECODE.set(new java.util.HashSet<>());
    try {
      return decode.get();
    } finally {
      if (previous == null) {
        GET_DECODE.remove();
      } else {
        GET_DECODE.set(previous);
      }
    }
  }

  private final Sink sink;
  private final LongSupplier lastSubmittedSeq;
  private final LongSupplier acceptedSeq;
  private final Object lock = new Object();
  private final Map<ObjectId, Entry> live = new HashMap<>();
  private final ArrayDeque<PendingRelease> pendingReleases = new ArrayDeque<>();
  private final LinkedHashSet<ObjectId> pendingAdds = new LinkedHashSet<>();
  private boolean closed = false;

  /**
   * Creates a tracker.
   *
   * @param sink Where adds and releases go.
   * @param lastSubmittedSeq The sequence number of the last submission made.
   * @param acceptedSeq The sequence number up to which submissions were accepted.
   */
  public ReferenceTracker(Sink sink, LongSupplier lastSubmittedSeq, LongSupplier acceptedSeq) {
    this.sink = sink;
    this.lastSubmittedSeq = lastSubmittedSeq;
    this.acceptedSeq = acceptedSeq;
  }

  /**
   * Registers a reference the session holds a count for (a put or a task return).
   *
   * @param ref The reference.
   * @param <T> Its object type.
   * @return The same reference.
   */
  public <T> ObjectRefImpl<T> register(ObjectRefImpl<T> ref) {
    synchronized (lock) {
      Entry e = live.get(ref.getId());
      if (e == null) {
        e = new Entry(1 + reclaimPendingRelease(ref.getId()));
        live.put(ref.getId(), e);
      }
      e.count++;
    }
    CLEANER.register(ref, new Release(this, ref.getId()));
    return ref;
  }

  /**
   * Registers a reference read from a value: another holder of the object in this JVM. Inside
   * {@link #decodingGetResult} the session counted it already; else it is added with AddReferences.
   *
   * @param ref The reference.
   */
  public void registerDeserialized(ObjectRefImpl<?> ref) {
    ObjectId id = ref.getId();
    java.util.Set<ObjectId> getDecode = GET_DECODE.get();
    boolean countedByGet = getDecode != null && getDecode.add(id);
    synchronized (lock) {
      if (closed) {
        return;
      }
      Entry e = live.get(id);
      if (e == null) {
        int reclaimed = reclaimPendingRelease(id);
        e = new Entry(reclaimed);
        live.put(id, e);
        if (reclaimed == 0 && !countedByGet) {
          pendingAdds.add(id);
        }
      }
      if (countedByGet) {
        e.serverCounts++;
      }
      e.count++;
    }
    CLEANER.register(ref, new Release(this, id));
  }

  /** Takes back a release not sent yet; returns its counts (0 if there was none). */
  private int reclaimPendingRelease(ObjectId id) {
    for (java.util.Iterator<PendingRelease> it = pendingReleases.iterator(); it.hasNext(); ) {
      PendingRelease p = it.next();
      if (p.id.equals(id)) {
        it.remove();
        return p.counts;
      }
    }
    return 0;
  }

  private void onUnreachable(ObjectId id) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      Entry e = live.get(id);
      if (e == null || --e.count > 0) {
        return;
      }
      live.remove(id);
      pendingAdds.remove(id);
      if (e.serverCounts > 0) {
        pendingReleases.addLast(
            new PendingRelease(id, e.serverCounts, lastSubmittedSeq.getAsLong()));
      }
    }
  }

  /** Sends the adds and the releases that may go now. Called periodically by the runtime. */
  public void flush() {
    List<ObjectId> adds;
    synchronized (lock) {
      if (closed) {
        return;
      }
      adds = new ArrayList<>(pendingAdds);
      pendingAdds.clear();
    }
    for (ObjectId id : adds) {
      boolean held;
      try {
        held = sink.add(id);
      } catch (RayException e) {
        LOG.log(Level.FINE, "AddReferences of " + id + " failed", e);
        held = false;
      }
      if (held) {
        synchronized (lock) {
          Entry e = live.get(id);
          if (e != null) {
            e.serverCounts++;
          } else {
            pendingReleases.addLast(new PendingRelease(id, 1, lastSubmittedSeq.getAsLong()));
          }
        }
      }
    }
    while (true) {
      List<ObjectId> batch = new ArrayList<>();
      synchronized (lock) {
        long accepted = acceptedSeq.getAsLong();
        while (!pendingReleases.isEmpty()
            && pendingReleases.peekFirst().gateSeq <= accepted
            && batch.size() < MAX_BATCH) {
          PendingRelease p = pendingReleases.pollFirst();
          for (int i = 0; i < p.counts; i++) {
            batch.add(p.id);
          }
        }
      }
      if (batch.isEmpty()) {
        return;
      }
      try {
        sink.release(batch);
      } catch (RayException e) {
        LOG.log(Level.FINE, "ReleaseReferences of " + batch.size() + " objects failed", e);
        return;
      }
    }
  }

  /**
   * Returns how many objects have live references in this JVM.
   *
   * @return The number of objects.
   */
  public int liveObjects() {
    synchronized (lock) {
      return live.size();
    }
  }

  /**
   * Returns how many releases wait to be sent.
   *
   * @return The number of objects.
   */
  public int pendingReleases() {
    synchronized (lock) {
      return pendingReleases.size();
    }
  }

  /**
   * Returns the counts the session holds for the client of an object, as far as this JVM knows.
   *
   * @param id The object.
   * @return The counts (0 when it holds none or the object has no live reference here).
   */
  public int serverCounts(ObjectId id) {
    synchronized (lock) {
      Entry e = live.get(id);
      return e == null ? 0 : e.serverCounts;
    }
  }

  /**
   * Returns the local count of an object.
   *
   * @param id The object.
   * @return Live instances in this JVM.
   */
  public int localCount(ObjectId id) {
    synchronized (lock) {
      Entry e = live.get(id);
      return e == null ? 0 : e.count;
    }
  }

  /** Stops tracking. Pending releases are dropped (closing the session releases everything). */
  public void close() {
    synchronized (lock) {
      closed = true;
      live.clear();
      pendingReleases.clear();
      pendingAdds.clear();
    }
  }

  /** The cleaning action: must not refer to the reference itself. */
  private static final class Release implements Runnable {
    private final ReferenceTracker tracker;
    private final ObjectId id;

    Release(ReferenceTracker tracker, ObjectId id) {
      this.tracker = tracker;
      this.id = id;
    }

    @Override
    public void run() {
      tracker.onUnreachable(id);
    }
  }
}
