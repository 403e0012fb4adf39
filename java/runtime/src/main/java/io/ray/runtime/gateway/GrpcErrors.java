package io.ray.runtime.gateway;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTimeoutException;

/**
 * Maps gRPC failures of gateway calls to {@code io.ray.api.exception} types, with messages that say
 * what failed and what to do. The one place that knows the status codes of client_gateway.proto.
 */
public final class GrpcErrors {
  private GrpcErrors() {}

  /**
   * Maps a failure.
   *
   * @param error The gRPC failure.
   * @param what What the call did, e.g. "Get of 3 objects".
   * @param address Where it was sent.
   * @return The exception to throw.
   */
  public static RayException map(Throwable error, String what, String address) {
    Status status = Status.fromThrowable(error);
    String detail = status.getDescription() == null ? "" : ": " + status.getDescription();
    switch (status.getCode()) {
      case DEADLINE_EXCEEDED:
        return new RayTimeoutException(what + " timed out" + detail, error);
      case UNAVAILABLE:
        return new RayException(
            what
                + " failed: the cluster at "
                + address
                + " is unreachable"
                + detail
                + ". Is it running, and is the address right?",
            error);
      case UNAUTHENTICATED:
        return new RayException(
            what
                + " was refused by "
                + address
                + ": missing or wrong cluster token"
                + detail
                + ". Set RAY_CLUSTER_TOKEN to the token `ray start --head` printed.",
            error);
      case NOT_FOUND:
        return new RayException(what + " failed: not found" + detail, error);
      case ALREADY_EXISTS:
        return new RayException(what + " failed: already exists" + detail, error);
      case INVALID_ARGUMENT:
        return new RayException(what + " was rejected as invalid" + detail, error);
      case RESOURCE_EXHAUSTED:
        return new RayException(
            what + " failed: out of resources (the object store may be full)" + detail, error);
      case CANCELLED:
        return new RayException(what + " was cancelled" + detail, error);
      case UNIMPLEMENTED:
        return new RayException(
            what
                + " failed: "
                + address
                + " does not implement it"
                + detail
                + ". Is the address the cluster's GCS (ray.address), and do the versions match?",
            error);
      default:
        return new RayException(what + " failed with " + status.getCode() + detail, error);
    }
  }

  /**
   * Tells whether a failure is NOT_FOUND.
   *
   * @param error The failure.
   * @return True for NOT_FOUND.
   */
  public static boolean isNotFound(Throwable error) {
    return error instanceof StatusRuntimeException
        && ((StatusRuntimeException) error).getStatus().getCode() == Status.Code.NOT_FOUND;
  }

  /**
   * Returns the status code of a failure.
   *
   * @param error The failure.
   * @return Its code (UNKNOWN for a non-gRPC failure).
   */
  public static Status.Code code(Throwable error) {
    return Status.fromThrowable(error).getCode();
  }
}
