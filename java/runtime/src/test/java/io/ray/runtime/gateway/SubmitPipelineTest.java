package io.ray.runtime.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTimeoutException;
import io.ray.api.id.JobId;
import io.ray.api.id.ObjectId;
import io.ray.api.id.TaskId;
import io.ray.rpc.SubmitItem;
import io.ray.rpc.SubmitReply;
import io.ray.rpc.SubmitRequest;
import io.ray.rpc.SubmitResult;
import io.ray.rpc.SubmitTaskRequest;
import io.ray.runtime.id.IdMaker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The client's bookkeeping of the Submit stream: sequence numbers, acknowledgements, resending
 * after a broken stream, and failing items. The stream here is a scripted stand-in that records
 * what the client sends and answers as the test says; it tests the pipeline, not a gateway.
 */
@Timeout(60)
class SubmitPipelineTest {
  private final IdMaker ids = new IdMaker(JobId.fromInt(3));
  private final List<ScriptedStream> streams = new CopyOnWriteArrayList<>();
  private SubmitPipeline pipeline;

  /** One opened stream: what the client sent, and the reply side to answer on. */
  private static final class ScriptedStream implements StreamObserver<SubmitRequest> {
    final StreamObserver<SubmitReply> replies;
    final List<TaskId> received = new CopyOnWriteArrayList<>();
    volatile boolean completed;

    ScriptedStream(StreamObserver<SubmitReply> replies) {
      this.replies = replies;
    }

    @Override
    public void onNext(SubmitRequest request) {
      for (SubmitItem item : request.getItemsList()) {
        received.add(TaskId.fromBytes(item.getTask().getTaskId().toByteArray()));
      }
    }

    @Override
    public void onError(Throwable t) {
      // The client cancelled: gRPC tells the reply observer.
      replies.onError(Status.CANCELLED.withDescription(t.getMessage()).asRuntimeException());
    }

    @Override
    public void onCompleted() {
      completed = true;
    }

    void accept(long numAccepted) {
      replies.onNext(SubmitReply.newBuilder().setNumAccepted(numAccepted).build());
    }

    void fail(Status status) {
      replies.onError(status.asRuntimeException());
    }
  }

  private SubmitPipeline newPipeline(long rpcTimeoutMs) {
    pipeline =
        new SubmitPipeline(
            replies -> {
              ScriptedStream s = new ScriptedStream(replies);
              streams.add(s);
              return s;
            },
            "127.0.0.1:1",
            rpcTimeoutMs);
    pipeline.setOnVoidFailure(message -> {});
    return pipeline;
  }

  @AfterEach
  void closePipeline() {
    if (pipeline != null) {
      pipeline.close(10);
    }
  }

  private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  private final List<TaskId> submitted = new ArrayList<>();

  private long submit() {
    TaskId taskId = ids.nextTaskId();
    submitted.add(taskId);
    SubmitItem item =
        SubmitItem.newBuilder()
            .setTask(
                SubmitTaskRequest.newBuilder().setTaskId(ByteString.copyFrom(taskId.getBytes())))
            .build();
    return pipeline.submit(
        item, List.of(IdMaker.objectId(taskId, 1)), "task #" + submitted.size(), null);
  }

  private ObjectId returnOf(int i) {
    return IdMaker.objectId(submitted.get(i), 1);
  }

  @Test
  void itemsAreSentInOrderAndAcceptedByReplies() throws InterruptedException {
    newPipeline(10_000);
    for (int i = 0; i < 5; i++) {
      assertEquals(i + 1, submit());
    }
    waitFor(() -> streams.size() == 1 && streams.get(0).received.size() == 5, "5 items sent");
    assertEquals(submitted, streams.get(0).received);
    assertEquals(0, pipeline.acceptedSeq());
    streams.get(0).accept(3);
    assertEquals(3, pipeline.acceptedSeq());
    pipeline.awaitAccepted(3, 10);
    assertThrows(RayTimeoutException.class, () -> pipeline.awaitAccepted(5, 50));
    streams.get(0).accept(5);
    pipeline.awaitAccepted(5, 1000);
    assertEquals(5, pipeline.lastSeq());
  }

