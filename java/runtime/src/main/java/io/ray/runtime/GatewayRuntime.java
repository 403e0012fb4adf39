package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.ActorHandle;
import io.ray.api.BaseActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.WaitResult;
import io.ray.api.exception.RayException;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import io.ray.api.function.RayFunc;
import io.ray.api.id.ActorId;
import io.ray.api.id.JobId;
import io.ray.api.id.ObjectId;
import io.ray.api.id.TaskId;
import io.ray.api.id.UniqueId;
import io.ray.api.options.ActorCreationOptions;
import io.ray.api.options.CallOptions;
import io.ray.api.runtime.RayRuntime;
import io.ray.api.runtimecontext.RuntimeContext;
import io.ray.rpc.CallActorRequest;
import io.ray.rpc.FunctionDescriptor;
import io.ray.rpc.JobConfig;
import io.ray.rpc.Language;
import io.ray.rpc.LookupActorReply;
import io.ray.rpc.OpenSessionReply;
import io.ray.rpc.StartActorReply;
import io.ray.rpc.StartActorRequest;
import io.ray.rpc.SubmitItem;
import io.ray.rpc.SubmitTaskRequest;
import io.ray.rpc.TaskArg;
import io.ray.runtime.actor.ActorHandleImpl;
import io.ray.runtime.actor.OtherActorHandle;
import io.ray.runtime.actor.PyActorHandleImpl;
import io.ray.runtime.cluster.LocalCluster;
import io.ray.runtime.cluster.RayCliLocator;
import io.ray.runtime.config.RayConfig;
import io.ray.runtime.function.JavaFunction;
import io.ray.runtime.gateway.GatewayChannel;
import io.ray.runtime.gateway.GatewayClient;
import io.ray.runtime.gateway.KeepAlive;
import io.ray.runtime.gateway.ProtoOptions;
import io.ray.runtime.gateway.ReferenceTracker;
import io.ray.runtime.gateway.ResultCache;
import io.ray.runtime.gateway.SubmitPipeline;
import io.ray.runtime.id.IdMaker;
import io.ray.runtime.object.LocalFrames;
import io.ray.runtime.object.ObjectRefImpl;
import io.ray.runtime.object.ValueTypes;
import io.ray.runtime.serialization.EncodedValue;
import io.ray.runtime.serialization.FrameCodec;
import io.ray.runtime.util.Hex;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The runtime of a Java client: one session of the cluster's client gateway (client_gateway.proto).
 * {@link #start} opens the session at the GCS (starting a local cluster first when no address is
 * configured) or attaches to an existing one; every API call then goes to the session owner.
 */
@SuppressWarnings({"rawtypes", "unchecked"})
public final class GatewayRuntime implements RayRuntime, ObjectRefImpl.RefHolder {
  private static final Logger LOG = Logger.getLogger(GatewayRuntime.class.getName());

  /** Arguments whose frame is larger than this are put first and passed by reference. */
  static final int INLINE_ARG_LIMIT = 512 * 1024;

  /**
   * Most return values asked for on the Submit stream at once: a submission made while fewer are
   * on their way gets its value back on the stream, so its get needs no Get rpc; a burst beyond
   * that is read with one Get.
   */
  static final int MAX_STREAM_RESULTS = 4;

  /**
   * How long a get waits for values coming on the Submit stream before it asks the session owner
   * (values of long tasks).
   */
  static final long STREAM_RESULT_WAIT_MS = 1000;

  /** How long one Wait call waits when the caller waits without limit (the call repeats). */
  static final long UNBOUNDED_WAIT_SLICE_MS = 60_000;

  private final RayConfig config;
  private final LocalCluster localCluster;
  private final boolean attached;
  private final GatewayChannel channel;
  private final GatewayClient client;
  private final ByteString sessionId;
  private final JobId jobId;
  private final String namespace;
  private final UniqueId nodeId;
  private final IdMaker ids;
  private final ScheduledExecutorService scheduler;
  private final SubmitPipeline pipeline;
  private final ReferenceTracker tracker;
  private final KeepAlive keepAlive;
  private volatile RayException sessionLost = null;
  private volatile boolean shutDown = false;

