"""The one place where gRPC status codes become the runtime's exceptions.

Every client in this package converts a failed call with `from_grpc`, so no
`grpc.RpcError` leaves the rpc layer: callers catch `RpcFailure` (or one of its
kinds below), and users see a `ray.exceptions.RpcError`, which is a `RayError`,
whose message names the service, its address and what to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import grpc

from ray import exceptions as rex

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Longest message echoed from a peer: an error must stay readable (and small).
MAX_DETAILS_CHARS = 500


class RpcFailure(rex.RpcError):
    """A call to another runtime process failed.

    Attributes:
        code: The gRPC status code.
        details: What the peer (or gRPC) said, cut to a readable length.
        service: Which service was called ("GCS", "node manager", "core worker", ...).
        target: The address called.
    """

    def __init__(
        self, code: grpc.StatusCode, details: str, service: str = "", target: str = ""
    ) -> None:
        self.code = code
        self.details = shorten(details)
        self.service = service
        self.target = target
        super().__init__(self._message(), rpc_code=code.value[0])

    def _message(self) -> str:
        where = f"the {self.service} at {self.target}" if self.service else self.target or "a peer"
        return f"{where} failed: {self.code.name}: {self.details}"


class Unavailable(RpcFailure, ConnectionError):
    """The peer cannot be reached (not running, or the connection broke)."""

    def _message(self) -> str:
        where = f"the {self.service} at {self.target}" if self.service else self.target
        return (
            f"cannot reach {where} ({self.details}); the process may have exited or the cluster "
            "was stopped"
        )


class DeadlineExceeded(RpcFailure):
    """The peer did not answer in time."""


class NotFound(RpcFailure):
    """The peer does not know what the call named."""


class AlreadyExists(RpcFailure):
    """The call would create something that exists."""


class InvalidArgument(RpcFailure):
    """The peer refused a malformed request."""


class ResourceExhausted(RpcFailure):
    """The peer has no room (object store full, message too large)."""


class FailedPrecondition(RpcFailure):
    """The peer is not in a state to do this."""


class Unauthenticated(RpcFailure, ConnectionError):
    """The peer refused the cluster token."""

    def _message(self) -> str:
        where = f"the {self.service} at {self.target}" if self.service else self.target
        return (
            f"{where} refused the cluster token: connect with the token of that cluster "
            "(RAY_CLUSTER_TOKEN, or `ray start` on this machine records it)"
        )


class Unimplemented(RpcFailure, ConnectionError):
    """The peer does not serve this call: the address is not what the caller thought."""

    def _message(self) -> str:
        where = f"the {self.service}" if self.service else "the expected service"
        return (
            f"{self.target} does not serve {where} ({self.details}); check the address (for "
            "a cluster, give the GCS address that `ray start --head` printed)"
        )


class Cancelled(RpcFailure):
    """The call was cancelled (by us, or because the channel closed)."""


_KINDS: dict[grpc.StatusCode, type[RpcFailure]] = {
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.CANCELLED: Cancelled,
}


def shorten(text: str, limit: int = MAX_DETAILS_CHARS) -> str:
    """Cuts `text` to `limit` characters, saying how much was left out."""
    text = text or ""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def from_grpc(err: grpc.RpcError, service: str, target: str) -> RpcFailure:
    """The runtime's exception for a failed gRPC call."""
    if isinstance(err, RpcFailure):
        return err
    try:
        code = err.code()
        details = err.details() or ""
    except Exception:  # noqa: BLE001 - an RpcError that is not a Call
        code, details = grpc.StatusCode.UNKNOWN, str(err)
    return _KINDS.get(code, RpcFailure)(code, details, service, target)


def is_unreachable(err: BaseException) -> bool:
    """True if the error means the peer is gone (connection refused, reset, or closed)."""
    return isinstance(err, (Unavailable, Cancelled))


def call_with_retry(
    fn: Callable[[float], T],
    deadline_s: float,
    retry_unavailable: bool = True,
) -> T:
    """Calls `fn(seconds_left)` until it succeeds, retrying Unavailable with backoff until a deadline.

    Args:
        fn: Performs one attempt, given the seconds left; raises RpcFailure on failure.
        deadline_s: Total time allowed.
        retry_unavailable: Retry while the peer is unreachable.

    Returns:
        What `fn` returned.

    Raises:
        RpcFailure: The last failure, when not retryable or the deadline passed.
    """
    deadline = time.monotonic() + deadline_s
    backoff = 0.01
    while True:
        left = deadline - time.monotonic()
        try:
            return fn(max(left, 0.001))
        except Unavailable:
            if not retry_unavailable or time.monotonic() + backoff >= deadline:
                raise
            time.sleep(backoff)
            backoff = min(backoff * 2, 0.5)