  @Test
  void aBrokenStreamIsReopenedAndUnacknowledgedItemsAreResent() throws InterruptedException {
    newPipeline(10_000);
    for (int i = 0; i < 4; i++) {
      submit();
    }
    waitFor(() -> streams.size() == 1 && streams.get(0).received.size() == 4, "4 items sent");
    streams.get(0).accept(2);
    streams.get(0).fail(Status.UNAVAILABLE);
    waitFor(() -> streams.size() == 2 && streams.get(1).received.size() == 2, "2 items resent");
    assertEquals(submitted.subList(2, 4), streams.get(1).received);
    // num_accepted counts from the new stream's start.
    streams.get(1).accept(2);
    assertEquals(4, pipeline.acceptedSeq());
    for (int i = 0; i < 4; i++) {
      assertNull(pipeline.failureOf(returnOf(i)));
    }
  }

  @Test
  void invalidArgumentFailsTheFirstUnacknowledgedItemOnly() throws InterruptedException {
    newPipeline(10_000);
    for (int i = 0; i < 3; i++) {
      submit();
    }
    waitFor(() -> streams.size() == 1 && streams.get(0).received.size() == 3, "3 items sent");
    streams.get(0).accept(1);
    streams.get(0).fail(Status.INVALID_ARGUMENT.withDescription("bad option"));
    waitFor(() -> streams.size() == 2 && streams.get(1).received.size() == 1, "the rest resent");
    assertEquals(List.of(submitted.get(2)), streams.get(1).received);
    assertNull(pipeline.failureOf(returnOf(0)));
    RayException failure = pipeline.failureOf(returnOf(1));
    assertNotNull(failure);
    assertTrue(failure.getMessage().contains("task #2 was not submitted"), failure.getMessage());
    assertTrue(failure.getMessage().contains("bad option"), failure.getMessage());
    assertEquals(2, pipeline.acceptedSeq());
    streams.get(1).accept(1);
    assertEquals(3, pipeline.acceptedSeq());
    assertNull(pipeline.failureOf(returnOf(2)));
  }

  @Test
  void failureWatchesRunForTheirObjectsOnly() throws InterruptedException {
    newPipeline(10_000);
    for (int i = 0; i < 3; i++) {
      submit();
    }
    java.util.concurrent.atomic.AtomicInteger second =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger third =
        new java.util.concurrent.atomic.AtomicInteger();
    Runnable unwatchSecond = pipeline.watchFailures(List.of(returnOf(1)), second::incrementAndGet);
    Runnable unwatchThird = pipeline.watchFailures(List.of(returnOf(2)), third::incrementAndGet);
    waitFor(() -> streams.size() == 1 && streams.get(0).received.size() == 3, "3 items sent");
    streams.get(0).accept(1);
    streams.get(0).fail(Status.INVALID_ARGUMENT.withDescription("bad option"));
    waitFor(() -> second.get() == 1, "the watch of the failed item");
    assertEquals(0, third.get());
    // A watch made after the failure runs at once; one removed never runs.
    java.util.concurrent.atomic.AtomicInteger late =
        new java.util.concurrent.atomic.AtomicInteger();
    pipeline.watchFailures(List.of(returnOf(1)), late::incrementAndGet).run();
    assertEquals(1, late.get());
    unwatchSecond.run();
    unwatchThird.run();
    waitFor(() -> streams.size() == 2, "the rest resent");
    streams.get(1).fail(Status.INVALID_ARGUMENT.withDescription("bad again"));
    waitFor(() -> pipeline.failureOf(returnOf(2)) != null, "the third item failed");
    assertEquals(0, third.get());
  }

