package io.ray.runtime.gateway;

import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.ray.api.exception.RayException;
import io.ray.rpc.KeepAliveReply;
import io.ray.rpc.KeepAliveRequest;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Holds the session open: a {@code KeepAlive} stream for the session's whole life. The owner
 * replies every few seconds; a stream that breaks, or stays silent longer than the keepalive
 * timeout, is opened again with backoff. If no new stream could be opened within the reconnect
 * grace period, or the owner says NOT_FOUND, the session is gone and {@code onSessionLost} is told.
 */
public final class KeepAlive {
  private static final Logger LOG = Logger.getLogger(KeepAlive.class.getName());

  private final GatewayChannel channel;
  private final ByteString sessionId;
  private final ScheduledExecutorService scheduler;
  private final long keepAliveTimeoutMs;
  private final long reconnectGraceMs;
  private final Consumer<RayException> onSessionLost;
  private final Object lock = new Object();
  private Context.CancellableContext call;
  private long lastReplyNanos;
  private long brokenSinceNanos = 0;
  private int attempts = 0;
  private long numReferences = -1;
  private boolean closed = false;

  /**
   * Creates the keepalive (call {@link #start}).
   *
   * @param channel The session owner's channel.
   * @param sessionId The session.
   * @param scheduler Runs reconnects and the silence check.
   * @param keepAliveTimeoutMs Longest silence before reconnecting.
   * @param reconnectGraceMs How long the session survives without a stream.
   * @param onSessionLost Told once when the session is gone.
   */
  public KeepAlive(
      GatewayChannel channel,
      ByteString sessionId,
      ScheduledExecutorService scheduler,
      long keepAliveTimeoutMs,
      long reconnectGraceMs,
      Consumer<RayException> onSessionLost) {
    this.channel = channel;
    this.sessionId = sessionId;
    this.scheduler = scheduler;
    this.keepAliveTimeoutMs = keepAliveTimeoutMs;
    this.reconnectGraceMs = reconnectGraceMs;
    this.onSessionLost = onSessionLost;
  }

  /** Opens the stream and starts watching it. */
  public void start() {
    synchronized (lock) {
      open();
    }
    scheduler.scheduleWithFixedDelay(this::checkSilence, 1, 1, TimeUnit.SECONDS);
  }

  /**
   * Returns the reference count the owner last reported.
   *
   * @return The count, or -1 before the first reply.
   */
  public long numReferences() {
    synchronized (lock) {
      return numReferences;
    }
  }

  /** Ends the stream for good (at shutdown). */
  public void close() {
    synchronized (lock) {
      closed = true;
      if (call != null) {
        call.cancel(null);
        call = null;
      }
    }
  }

  /** Opens a stream; lock held. */
  private void open() {
    if (closed) {
      return;
    }
    Context.CancellableContext context = Context.current().withCancellation();
    call = context;
    lastReplyNanos = System.nanoTime();
    KeepAliveRequest request = KeepAliveRequest.newBuilder().setSessionId(sessionId).build();
    context.run(() -> channel.async().keepAlive(request, new Observer(context)));
  }

  private final class Observer implements StreamObserver<KeepAliveReply> {
    private final Context.CancellableContext context;

    Observer(Context.CancellableContext context) {
      this.context = context;
    }

    @Override
    public void onNext(KeepAliveReply reply) {
      synchronized (lock) {
        if (call != context) {
          return;
        }
        lastReplyNanos = System.nanoTime();
        brokenSinceNanos = 0;
        attempts = 0;
        numReferences = reply.getNumReferences();
      }
    }

    @Override
    public void onError(Throwable t) {
      broken(context, t);
    }

    @Override
    public void onCompleted() {
      broken(context, null);
    }
  }

  private void broken(Context.CancellableContext context, Throwable t) {
    RayException lost = null;
    synchronized (lock) {
      if (closed || call != context) {
        return;
      }
      call = null;
      if (t != null && GrpcErrors.isNotFound(t)) {
        closed = true;
        lost =
            new RayException(
                "The session ended (the owner at "
                    + channel.address()
                    + " no longer knows it): everything it owned was released. Call"
                    + " Ray.shutdown() and Ray.init() to start a new one.",
                t);
      } else {
        long now = System.nanoTime();
        if (brokenSinceNanos == 0) {
          brokenSinceNanos = now;
        }
        if (now - brokenSinceNanos > TimeUnit.MILLISECONDS.toNanos(reconnectGraceMs)) {
          closed = true;
          lost =
              new RayException(
                  "Lost the session: its KeepAlive stream to "
                      + channel.address()
                      + " could not be reopened within "
                      + reconnectGraceMs
                      + " ms"
                      + (t == null ? "" : " (" + GrpcErrors.code(t) + ": " + t.getMessage() + ")")
                      + ". The cluster released what the session owned.",
                  t);
        } else {
          long delayMs = Math.min(1000, 100L << Math.min(attempts++, 4));
          LOG.fine("KeepAlive stream broke (" + t + "); reopening in " + delayMs + " ms");
          scheduler.schedule(this::reopen, delayMs, TimeUnit.MILLISECONDS);
        }
      }
    }
    if (lost != null) {
      onSessionLost.accept(lost);
    }
  }

  private void reopen() {
    synchronized (lock) {
      if (!closed && call == null) {
        open();
      }
    }
  }

  private void checkSilence() {
    Context.CancellableContext stale = null;
    synchronized (lock) {
      if (closed || call == null) {
        return;
      }
      if (System.nanoTime() - lastReplyNanos > TimeUnit.MILLISECONDS.toNanos(keepAliveTimeoutMs)) {
        stale = call;
      }
    }
    if (stale != null) {
      LOG.warning(
          "No KeepAlive reply from "
              + channel.address()
              + " for "
              + keepAliveTimeoutMs
              + " ms; reconnecting");
      stale.cancel(new RayException("KeepAlive stream silent for " + keepAliveTimeoutMs + " ms"));
    }
  }
}
