package io.ray.runtime.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTimeoutException;
import io.ray.api.id.ActorId;
import io.ray.api.id.ObjectId;
import io.ray.rpc.AddReferencesRequest;
import io.ray.rpc.CloseSessionRequest;
import io.ray.rpc.GetReply;
import io.ray.rpc.GetRequest;
import io.ray.rpc.JobConfig;
import io.ray.rpc.Language;
import io.ray.rpc.LookupActorReply;
import io.ray.rpc.LookupActorRequest;
import io.ray.rpc.ObjectChunk;
import io.ray.rpc.OpenSessionReply;
import io.ray.rpc.OpenSessionRequest;
import io.ray.rpc.PutReply;
import io.ray.rpc.PutRequest;
import io.ray.rpc.PutStreamReply;
import io.ray.rpc.PutStreamRequest;
import io.ray.rpc.ReleaseReferencesRequest;
import io.ray.rpc.StartActorReply;
import io.ray.rpc.StartActorRequest;
import io.ray.rpc.StopActorRequest;
import io.ray.rpc.WaitReply;
import io.ray.rpc.WaitRequest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The typed client of the session owner's unary and server-streaming calls: it owns their deadlines
 * and maps their failures to {@code io.ray.api.exception} types. The long-lived streams are {@link
 * KeepAlive} and {@link SubmitPipeline}.
 */
public final class GatewayClient {
  /** Extra time a Get's deadline allows after its wait, for the transfer of the values. */
  static final long TRANSFER_MARGIN_MS = 30_000;

  /** The wait of one Get or Wait call when the caller waits without limit (the call repeats). */
  static final long UNBOUNDED_SLICE_MS = 60_000;

  /** Bytes per second a PutStream's deadline allows beyond the rpc timeout. */
  static final long PUT_STREAM_BYTES_PER_SECOND = 8L << 20;

  private final GatewayChannel channel;
  private final ByteString sessionId;

  /**
   * Creates a client.
   *
   * @param channel The session owner's channel.
   * @param sessionId The session.
   */
  public GatewayClient(GatewayChannel channel, ByteString sessionId) {
    this.channel = channel;
    this.sessionId = sessionId;
  }

  /**
   * Opens a session at the cluster address.
   *
   * @param gcs The GCS's channel.
   * @param jobConfig The job's namespace, code search path and JVM options.
   * @param reconnectGraceMs How long the session survives without a KeepAlive stream.
   * @return The session's ids and owner address.
   * @throws RayException If the GCS refuses or cannot be reached.
   */
  public static OpenSessionReply openSession(
      GatewayChannel gcs, JobConfig jobConfig, long reconnectGraceMs) {
    OpenSessionRequest request =
        OpenSessionRequest.newBuilder()
            .setJobConfig(jobConfig)
            .setLanguage(Language.LANGUAGE_JAVA)
            .setReconnectGraceMs(reconnectGraceMs)
            .build();
    try {
      return gcs.blocking().openSession(request);
    } catch (StatusRuntimeException e) {
      throw GrpcErrors.map(e, "Opening a session (OpenSession)", gcs.address());
    }
  }

  /**
   * Returns the channel.
   *
   * @return The session owner's channel.
   */
  public GatewayChannel channel() {
    return channel;
  }

  /**
   * Returns the session id.
   *
   * @return The id.
   */
  public ByteString sessionId() {
    return sessionId;
  }

  /**
   * Stores a frame under a client-made id: a single Put up to {@link PutChunker#CHUNK_SIZE} bytes,
   * else a PutStream of 1 MiB chunks.
   *
   * @param objectId The id.
   * @param frame The frame (must not change while it is sent).
   * @param nested References inside the value.
   * @throws RayException If the owner refuses or cannot be reached.
   */
  public void put(ObjectId objectId, byte[] frame, List<ObjectId> nested) {
    List<ByteString> nestedIds = new ArrayList<>(nested.size());
    for (ObjectId id : nested) {
      nestedIds.add(bytes(id.getBytes()));
    }
    if (frame.length <= PutChunker.CHUNK_SIZE) {
      PutRequest request =
          PutRequest.newBuilder()
              .setSessionId(sessionId)
              .setObjectId(bytes(objectId.getBytes()))
              .setFrame(UnsafeByteOperations.unsafeWrap(frame))
              .addAllNestedObjectIds(nestedIds)
              .build();
      try {
        PutReply reply = channel.blocking().put(request);
        checkSameId(objectId, reply.getObjectId());
      } catch (StatusRuntimeException e) {
        throw GrpcErrors.map(e, "Put of object " + objectId, channel.address());
      }
      return;
    }
    putStream(
        objectId,
        PutChunker.chunks(
            sessionId, bytes(objectId.getBytes()), frame, nestedIds, PutChunker.CHUNK_SIZE),
        frame.length);
  }