  @Test
  void returnValuesOnTheStreamReachTheCacheAndALostStreamOrFailedItemEndsTheWait()
      throws InterruptedException {
    newPipeline(10_000);
    ResultCache results = pipeline.results();
    for (int i = 0; i < 3; i++) {
      submit();
      assertTrue(results.expect(returnOf(i), 4));
    }
    waitFor(() -> streams.size() == 1 && streams.get(0).received.size() == 3, "3 items sent");
    streams
        .get(0)
        .replies
        .onNext(
            SubmitReply.newBuilder()
                .setNumAccepted(3)
                .addResults(
                    SubmitResult.newBuilder()
                        .setObjectId(ByteString.copyFrom(returnOf(0).getBytes()))
                        .setFrame(ByteString.copyFromUtf8("zero")))
                .addResults(
                    SubmitResult.newBuilder()
                        .setObjectId(ByteString.copyFrom(returnOf(1).getBytes()))
                        .setFetch(true))
                .build());
    byte[][] frames = new byte[1][];
    long soon = System.nanoTime() + 10_000_000_000L;
    assertEquals(
        ResultCache.Outcome.TAKEN, results.take(List.of(returnOf(0)), soon, frames));
    assertEquals("zero", new String(frames[0], java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(
        ResultCache.Outcome.ASK_GATEWAY,
        results.take(List.of(returnOf(1)), soon, new byte[1][]));
    // The stream breaks: the third value will not come on it.
    streams.get(0).fail(Status.UNAVAILABLE);
    assertEquals(
        ResultCache.Outcome.ASK_GATEWAY,
        results.take(List.of(returnOf(2)), soon, new byte[1][]));
    // An item whose submission fails ends a wait for its value at once.
    submit();
    assertTrue(results.expect(returnOf(3), 4));
    waitFor(() -> streams.size() == 2 && streams.get(1).received.size() == 1, "item 4 sent");
    streams.get(1).fail(Status.INVALID_ARGUMENT.withDescription("bad option"));
    assertEquals(
        ResultCache.Outcome.ASK_GATEWAY,
        results.take(List.of(returnOf(3)), soon, new byte[1][]));
    assertNotNull(pipeline.failureOf(returnOf(3)));
  }

  @Test
  void aLostSessionFailsEverythingNowAndLater() throws InterruptedException {
    newPipeline(10_000);
    submit();
    submit();
    waitFor(() -> streams.size() == 1 && streams.get(0).received.size() == 2, "2 items sent");
    streams.get(0).fail(Status.NOT_FOUND.withDescription("unknown session"));
    waitFor(() -> pipeline.acceptedSeq() == 2, "items resolved");
    assertTrue(pipeline.failureOf(returnOf(0)).getMessage().contains("unknown session"));
    assertNotNull(pipeline.failureOf(returnOf(1)));
    submit();
    assertNotNull(pipeline.failureOf(returnOf(2)));
    assertEquals(3, pipeline.acceptedSeq());
    assertEquals(1, streams.size(), "no stream is opened for a lost session");
  }

  @Test
  void itemsFailAfterRetryingForTheRpcTimeout() throws InterruptedException {
    newPipeline(300);
    submit();
    long start = System.nanoTime();
    while (pipeline.acceptedSeq() < 1) {
      waitFor(() -> !streams.isEmpty(), "a stream");
      ScriptedStream s = streams.get(streams.size() - 1);
      waitFor(() -> !s.received.isEmpty() || pipeline.acceptedSeq() >= 1, "a send");
      if (pipeline.acceptedSeq() >= 1) {
        break;
      }
      s.fail(Status.UNAVAILABLE.withDescription("connection refused"));
      waitFor(() -> streams.get(streams.size() - 1) != s || pipeline.acceptedSeq() >= 1, "a retry");
    }
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    assertTrue(elapsedMs >= 300, "gave up after " + elapsedMs + " ms");
    assertTrue(streams.size() > 1, "retried on new streams");
    RayException failure = pipeline.failureOf(returnOf(0));
    assertNotNull(failure);
    assertTrue(failure.getMessage().contains("unreachable"), failure.getMessage());
  }

  @Test
  void aSilentStreamIsCancelledAndItsItemsResent() throws InterruptedException {
    newPipeline(200);
    submit();
    waitFor(() -> streams.size() == 1 && streams.get(0).received.size() == 1, "1 item sent");
    Thread.sleep(250);
    pipeline.checkLiveness();
    waitFor(() -> streams.size() == 2 && streams.get(1).received.size() == 1, "the item resent");
    streams.get(1).accept(1);
    assertEquals(1, pipeline.acceptedSeq());
  }

  @Test
  void closeWaitsForAcknowledgementsThenEndsTheStream() throws InterruptedException {
    newPipeline(10_000);
    submit();
    waitFor(() -> streams.size() == 1 && streams.get(0).received.size() == 1, "1 item sent");
    Thread closer = new Thread(() -> pipeline.close(5000));
    closer.start();
    Thread.sleep(50);
    assertTrue(closer.isAlive(), "close did not wait for the acknowledgement");
    streams.get(0).accept(1);
    closer.join(5000);
    waitFor(() -> streams.get(0).completed, "the stream to be half-closed");
    submit();
    assertNotNull(pipeline.failureOf(returnOf(1)), "items after close fail at once");
    pipeline = null;
  }
}