  private GatewayRuntime(
      RayConfig config,
      LocalCluster localCluster,
      boolean attached,
      GatewayChannel channel,
      ByteString sessionId,
      JobId jobId,
      String namespace,
      UniqueId nodeId) {
    this.config = config;
    this.localCluster = localCluster;
    this.attached = attached;
    this.channel = channel;
    this.client = new GatewayClient(channel, sessionId);
    this.sessionId = sessionId;
    this.jobId = jobId;
    this.namespace = namespace;
    this.nodeId = nodeId;
    this.ids = new IdMaker(jobId);
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "ray-session");
              t.setDaemon(true);
              return t;
            });
    this.pipeline =
        new SubmitPipeline(
            replies -> channel.async().submit(replies), channel.address(), config.rpcTimeoutMs);
    this.tracker =
        new ReferenceTracker(
            new ReferenceTracker.Sink() {
              @Override
              public void release(List<ObjectId> objectIds) {
                pipeline.results().forget(objectIds);
                client.releaseReferences(objectIds);
              }

              @Override
              public boolean add(ObjectId id) {
                return client.addReference(id);
              }
            },
            pipeline::lastSeq,
            pipeline::acceptedSeq);
    this.keepAlive =
        attached
            ? null
            : new KeepAlive(
                channel,
                sessionId,
                scheduler,
                config.keepAliveTimeoutMs,
                config.reconnectGraceMs,
                lost -> {
                  sessionLost = lost;
                  LOG.severe(lost.getMessage());
                });
  }

  /**
   * Starts a runtime: attaches to the session named by the configuration, or opens one at the
   * configured cluster, or starts a local cluster and opens one there.
   *
   * @param config The configuration.
   * @param env The environment (for finding the {@code ray} command).
   * @return The running runtime.
   * @throws RayException If the cluster cannot be reached or started; the message says why.
   */
  public static GatewayRuntime start(RayConfig config, Map<String, String> env) {
    if (config.attach != null) {
      return attach(config, env);
    }
    LocalCluster cluster = null;
    String address;
    String token;
    if (config.address == null) {
      List<String> command =
          LocalCluster.headCommand(
              RayCliLocator.locate(config.rayCli, env),
              Runtime.getRuntime().availableProcessors(),
              config.headArgs);
      cluster = LocalCluster.start(command, Map.of(), config.localClusterStartTimeoutMs);
      address = cluster.gcsAddress();
      token = cluster.token();
    } else {
      address = config.resolveAddress();
      token = config.resolveToken(address);
    }
    GatewayChannel channel = null;
    try {
      JobConfig.Builder job =
          JobConfig.newBuilder()
              .addAllCodeSearchPath(config.codeSearchPath)
              .addAllJvmOptions(config.jvmOptions);
      if (config.namespace != null) {
        job.setRayNamespace(config.namespace);
      }
      OpenSessionReply session;
      try (GatewayChannel gcs = new GatewayChannel(address, token, config.rpcTimeoutMs)) {
        session = GatewayClient.openSession(gcs, job.build(), config.reconnectGraceMs);
      }
      if (session.getJobId().size() != JobId.LENGTH || session.getSessionAddress().isEmpty()) {
        throw new RayException(
            "OpenSession at "
                + address
                + " returned job id "
                + Hex.encode(session.getJobId().toByteArray())
                + " and session address '"
                + session.getSessionAddress()
                + "': expected a 4-byte job id and HOST:PORT. This is a bug of the gateway.");
      }
      channel = new GatewayChannel(session.getSessionAddress(), token, config.rpcTimeoutMs);
      UniqueId node =
          session.getNodeId().size() == UniqueId.LENGTH
              ? UniqueId.fromBytes(session.getNodeId().toByteArray())
              : UniqueId.NIL;
      GatewayRuntime runtime =
          new GatewayRuntime(
              config,
              cluster,
              false,
              channel,
              session.getSessionId(),
              JobId.fromBytes(session.getJobId().toByteArray()),
              session.getRayNamespace(),
              node);
      runtime.startBackground();
      return runtime;
    } catch (RuntimeException e) {
      if (channel != null) {
        channel.close();
      }
      if (cluster != null) {
        cluster.stop(30_000);
      }
      throw e;
    }
  }

  private static GatewayRuntime attach(RayConfig config, Map<String, String> env) {
    if (config.tokenFromEnv == null) {
      throw new RayException(
          "Attaching to session at "
              + config.attach.sessionAddress
              + " needs the cluster token in "
              + RayConfig.TOKEN_ENV
              + ".");
    }
    GatewayChannel channel =
        new GatewayChannel(config.attach.sessionAddress, config.tokenFromEnv, config.rpcTimeoutMs);
    String ns =
        env.getOrDefault(RayConfig.NAMESPACE_ENV, config.namespace == null ? "" : config.namespace);
    GatewayRuntime runtime =
        new GatewayRuntime(
            config,
            null,
            true,
            channel,
            ByteString.copyFrom(config.attach.sessionId),
            JobId.fromBytes(config.attach.jobId),
            ns,
            UniqueId.NIL);
    runtime.startBackground();
    return runtime;
  }

  private void startBackground() {
    if (keepAlive != null) {
      keepAlive.start();
    }
    scheduler.scheduleWithFixedDelay(this::flushReferences, 100, 100, TimeUnit.MILLISECONDS);
    scheduler.scheduleWithFixedDelay(pipeline::checkLiveness, 1, 1, TimeUnit.SECONDS);
  }

  private void flushReferences() {
    try {
      tracker.flush();
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "flushing reference counts", e);
    }
  }

  private void ensureAlive() {
    if (shutDown) {
      throw new RayException("This Ray runtime was shut down; call Ray.init() again.");
    }
    RayException lost = sessionLost;
    if (lost != null) {
      throw new RayException(lost.getMessage(), lost);
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  @Override
  public void shutdown() {
    if (shutDown) {
      return;
    }
    shutDown = true;
    try {
      pipeline.close(Math.min(config.rpcTimeoutMs, 10_000));
      if (attached) {
        tracker.flush();
      }
      tracker.close();
      if (keepAlive != null) {
        keepAlive.close();
      }
      if (!attached && sessionLost == null) {
        try {
          client.closeSession();
        } catch (RayException e) {
          LOG.warning("Closing the session failed: " + e.getMessage());
        }
      }
    } finally {
      scheduler.shutdownNow();
      channel.close();
      if (localCluster != null && !localCluster.stop(60_000)) {
        LOG.warning("The local cluster did not stop in time and was killed.");
      }
    }
  }

  /**
   * Tells whether this runtime attached to an existing session (a Java worker) instead of opening
   * one.
   *
   * @return True when attached.
   */
  public boolean isAttached() {
    return attached;
  }

  /**
   * Returns the local cluster this runtime started, if any.
   *
   * @return The cluster.
   */
  public Optional<LocalCluster> localCluster() {
    return Optional.ofNullable(localCluster);
  }

  // ---- objects --------------------------------------------------------------------------------

  @Override
  public <T> ObjectRef<T> put(T obj) {
    ensureAlive();
    EncodedValue encoded = FrameCodec.encode(obj);
    return putEncoded(encoded, ValueTypes.shapeOf(obj));
  }

  private <T> ObjectRefImpl<T> putEncoded(EncodedValue encoded, Type type) {
    if (!encoded.nestedRefs().isEmpty()) {
      pipeline.awaitAccepted(pipeline.lastSeq(), config.rpcTimeoutMs);
    }
    ObjectId id = ids.nextPutId();
    client.put(id, encoded.frame(), encoded.nestedRefs());
    ObjectRefImpl<T> ref = tracker.register(new ObjectRefImpl<>(id, type, 0));
    LocalFrames.keep(ref, encoded.frame(), !encoded.nestedRefs().isEmpty());
    return ref;
  }

  @Override
  public <T> ObjectRef<T> put(T obj, BaseActorHandle owner) {
    throw new RayException(
        "Ray.put(obj, owner) is not supported by the client gateway yet: use Ray.put(obj).");
  }

  @Override
  public <T> T get(ObjectRef<T> objectRef) {
    return get(objectRef, -1);
  }

  @Override
  public <T> T get(ObjectRef<T> objectRef, long timeoutMs) {
    return get(List.of(objectRef), timeoutMs).get(0);
  }

  @Override
  public <T> List<T> get(List<ObjectRef<T>> objectRefs) {
    return get(objectRefs, -1);
  }

  @Override
  public <T> List<T> get(List<ObjectRef<T>> objectRefs, long timeoutMs) {
    ensureAlive();
    long deadline =
        timeoutMs < 0
            ? Long.MAX_VALUE
            : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    List<ObjectRefImpl<T>> refs = new ArrayList<>(objectRefs.size());
    for (ObjectRef<T> ref : objectRefs) {
      refs.add(impl(ref));
    }
    if (refs.isEmpty()) {
      return new ArrayList<>();
    }
    // Values kept by their references (small, without references inside) need no request.
    Map<ObjectId, byte[]> local = new HashMap<>();
    long remoteMaxSeq = 0;
    for (ObjectRefImpl<T> ref : refs) {
      byte[] kept = ref.localFrame();
      if (kept != null) {
        local.put(ref.getId(), kept);
      } else {
        remoteMaxSeq = Math.max(remoteMaxSeq, ref.getSubmitSeq());
      }
    }
    // One request for the distinct ids; duplicates map back to the same frame.
    Map<ObjectId, Integer> positions = new HashMap<>();
    List<ObjectId> distinct = new ArrayList<>();
    for (ObjectRefImpl<T> ref : refs) {
      if (!local.containsKey(ref.getId())
          && positions.putIfAbsent(ref.getId(), distinct.size()) == null) {
        distinct.add(ref.getId());
      }
    }
    byte[][] frames = new byte[0][];
    if (!distinct.isEmpty()) {
      frames = takeStreamed(distinct, timeoutMs);
      if (frames == null) {
        frames = fetch(distinct, remoteMaxSeq, timeoutMs, deadline);
      }
    }
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    List<T> values = new ArrayList<>(refs.size());
    boolean[] counted = new boolean[distinct.size()];
    for (ObjectRefImpl<T> ref : refs) {
      byte[] kept = local.get(ref.getId());
      if (kept != null) {
        values.add((T) FrameCodec.decode(kept, ref.getType(), loader, ref.getId()));
        continue;
      }
      int position = positions.get(ref.getId());
      byte[] frame = frames[position];
      int format = FrameCodec.formatOf(frame);
      // Frames of other languages' own formats may hold references: those are not kept.
      LocalFrames.keep(
          ref,
          frame,
          format != FrameCodec.XLANG && format != FrameCodec.RAW && format != FrameCodec.ERROR);
      if (counted[position]) {
        // A duplicate: the session counted the references inside this value once.
        values.add((T) FrameCodec.decode(frame, ref.getType(), loader, ref.getId()));
      } else {
        counted[position] = true;
        values.add(
            (T)
                ReferenceTracker.decodingGetResult(
                    () -> FrameCodec.decode(frame, ref.getType(), loader, ref.getId())));
      }
    }
    return values;
  }

  /**
   * Takes the values that come back on the Submit stream, when every one was asked for there;
   * waits for them at most {@link #STREAM_RESULT_WAIT_MS} (and at most the get's timeout).
   *
   * @return The frames in the order of {@code ids}, or null: read them with Get.
   */
  private byte[][] takeStreamed(List<ObjectId> ids, long timeoutMs) {
    long waitMs = timeoutMs < 0 ? STREAM_RESULT_WAIT_MS : Math.min(STREAM_RESULT_WAIT_MS, timeoutMs);
    byte[][] frames = new byte[ids.size()][];
    ResultCache cache = pipeline.results();
    try {
      if (cache.take(ids, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs), frames)
          == ResultCache.Outcome.TAKEN) {
        return frames;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RayException("Interrupted while waiting for task results", e);
    }
    cache.forget(ids);
    return null;
  }

  /**
   * Gets frames from the session owner. When the submissions that make them are not acknowledged
   * yet, the Get goes at once anyway: the owner waits for ids still on their way (on the Submit
   * stream), so a task's result costs one round trip less. A submission that fails meanwhile
   * cancels the Get and its failure is thrown; a Get that the owner could not match with the
   * submissions (they were slower than its wait) is asked again once they are acknowledged.
   */
  private byte[][] fetch(List<ObjectId> ids, long seq, long timeoutMs, long deadline) {
    throwSubmitFailure(ids);
    if (seq <= pipeline.acceptedSeq()) {
      return client.get(ids, timeoutMs < 0 ? -1 : remainingMs(deadline));
    }
    GatewayClient.Cancellation cancel = new GatewayClient.Cancellation();
    Runnable unwatch = pipeline.watchFailures(ids, cancel::request);
    try {
      return client.get(ids, timeoutMs < 0 ? -1 : remainingMs(deadline), cancel);
    } catch (RayException e) {
      throwSubmitFailure(ids);
      if (e instanceof io.ray.api.exception.RayTimeoutException || cancel.isRequested()) {
        throw e;
      }
      awaitSubmitted(seq, deadline);
      throwSubmitFailure(ids);
      return client.get(ids, timeoutMs < 0 ? -1 : remainingMs(deadline));
    } finally {
      unwatch.run();
    }
  }

  private void throwSubmitFailure(List<ObjectId> ids) {
    for (ObjectId id : ids) {
      RayException failed = pipeline.failureOf(id);
      if (failed != null) {
        throw failed;
      }
    }
  }

  @Override
  public <T> WaitResult<T> wait(
      List<ObjectRef<T>> waitList, int numReturns, int timeoutMs, boolean fetchLocal) {
    ensureAlive();
    if (numReturns < 0 || numReturns > waitList.size()) {
      throw new IllegalArgumentException(
          "numReturns must be between 0 and the number of references ("
              + waitList.size()
              + "), got "
              + numReturns);
    }
    boolean unbounded = timeoutMs < 0 || timeoutMs == Integer.MAX_VALUE;
    long deadline =
        unbounded ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    List<ObjectRefImpl<T>> refs = new ArrayList<>();
    java.util.Set<ObjectId> seen = new java.util.HashSet<>();
    long maxSeq = 0;
    for (ObjectRef<T> ref : waitList) {
      ObjectRefImpl<T> impl = impl(ref);
      if (!seen.add(impl.getId())) {
        throw new IllegalArgumentException(
            "Ray.wait needs distinct references; " + impl + " appears twice in the list.");
      }
      refs.add(impl);
      maxSeq = Math.max(maxSeq, impl.getSubmitSeq());
    }
    boolean[] ready = new boolean[refs.size()];
    int numReady = 0;
    if (numReturns > 0) {
      awaitSubmitted(maxSeq, deadline);
      // Objects whose submission failed are ready: get() throws their error at once.
      List<Integer> asked = new ArrayList<>();
      List<ObjectId> askedIds = new ArrayList<>();
      for (int i = 0; i < refs.size(); i++) {
        if (pipeline.failureOf(refs.get(i).getId()) != null) {
          ready[i] = true;
          numReady++;
        } else {
          asked.add(i);
          askedIds.add(refs.get(i).getId());
        }
      }
      while (numReady < numReturns && !askedIds.isEmpty()) {
        long waitMs = unbounded ? UNBOUNDED_WAIT_SLICE_MS : remainingMs(deadline);
        List<Integer> readyPositions =
            client.waitOnce(
                askedIds, Math.min(numReturns - numReady, askedIds.size()), waitMs, fetchLocal);
        int before = numReady;
        for (int p : readyPositions) {
          if (!ready[asked.get(p)]) {
            ready[asked.get(p)] = true;
            numReady++;
          }
        }
        if (!unbounded || numReady >= numReturns) {
          break;
        }
        if (numReady > before) {
          List<Integer> stillAsked = new ArrayList<>();
          List<ObjectId> stillIds = new ArrayList<>();
          for (int i = 0; i < asked.size(); i++) {
            if (!ready[asked.get(i)]) {
              stillAsked.add(asked.get(i));
              stillIds.add(askedIds.get(i));
            }
          }
          asked = stillAsked;
          askedIds = stillIds;
        }
      }
    }
    List<ObjectRef<T>> readyRefs = new ArrayList<>();
    List<ObjectRef<T>> unreadyRefs = new ArrayList<>();
    for (int i = 0; i < refs.size(); i++) {
      if (ready[i] && readyRefs.size() < numReturns) {
        readyRefs.add(refs.get(i));
      } else {
        unreadyRefs.add(refs.get(i));
      }
    }
    return new WaitResult<>(readyRefs, unreadyRefs);
  }

  private void awaitSubmitted(long seq, long deadlineNanos) {
    if (seq > pipeline.acceptedSeq()) {
      long budget =
          deadlineNanos == Long.MAX_VALUE
              ? config.rpcTimeoutMs * 2
              : Math.max(remainingMs(deadlineNanos), 1);
      pipeline.awaitAccepted(seq, budget);
    }
  }

  private static long remainingMs(long deadlineNanos) {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
  }

  private static <T> ObjectRefImpl<T> impl(ObjectRef<T> ref) {
    if (ref instanceof ObjectRefImpl) {
      return (ObjectRefImpl<T>) ref;
    }
    throw new IllegalArgumentException(
        "Not an ObjectRef of this runtime: "
            + (ref == null ? "null" : ref.getClass().getName())
            + ". Use references returned by Ray.put and remote calls.");
  }

  @Override
  public void registerDeserialized(ObjectRefImpl<?> ref) {
    if (!shutDown) {
      tracker.registerDeserialized(ref);
    }
  }

  // ---- tasks ----------------------------------------------------------------------------------

  @Override
  public ObjectRef call(RayFunc func, Object[] args, CallOptions options) {
    ensureAlive();
    JavaFunction f = JavaFunction.of(func);
    if (!f.isStatic || f.isConstructor) {
      throw new RayException(
          "Ray.task needs a static method or a non-capturing lambda, got "
              + f
              + ". Call instance methods on an actor: Ray.actor(...).remote().task(...).");
    }
    FunctionDescriptor descriptor = javaDescriptor(f);
    return submitTask(
        descriptor,
        args,
        options,
        f.numReturns,
        f.returnType,
        "task " + f.className + "." + f.methodName);
  }

  @Override
  public ObjectRef call(PyFunction pyFunction, Object[] args, CallOptions options) {
    ensureAlive();
    FunctionDescriptor descriptor =
        FunctionDescriptor.newBuilder()
            .setLanguage(Language.LANGUAGE_PYTHON)
            .setModuleName(pyFunction.moduleName)
            .setFunctionName(pyFunction.functionName)
            .build();
    return submitTask(
        descriptor,
        args,
        options,
        1,
        pyFunction.returnType,
        "Python task " + pyFunction.moduleName + "." + pyFunction.functionName);
  }

  private ObjectRef submitTask(
      FunctionDescriptor descriptor,
      Object[] args,
      CallOptions options,
      int numReturns,
      Type returnType,
      String description) {
    List<Object> keepAlive = new ArrayList<>();
    List<TaskArg> taskArgs = encodeArgs(args, keepAlive);
    TaskId taskId = ids.nextTaskId();
    SubmitTaskRequest request =
        SubmitTaskRequest.newBuilder()
            .setSessionId(sessionId)
            .setFunction(descriptor)
            .addAllArgs(taskArgs)
            .setOptions(ProtoOptions.taskOptions(options, numReturns))
            .setTaskId(GatewayBytes.of(taskId.getBytes()))
            .build();
    List<ObjectId> returnIds = Arrays.asList(IdMaker.returnIds(taskId, numReturns));
    long seq =
        pipeline.submit(
            withResults(SubmitItem.newBuilder().setTask(request), returnIds),
            returnIds,
            description,
            keepAlive);
    return numReturns == 0
        ? null
        : tracker.register(new ObjectRefImpl<>(returnIds.get(0), returnType, seq));
  }

  /**
   * Asks for the item's return value on the Submit stream while few are on their way. Not for Java
   * code running in a task: its get must go to the session owner, whose blocked get lends the
   * task's CPUs to the tasks it waits for.
   */
  private SubmitItem withResults(SubmitItem.Builder item, List<ObjectId> returnIds) {
    if (returnIds.size() == 1
        && !attached
        && pipeline.results().expect(returnIds.get(0), MAX_STREAM_RESULTS)) {
      item.setReturnResults(true);
    }
    return item.build();
  }

  private List<TaskArg> encodeArgs(Object[] args, List<Object> keepAlive) {
    List<TaskArg> out = new ArrayList<>(args.length);
    for (Object arg : args) {
      if (arg instanceof ObjectRef) {
        ObjectRefImpl<?> ref = impl((ObjectRef<?>) arg);
        keepAlive.add(ref);
        out.add(TaskArg.newBuilder().setObjectRef(reference(ref.getId())).build());
        continue;
      }
      EncodedValue encoded = FrameCodec.encode(arg);
      if (encoded.frame().length > INLINE_ARG_LIMIT) {
        ObjectRefImpl<?> ref = putEncoded(encoded, null);
        keepAlive.add(ref);
        out.add(TaskArg.newBuilder().setObjectRef(reference(ref.getId())).build());
        continue;
      }
      TaskArg.Builder b = TaskArg.newBuilder().setInlineData(GatewayBytes.of(encoded.frame()));
      for (ObjectId nested : encoded.nestedRefs()) {
        b.addNestedRefs(reference(nested));
      }
      out.add(b.build());
    }
    return out;
  }

  private static io.ray.rpc.ObjectReference reference(ObjectId id) {
    return io.ray.rpc.ObjectReference.newBuilder()
        .setObjectId(GatewayBytes.of(id.getBytes()))
        .build();
  }

  private static FunctionDescriptor javaDescriptor(JavaFunction f) {
    return FunctionDescriptor.newBuilder()
        .setLanguage(Language.LANGUAGE_JAVA)
        .setClassName(f.className)
        .setFunctionName(f.methodName)
        .setSignature(f.signature)
        .build();
  }

  // ---- actors ---------------------------------------------------------------------------------

  @Override
  public <T> ActorHandle<T> createActor(
      RayFunc actorFactoryFunc, Object[] args, ActorCreationOptions options) {
    ensureAlive();
    JavaFunction f = JavaFunction.of(actorFactoryFunc);
    if (!f.isStatic) {
      throw new RayException(
          "Ray.actor needs a constructor (MyActor::new) or a static factory method, got "
              + f
              + ".");
    }
    StartActorReply reply = startActor(javaDescriptor(f), args, options);
    String className = reply.getActorClass().getClassName();
    if (className.isEmpty()) {
      className = f.isConstructor ? f.className : rawName(f.returnType, f.className);
    }
    return new ActorHandleImpl<>(ActorId.fromBytes(reply.getActorId().toByteArray()), className);
  }

  @Override
  public PyActorHandle createActor(
      PyActorClass pyActorClass, Object[] args, ActorCreationOptions options) {
    ensureAlive();
    FunctionDescriptor descriptor =
        FunctionDescriptor.newBuilder()
            .setLanguage(Language.LANGUAGE_PYTHON)
            .setModuleName(pyActorClass.moduleName)
            .setClassName(pyActorClass.className)
            .build();
    StartActorReply reply = startActor(descriptor, args, options);
    return new PyActorHandleImpl(
        ActorId.fromBytes(reply.getActorId().toByteArray()),
        pyActorClass.moduleName,
        pyActorClass.className);
  }

  private StartActorReply startActor(
      FunctionDescriptor descriptor, Object[] args, ActorCreationOptions options) {
    List<Object> keepAlive = new ArrayList<>();
    List<TaskArg> taskArgs = encodeArgs(args, keepAlive);
    // The owner must know every object the arguments name: wait for earlier submissions.
    pipeline.awaitAccepted(pipeline.lastSeq(), config.rpcTimeoutMs);
    StartActorRequest request =
        StartActorRequest.newBuilder()
            .setActorClass(descriptor)
            .addAllArgs(taskArgs)
            .setOptions(ProtoOptions.actorOptions(options))
            .setActorId(GatewayBytes.of(ids.nextActorId().getBytes()))
            .build();
    StartActorReply reply = client.startActor(request);
    if (reply.getActorId().size() != ActorId.LENGTH) {
      throw new RayException(
          "StartActor returned an actor id of "
              + reply.getActorId().size()
              + " bytes, expected "
              + ActorId.LENGTH
              + ". This is a bug of the gateway.");
    }
    // The argument references stay reachable until the owner took the actor's arguments.
    java.lang.ref.Reference.reachabilityFence(keepAlive);
    return reply;
  }

  private static String rawName(Type type, String fallback) {
    if (type instanceof Class) {
      return ((Class<?>) type).getName();
    }
    if (type instanceof java.lang.reflect.ParameterizedType) {
      return rawName(((java.lang.reflect.ParameterizedType) type).getRawType(), fallback);
    }
    return fallback;
  }

  @Override
  public ObjectRef callActor(
      ActorHandle<?> actor, RayFunc func, Object[] args, CallOptions options) {
    ensureAlive();
    JavaFunction f = JavaFunction.of(func);
    if (f.isStatic) {
      throw new RayException(
          "An actor call needs an instance method reference (MyActor::method), got the static "
              + f
              + ".");
    }
    String actorName =
        actor instanceof ActorHandleImpl
            ? ((ActorHandleImpl<?>) actor).getClassName()
            : f.className;
    return callActor(
        actor.getId(),
        javaDescriptor(f),
        args,
        f.numReturns,
        f.returnType,
        options.getName(),
        "call of " + actorName + "." + f.methodName);
  }

  @Override
  public ObjectRef callActor(PyActorHandle pyActor, PyActorMethod pyActorMethod, Object[] args) {
    ensureAlive();
    FunctionDescriptor method =
        FunctionDescriptor.newBuilder()
            .setLanguage(Language.LANGUAGE_PYTHON)
            .setFunctionName(pyActorMethod.methodName)
            .build();
    return callActor(
        pyActor.getId(),
        method,
        args,
        1,
        pyActorMethod.returnType,
        null,
        "call of Python actor " + pyActor.getClassName() + "." + pyActorMethod.methodName);
  }

  private ObjectRef callActor(
      ActorId actorId,
      FunctionDescriptor method,
      Object[] args,
      int numReturns,
      Type returnType,
      String name,
      String description) {
    List<Object> keepAlive = new ArrayList<>();
    List<TaskArg> taskArgs = encodeArgs(args, keepAlive);
    TaskId taskId = ids.nextTaskId();
    CallActorRequest.Builder request =
        CallActorRequest.newBuilder()
            .setSessionId(sessionId)
            .setActorId(GatewayBytes.of(actorId.getBytes()))
            .setMethod(method)
            .addAllArgs(taskArgs)
            .setNumReturns(numReturns)
            .setTaskId(GatewayBytes.of(taskId.getBytes()));
    if (name != null) {
      request.setName(name);
    }
    List<ObjectId> returnIds = Arrays.asList(IdMaker.returnIds(taskId, numReturns));
    long seq =
        pipeline.submit(
            withResults(SubmitItem.newBuilder().setActorCall(request), returnIds),
            returnIds,
            description,
            keepAlive);
    return numReturns == 0
        ? null
        : tracker.register(new ObjectRefImpl<>(returnIds.get(0), returnType, seq));
  }

  @Override
  public <T extends BaseActorHandle> Optional<T> getActor(String name, String namespace) {
    ensureAlive();
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("The actor name must not be empty.");
    }
    Optional<LookupActorReply> found = client.lookupActor(name, namespace);
    if (!found.isPresent()) {
      return Optional.empty();
    }
    LookupActorReply reply = found.get();
    ActorId actorId = ActorId.fromBytes(reply.getActorId().toByteArray());
    FunctionDescriptor cls = reply.getActorClass();
    switch (cls.getLanguage()) {
      case LANGUAGE_JAVA:
        return Optional.of((T) new ActorHandleImpl<>(actorId, cls.getClassName()));
      case LANGUAGE_PYTHON:
        return Optional.of(
            (T) new PyActorHandleImpl(actorId, cls.getModuleName(), cls.getClassName()));
      default:
        return Optional.of(
            (T)
                new OtherActorHandle(
                    actorId, cls.getLanguage() + " actor " + cls.getFunctionName()));
    }
  }

  @Override
  public void killActor(BaseActorHandle actor, boolean noRestart) {
    ensureAlive();
    // Calls made before the kill reach the owner first (they then fail as calls on a dead actor).
    pipeline.awaitAccepted(pipeline.lastSeq(), config.rpcTimeoutMs);
    client.stopActor(actor.getId(), noRestart);
  }

  // ---- context --------------------------------------------------------------------------------

  @Override
  public RuntimeContext getRuntimeContext() {
    return new RuntimeContextImpl(jobId, namespace, nodeId);
  }

  @Override
  public Object getAsyncContext() {
    return this;
  }

  @Override
  public void setAsyncContext(Object asyncContext) {
    // Every thread may use the API: there is no per-thread context to set.
  }

  @Override
  public Runnable wrapRunnable(Runnable runnable) {
    return runnable;
  }

  @Override
  public <T> Callable<T> wrapCallable(Callable<T> callable) {
    return callable;
  }

  @Override
  public void exitActor() {
    throw new RayException(
        "Ray.exitActor() can only be called inside an actor; this JVM is a client driver.");
  }

  @Override
  public String getNamespace() {
    return namespace;
  }

  /**
   * Returns the session id.
   *
   * @return The id's bytes.
   */
  public byte[] sessionId() {
    return sessionId.toByteArray();
  }

  /** Wraps byte arrays without copying (ids and frames are never modified once made). */
  private static final class GatewayBytes {
    static ByteString of(byte[] b) {
      return com.google.protobuf.UnsafeByteOperations.unsafeWrap(b);
    }
  }
}
