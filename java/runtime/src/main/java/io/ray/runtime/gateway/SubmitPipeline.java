package io.ray.runtime.gateway;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTimeoutException;
import io.ray.api.id.ObjectId;
import io.ray.rpc.SubmitItem;
import io.ray.rpc.SubmitReply;
import io.ray.rpc.SubmitRequest;
import io.ray.rpc.SubmitResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Pipelined submission of tasks and actor calls on the session's {@code Submit} stream. {@link
 * #submit} only queues an item (its ids are made by the client) and returns its sequence number; a
 * sender thread packs queued items into messages, and the owner's replies ({@code num_accepted}
 * since the stream opened) advance {@link #acceptedSeq()}.
 *
 * <p>When the stream breaks, unacknowledged items are sent again on a new stream (submission is
 * idempotent per task id), with backoff, for at most the rpc timeout; then they fail. An {@code
 * INVALID_ARGUMENT} ends the stream at the first unacknowledged item: that item fails, the rest are
 * sent again. {@code NOT_FOUND} means the session is gone: everything fails. A stream that stays
 * silent for the rpc timeout while items wait is cancelled and opened again. A failed item's return
 * ids map to the exception {@code get} throws for them ({@link #failureOf}).
 */
public final class SubmitPipeline {
  private static final Logger LOG = Logger.getLogger(SubmitPipeline.class.getName());

  /** Most items in one message. */
  static final int MAX_ITEMS_PER_MESSAGE = 256;

  /** Most bytes of items in one message (an item bigger than this goes alone). */
  static final int MAX_BYTES_PER_MESSAGE = 4 << 20;

  /** Most bytes of streamed return values kept that nobody took yet. */
  static final long RESULT_CACHE_MAX_BYTES = 64L << 20;

  /** Most streamed return values kept or expected at once. */
  static final int RESULT_CACHE_MAX_ENTRIES = 100_000;

  /** Opens a Submit stream: the async stub's {@code submit}. */
  public interface StreamOpener {
    /**
     * Opens a stream.
     *
     * @param replies Receives the owner's replies.
     * @return The request side of the stream.
     */
    StreamObserver<SubmitRequest> open(StreamObserver<SubmitReply> replies);
  }

  private static final class Item {
    final long seq;
    final SubmitItem proto;
    final List<ObjectId> returnIds;
    final String description;
    final Object keepAlive;

    Item(
        long seq,
        SubmitItem proto,
        List<ObjectId> returnIds,
        String description,
        Object keepAlive) {
      this.seq = seq;
      this.proto = proto;
      this.returnIds = returnIds;
      this.description = description;
      this.keepAlive = keepAlive;
    }
  }

  private final class Stream implements ClientResponseObserver<SubmitRequest, SubmitReply> {
    ClientCallStreamObserver<SubmitRequest> requests;
    StreamObserver<SubmitRequest> requestObserver;
    long acceptedOnStream = 0;
    long lastActivityNanos = System.nanoTime();

    @Override
    public void beforeStart(ClientCallStreamObserver<SubmitRequest> requestStream) {
      this.requests = requestStream;
      requestStream.setOnReadyHandler(
          () -> {
            synchronized (lock) {
              lock.notifyAll();
            }
          });
    }

    boolean isReady() {
      return requests == null || requests.isReady();
    }

    void cancel(String why) {
      if (requests != null) {
        requests.cancel(why, null);
      } else {
        requestObserver.onError(Status.CANCELLED.withDescription(why).asRuntimeException());
      }
    }

    @Override
    public void onNext(SubmitReply reply) {
      onReply(this, reply.getNumAccepted());
      for (SubmitResult r : reply.getResultsList()) {
        if (r.getObjectId().size() == ObjectId.LENGTH) {
          results.deliver(
              new ObjectId(r.getObjectId().toByteArray()), r.getFrame().toByteArray(), r.getFetch());
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      onStreamError(this, t);
    }

    @Override
    public void onCompleted() {
      onStreamError(
          this,
          Status.UNAVAILABLE
              .withDescription("the session owner closed the Submit stream")
              .asRuntimeException());
    }
  }

  private final StreamOpener opener;
  private final String address;
  private final long rpcTimeoutMs;
  private final Object lock = new Object();
  private final ArrayDeque<Item> unsent = new ArrayDeque<>();
  private final ArrayDeque<Item> inFlight = new ArrayDeque<>();
  private final Map<ObjectId, RayException> failures = new ConcurrentHashMap<>();
  private final ResultCache results = new ResultCache(RESULT_CACHE_MAX_BYTES, RESULT_CACHE_MAX_ENTRIES);
  private final Thread sender;
  private Consumer<String> onVoidFailure = message -> LOG.warning(message);
  private long lastSeq = 0;
  private long acceptedSeq = 0;
  private Stream current = null;
  private RayException fatal = null;
  private long firstFailureNanos = 0;
  private int consecutiveFailures = 0;
  private long backoffUntilNanos = 0;
  private boolean closing = false;
  private boolean closed = false;

  /**
   * Creates a pipeline and starts its sender thread; the stream opens with the first item.
   *
   * @param opener Opens Submit streams.
   * @param address The owner's address, for messages.
   * @param rpcTimeoutMs How long items may wait for an acknowledgement, and how long a broken
   *     stream is retried.
   */
  public SubmitPipeline(StreamOpener opener, String address, long rpcTimeoutMs) {
    this.opener = opener;
    this.address = address;
    this.rpcTimeoutMs = rpcTimeoutMs;
    this.sender = new Thread(this::sendLoop, "ray-submit-sender");
    this.sender.setDaemon(true);
    this.sender.start();
  }

  /**
   * Sets what happens with the failure of an item that has no return ids (default: a warning).
   *
   * @param onVoidFailure Receives the message.
   */
  public void setOnVoidFailure(Consumer<String> onVoidFailure) {
    this.onVoidFailure = onVoidFailure;
  }

  /**
   * Queues an item. Returns at once.
   *
   * @param item The task or actor call, with its client-made task id.
   * @param returnIds The ids of its returns.
   * @param description What it is, for messages (e.g. "task com.example.App.f").
   * @param keepAlive Objects to keep reachable until the owner accepted the item (e.g. the
   *     references passed as arguments), or null.
   * @return The item's sequence number.
   */
  public long submit(
      SubmitItem item, List<ObjectId> returnIds, String description, Object keepAlive) {
    synchronized (lock) {
      long seq = ++lastSeq;
      Item it = new Item(seq, item, returnIds, description, keepAlive);
      if (fatal != null || closed) {
        RayException why =
            fatal != null
                ? fatal
                : new RayException("Ray has been shut down: nothing more is submitted.");
        fail(it, why);
        acceptedSeq = seq;
        lock.notifyAll();
        return seq;
      }
      unsent.addLast(it);
      lock.notifyAll();
      return seq;
    }
  }

  /**
   * Returns the return values that come back on the stream, for items sent with {@code
   * return_results} (the caller {@link ResultCache#expect expects} them before it submits).
   *
   * @return The cache.
   */
  public ResultCache results() {
    return results;
  }

  /**
   * Returns the sequence number of the last item queued.
   *
   * @return 0 before the first item.
   */
  public long lastSeq() {
    synchronized (lock) {
      return lastSeq;
    }
  }

  /**
   * Returns the sequence number up to which every item was accepted (or failed).
   *
   * @return The number.
   */
  public long acceptedSeq() {
    synchronized (lock) {
      return acceptedSeq;
    }
  }

  /**
   * Waits until the item {@code seq} (and all before it) was accepted or failed.
   *
   * @param seq The item.
   * @param timeoutMs The longest wait.
   * @throws RayTimeoutException If that takes longer than {@code timeoutMs}.
   */
  public void awaitAccepted(long seq, long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    synchronized (lock) {
      while (acceptedSeq < seq) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new RayTimeoutException(
              String.format(
                  "%d submitted tasks were not accepted by the session owner at %s within %d ms"
                      + " (accepted up to #%d, waiting for #%d).",
                  seq - acceptedSeq, address, timeoutMs, acceptedSeq, seq));
        }
        try {
          lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new RayException("Interrupted while waiting for submissions to be accepted", e);
        }
      }
    }
  }

  /**
   * Returns why an object will never be made because its submission failed.
   *
   * @param id A return id.
   * @return The exception, or null if its submission did not fail.
   */
  public RayException failureOf(ObjectId id) {
    return failures.get(id);
  }

  /**
   * Cancels the current stream if it stayed silent too long while items wait; called periodically.
   */
  public void checkLiveness() {
    synchronized (lock) {
      Stream s = current;
      if (s != null
          && !inFlight.isEmpty()
          && System.nanoTime() - s.lastActivityNanos
              > TimeUnit.MILLISECONDS.toNanos(rpcTimeoutMs)) {
        s.cancel("no acknowledgement from the session owner within " + rpcTimeoutMs + " ms");
      }
    }
  }

  /**
   * Waits (at most {@code timeoutMs}) until everything queued was accepted, then ends the stream.
   *
   * @param timeoutMs The longest wait for acknowledgements.
   */
  public void close(long timeoutMs) {
    long seq;
    synchronized (lock) {
      closing = true;
      seq = lastSeq;
    }
    try {
      awaitAccepted(seq, timeoutMs);
    } catch (RayException e) {
      LOG.warning("Shutting down with unacknowledged submissions: " + e.getMessage());
    }
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    try {
      sender.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- sender thread --------------------------------------------------------------------------

  private void sendLoop() {
    while (true) {
      Stream stream;
      List<Item> batch = new ArrayList<>();
      synchronized (lock) {
        while (true) {
          if (closed) {
            endStream();
            return;
          }
          long now = System.nanoTime();
          if (!unsent.isEmpty() && now >= backoffUntilNanos) {
            if (current == null) {
              openStream();
            }
            if (current != null && current.isReady()) {
              break;
            }
          }
          try {
            long waitMs =
                unsent.isEmpty()
                    ? 1000
                    : Math.max(1, TimeUnit.NANOSECONDS.toMillis(backoffUntilNanos - now));
            lock.wait(Math.min(waitMs, 50));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        stream = current;
        int bytes = 0;
        while (!unsent.isEmpty() && batch.size() < MAX_ITEMS_PER_MESSAGE) {
          int size = unsent.peekFirst().proto.getSerializedSize();
          if (!batch.isEmpty() && bytes + size > MAX_BYTES_PER_MESSAGE) {
            break;
          }
          Item it = unsent.pollFirst();
          batch.add(it);
          inFlight.addLast(it);
          bytes += size;
        }
        stream.lastActivityNanos = System.nanoTime();
      }
      SubmitRequest.Builder request = SubmitRequest.newBuilder();
      for (Item it : batch) {
        request.addItems(it.proto);
      }
      try {
        stream.requestObserver.onNext(request.build());
      } catch (RuntimeException e) {
        LOG.log(Level.FINE, "sending on the Submit stream failed", e);
        stream.cancel("sending failed: " + e);
      }
    }
  }

  /** Opens a stream; called with the lock held. */
  private void openStream() {
    Stream s = new Stream();
    try {
      s.requestObserver = opener.open(s);
      current = s;
    } catch (RuntimeException e) {
      noteFailure(e);
    }
  }

  private void endStream() {
    Stream s = current;
    current = null;
    if (s != null) {
      try {
        s.requestObserver.onCompleted();
      } catch (RuntimeException e) {
        LOG.log(Level.FINE, "closing the Submit stream", e);
      }
    }
  }

  // ---- replies --------------------------------------------------------------------------------

  private void onReply(Stream s, long numAccepted) {
    synchronized (lock) {
      if (s != current) {
        return;
      }
      s.lastActivityNanos = System.nanoTime();
      while (s.acceptedOnStream < numAccepted && !inFlight.isEmpty()) {
        Item it = inFlight.pollFirst();
        s.acceptedOnStream++;
        acceptedSeq = it.seq;
      }
      consecutiveFailures = 0;
      firstFailureNanos = 0;
      lock.notifyAll();
    }
  }

  private void onStreamError(Stream s, Throwable t) {
    synchronized (lock) {
      if (s != current) {
        return;
      }
      current = null;
      Status.Code code = GrpcErrors.code(t);
      if (closed && inFlight.isEmpty() && unsent.isEmpty()) {
        results.streamLost();
        return;
      }
      switch (code) {
        case NOT_FOUND:
        case UNAUTHENTICATED:
        case PERMISSION_DENIED:
        case UNIMPLEMENTED:
          fatal = GrpcErrors.map(t, "Submitting to the session", address);
          failEverything(fatal);
          break;
        case INVALID_ARGUMENT:
          if (!inFlight.isEmpty()) {
            Item bad = inFlight.pollFirst();
            fail(bad, GrpcErrors.map(t, "Submitting " + bad.description, address));
            acceptedSeq = bad.seq;
          }
          requeueInFlight();
          break;
        default:
          requeueInFlight();
          noteFailure(t);
          break;
      }
      // Values not sent yet will not come on this stream: gets read them with Get (after the
      // failures above are recorded, so such a get throws them).
      results.streamLost();
      lock.notifyAll();
    }
  }

  /** Records a transient failure: back off, or give up after the rpc timeout. Lock held. */
  private void noteFailure(Throwable t) {
    long now = System.nanoTime();
    if (firstFailureNanos == 0) {
      firstFailureNanos = now;
    }
    consecutiveFailures++;
    if (now - firstFailureNanos > TimeUnit.MILLISECONDS.toNanos(rpcTimeoutMs)) {
      failEverything(GrpcErrors.map(t, "Submitting to the session owner", address));
      firstFailureNanos = 0;
      consecutiveFailures = 0;
      backoffUntilNanos = 0;
      return;
    }
    long backoffMs = Math.min(1000, 50L << Math.min(consecutiveFailures - 1, 5));
    backoffUntilNanos = now + TimeUnit.MILLISECONDS.toNanos(backoffMs);
  }

  private void requeueInFlight() {
    while (!inFlight.isEmpty()) {
      unsent.addFirst(inFlight.pollLast());
    }
  }

  private void failEverything(RayException why) {
    for (Item it : inFlight) {
      fail(it, why);
    }
    for (Item it : unsent) {
      fail(it, why);
    }
    inFlight.clear();
    unsent.clear();
    acceptedSeq = lastSeq;
  }

  private void fail(Item it, RayException why) {
    String message = it.description + " was not submitted: " + why.getMessage();
    if (it.returnIds.isEmpty()) {
      onVoidFailure.accept(message);
    }
    for (ObjectId id : it.returnIds) {
      failures.put(id, new RayException(message, why));
      results.deliver(id, null, true); // a get waiting for it asks, and throws the failure
    }
    for (FailureWatch w : watches) {
      for (ObjectId id : it.returnIds) {
        if (w.ids.contains(id)) {
          w.action.run();
          break;
        }
      }
    }
  }

  /** An action to run when the submission of one of some objects fails. */
  private static final class FailureWatch {
    final java.util.Set<ObjectId> ids;
    final Runnable action;

    FailureWatch(java.util.Set<ObjectId> ids, Runnable action) {
      this.ids = ids;
      this.action = action;
    }
  }

  private final java.util.List<FailureWatch> watches =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Runs an action if the submission that makes one of the objects fails, now or until the returned
   * handle is closed (e.g. to cancel a Get sent before the owner accepted the submissions).
   *
   * @param ids The objects.
   * @param action Runs at most once per failed item, on the thread that saw the failure; must not
   *     block.
   * @return Stops watching when run.
   */
  public Runnable watchFailures(java.util.Collection<ObjectId> ids, Runnable action) {
    FailureWatch w = new FailureWatch(new java.util.HashSet<>(ids), action);
    watches.add(w);
    for (ObjectId id : ids) {
      if (failures.containsKey(id)) {
        action.run();
        break;
      }
    }
    return () -> watches.remove(w);
  }
}
