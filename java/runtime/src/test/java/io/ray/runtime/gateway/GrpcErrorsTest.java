package io.ray.runtime.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTimeoutException;
import org.junit.jupiter.api.Test;

/** gRPC statuses map to the API's exceptions with messages that say what to do. */
class GrpcErrorsTest {

  private static RayException map(Status status) {
    return GrpcErrors.map(status.asRuntimeException(), "Get of 2 objects", "127.0.0.1:1234");
  }

  @Test
  void deadlineExceededIsATimeout() {
    RayException e = map(Status.DEADLINE_EXCEEDED.withDescription("2 of 2 not ready"));
    assertTrue(e instanceof RayTimeoutException);
    assertTrue(
        e.getMessage().contains("Get of 2 objects timed out: 2 of 2 not ready"), e.getMessage());
  }

  @Test
  void otherCodesSayWhatToDo() {
    assertTrue(map(Status.UNAVAILABLE).getMessage().contains("127.0.0.1:1234 is unreachable"));
    assertTrue(map(Status.UNAUTHENTICATED).getMessage().contains("RAY_CLUSTER_TOKEN"));
    assertTrue(map(Status.RESOURCE_EXHAUSTED).getMessage().contains("object store"));
    assertTrue(
        map(Status.INVALID_ARGUMENT.withDescription("bad id")).getMessage().endsWith("bad id"));
    assertTrue(map(Status.UNIMPLEMENTED).getMessage().contains("ray.address"));
    for (Status s : new Status[] {Status.UNAVAILABLE, Status.NOT_FOUND, Status.INTERNAL}) {
      assertFalse(map(s) instanceof RayTimeoutException);
      assertEquals(RayException.class, map(s).getClass());
    }
    assertTrue(GrpcErrors.isNotFound(Status.NOT_FOUND.asRuntimeException()));
    assertFalse(GrpcErrors.isNotFound(Status.UNAVAILABLE.asRuntimeException()));
  }
}