  private void putStream(ObjectId objectId, List<PutStreamRequest> chunks, long size) {
    long timeoutMs = channel.rpcTimeoutMs() + 1000 * size / PUT_STREAM_BYTES_PER_SECOND;
    String what = "PutStream of object " + objectId + " (" + size + " bytes)";
    CompletableFuture<PutStreamReply> done = new CompletableFuture<>();
    Object readyLock = new Object();
    ClientResponseObserver<PutStreamRequest, PutStreamReply> observer =
        new ClientResponseObserver<PutStreamRequest, PutStreamReply>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<PutStreamRequest> requestStream) {
            requestStream.setOnReadyHandler(
                () -> {
                  synchronized (readyLock) {
                    readyLock.notifyAll();
                  }
                });
          }

          @Override
          public void onNext(PutStreamReply reply) {
            done.complete(reply);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
            synchronized (readyLock) {
              readyLock.notifyAll();
            }
          }

          @Override
          public void onCompleted() {
            if (!done.isDone()) {
              done.completeExceptionally(
                  new RayException(what + ": the owner ended the call without a reply"));
            }
          }
        };
    ClientCallStreamObserver<PutStreamRequest> requests =
        (ClientCallStreamObserver<PutStreamRequest>) channel.async(timeoutMs).putStream(observer);
    try {
      for (PutStreamRequest chunk : chunks) {
        synchronized (readyLock) {
          while (!requests.isReady() && !done.isDone()) {
            readyLock.wait(100);
          }
        }
        if (done.isDone()) {
          break;
        }
        requests.onNext(chunk);
      }
      if (!done.isDone()) {
        requests.onCompleted();
      }
      PutStreamReply reply = done.get(timeoutMs + 1000, TimeUnit.MILLISECONDS);
      checkSameId(objectId, reply.getObjectId());
    } catch (InterruptedException e) {
      requests.cancel("interrupted", e);
      Thread.currentThread().interrupt();
      throw new RayException(what + " was interrupted", e);
    } catch (ExecutionException e) {
      throw GrpcErrors.map(e.getCause(), what, channel.address());
    } catch (TimeoutException e) {
      requests.cancel("timed out", e);
      throw new RayTimeoutException(what + " got no reply within " + timeoutMs + " ms", e);
    }
  }

  private static void checkSameId(ObjectId expected, ByteString actual) {
    if (!actual.isEmpty() && !actual.equals(ByteString.copyFrom(expected.getBytes()))) {
      throw new RayException(
          "The session owner stored object "
              + expected
              + " under another id; client-made ids must be kept. This is a bug of the gateway.");
    }
  }

  /**
   * Reads objects in one Get request, waiting at most {@code timeoutMs} (negative: without limit,
   * as repeated bounded calls).
   *
   * @param ids The objects.
   * @param timeoutMs The longest wait.
   * @return Their frames, in order.
   * @throws RayTimeoutException If not all were ready in time.
   * @throws RayException If the owner refuses or cannot be reached.
   */
  public byte[][] get(List<ObjectId> ids, long timeoutMs) {
    return get(ids, timeoutMs, null);
  }

  /** A request to cancel a call, made before or while the call runs. */
  public static final class Cancellation {
    private boolean requested;
    private Runnable hook;

    /** Cancels the call (now, or as soon as it starts). */
    public synchronized void request() {
      requested = true;
      if (hook != null) {
        hook.run();
      }
    }

    /**
     * Tells whether cancelling was requested.
     *
     * @return True once {@link #request} was called.
     */
    public synchronized boolean isRequested() {
      return requested;
    }

    synchronized void attach(Runnable cancel) {
      hook = cancel;
      if (requested) {
        cancel.run();
      }
    }
  }

  /**
   * Gets objects, as {@link #get(List, long)}, and lets the caller cancel the request.
   *
   * @param ids Distinct objects.
   * @param timeoutMs The longest wait (negative: no limit).
   * @param cancelled Cancels the request in flight when requested (from any thread; the get then
   *     throws), or null.
   * @return Their frames, in order.
   * @throws RayException As for {@link #get(List, long)}; a cancelled get throws one too.
   */
  public byte[][] get(List<ObjectId> ids, long timeoutMs, Cancellation cancelled) {
    if (timeoutMs >= 0) {
      return getOnce(ids, timeoutMs, cancelled);
    }
    while (true) {
      try {
        return getOnce(ids, UNBOUNDED_SLICE_MS, cancelled);
      } catch (RayTimeoutException e) {
        // Not ready yet: wait another slice.
      }
    }
  }

  private byte[][] getOnce(List<ObjectId> ids, long timeoutMs, Cancellation cancelled) {
    GetRequest.Builder request =
        GetRequest.newBuilder().setSessionId(sessionId).setTimeoutMs(timeoutMs);
    for (ObjectId id : ids) {
      request.addObjectIds(bytes(id.getBytes()));
    }
    String what = "Get of " + ids.size() + (ids.size() == 1 ? " object" : " objects");
    Context.CancellableContext context = Context.current().withCancellation();
    if (cancelled != null) {
      cancelled.attach(() -> context.cancel(null));
    }
    try {
      return context.call(
          () -> {
            ChunkAssembler assembler = new ChunkAssembler(ids.size());
            Iterator<GetReply> replies =
                channel.blocking(timeoutMs + TRANSFER_MARGIN_MS).get(request.build());
            while (replies.hasNext()) {
              for (ObjectChunk chunk : replies.next().getChunksList()) {
                assembler.add(chunk);
              }
            }
            return assembler.result();
          });
    } catch (StatusRuntimeException e) {
      RayException mapped = GrpcErrors.map(e, what, channel.address());
      if (mapped instanceof RayTimeoutException) {
        throw new RayTimeoutException(
            what
                + " did not finish within "
                + timeoutMs
                + " ms"
                + (e.getStatus().getDescription() == null
                    ? ""
                    : " (" + e.getStatus().getDescription() + ")")
                + ". Wait longer, or check that the tasks making them can run.",
            e);
      }
      throw mapped;
    } catch (RayException e) {
      throw e;
    } catch (Exception e) {
      throw new RayException(what + " failed: " + e, e);
    } finally {
      context.cancel(null);
    }
  }

  /**
   * Waits until {@code numReturns} of the objects are ready or the timeout passes.
   *
   * @param ids Distinct objects.
   * @param numReturns How many to wait for.
   * @param timeoutMs The longest wait (0: none).
   * @param fetchLocal Also bring ready objects to the owner's node.
   * @return Positions of the ready objects, in request order.
   */
  public List<Integer> waitOnce(
      List<ObjectId> ids, int numReturns, long timeoutMs, boolean fetchLocal) {
    WaitRequest.Builder request =
        WaitRequest.newBuilder()
            .setSessionId(sessionId)
            .setNumReturns(numReturns)
            .setTimeoutMs(timeoutMs)
            .setFetchLocal(fetchLocal);
    for (ObjectId id : ids) {
      request.addObjectIds(bytes(id.getBytes()));
    }
    try {
      WaitReply reply = channel.blocking(timeoutMs + channel.rpcTimeoutMs()).wait(request.build());
      List<Integer> ready = new ArrayList<>();
      for (int index : reply.getReadyIndicesList()) {
        if (index < 0 || index >= ids.size()) {
          throw new RayException(
              "The session owner answered Wait with position "
                  + Integer.toUnsignedString(index)
                  + " of "
                  + ids.size()
                  + ". This is a bug of the gateway.");
        }
        ready.add(index);
      }
      return ready;
    } catch (StatusRuntimeException e) {
      throw GrpcErrors.map(e, "Wait for " + ids.size() + " objects", channel.address());
    }
  }

  /**
   * Creates an actor.
   *
   * @param request The request (the session id is filled in).
   * @return The reply.
   */
  public StartActorReply startActor(StartActorRequest request) {
    try {
      return channel.blocking().startActor(request.toBuilder().setSessionId(sessionId).build());
    } catch (StatusRuntimeException e) {
      String name = request.getOptions().getName();
      throw GrpcErrors.map(
          e,
          "Creating actor "
              + describe(request.getActorClass())
              + (name.isEmpty() ? "" : " named '" + name + "'"),
          channel.address());
    }
  }

  /**
   * Finds a live named actor.
   *
   * @param name The name.
   * @param namespace The namespace, or null for the session's.
   * @return The actor, or empty when no live actor has the name.
   */
  public Optional<LookupActorReply> lookupActor(String name, String namespace) {
    LookupActorRequest.Builder request =
        LookupActorRequest.newBuilder().setSessionId(sessionId).setName(name);
    if (namespace != null) {
      request.setRayNamespace(namespace);
    }
    try {
      return Optional.of(channel.blocking().lookupActor(request.build()));
    } catch (StatusRuntimeException e) {
      if (GrpcErrors.isNotFound(e)) {
        return Optional.empty();
      }
      throw GrpcErrors.map(e, "Looking up actor '" + name + "'", channel.address());
    }
  }

  /**
   * Kills an actor.
   *
   * @param actorId The actor.
   * @param noRestart True to not restart it.
   */
  public void stopActor(ActorId actorId, boolean noRestart) {
    StopActorRequest request =
        StopActorRequest.newBuilder()
            .setSessionId(sessionId)
            .setActorId(bytes(actorId.getBytes()))
            .setNoRestart(noRestart)
            .build();
    try {
      channel.blocking().stopActor(request);
    } catch (StatusRuntimeException e) {
      throw GrpcErrors.map(e, "Killing actor " + actorId, channel.address());
    }
  }

  /**
   * Counts one more holder of an object.
   *
   * @param id The object.
   * @return False if the session holds no reference to it (NOT_FOUND).
   */
  public boolean addReference(ObjectId id) {
    try {
      channel
          .blocking()
          .addReferences(
              AddReferencesRequest.newBuilder()
                  .setSessionId(sessionId)
                  .addObjectIds(bytes(id.getBytes()))
                  .build());
      return true;
    } catch (StatusRuntimeException e) {
      if (GrpcErrors.isNotFound(e)) {
        return false;
      }
      throw GrpcErrors.map(e, "AddReferences", channel.address());
    }
  }

  /**
   * Drops one count of each object.
   *
   * @param ids The objects.
   */
  public void releaseReferences(List<ObjectId> ids) {
    ReleaseReferencesRequest.Builder request =
        ReleaseReferencesRequest.newBuilder().setSessionId(sessionId);
    for (ObjectId id : ids) {
      request.addObjectIds(bytes(id.getBytes()));
    }
    try {
      channel.blocking().releaseReferences(request.build());
    } catch (StatusRuntimeException e) {
      throw GrpcErrors.map(e, "ReleaseReferences of " + ids.size() + " objects", channel.address());
    }
  }

  /** Ends the session (idempotent). */
  public void closeSession() {
    try {
      channel
          .blocking()
          .closeSession(CloseSessionRequest.newBuilder().setSessionId(sessionId).build());
    } catch (StatusRuntimeException e) {
      throw GrpcErrors.map(e, "Closing the session", channel.address());
    }
  }

  /**
   * Describes a function descriptor for messages.
   *
   * @param d The descriptor.
   * @return E.g. {@code com.example.Counter} or {@code my_module.Counter}.
   */
  static String describe(io.ray.rpc.FunctionDescriptor d) {
    switch (d.getLanguage()) {
      case LANGUAGE_PYTHON:
        return d.getModuleName()
            + "."
            + (d.getClassName().isEmpty() ? d.getFunctionName() : d.getClassName());
      case LANGUAGE_JAVA:
        return d.getClassName()
            + (d.getFunctionName().equals("<init>") ? "" : "." + d.getFunctionName());
      default:
        return d.getFunctionName();
    }
  }

  static ByteString bytes(byte[] b) {
    return UnsafeByteOperations.unsafeWrap(b);
  }
}
