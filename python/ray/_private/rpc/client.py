"""The base of every typed client: deadlines, retries and error mapping in one place.

A client is built from an address and the cluster token. Its methods call
`_call` (blocking, with a deadline and optional retries while the peer is
unreachable) or `_call_async` (the reply or the failure goes to a callback on
gRPC's callback thread). Either way a failure is an `errors.RpcFailure`, never
a raw `grpc.RpcError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc

from ray._private.rpc import channels, errors

logger = logging.getLogger(__name__)

# Called with (reply, None) on success or (None, failure).
ReplyCallback = Callable[[Any, "errors.RpcFailure | None"], None]


class ServiceClient:
    """Talks to one service at one address.

    Subclasses set `SERVICE` (the name used in error messages) and `STUB`.
    """

    SERVICE = "service"
    STUB: Any = None

    def __init__(self, address: str, token: str, identity: bytes = b"") -> None:
        """`identity` names the process wanted at `address` (see `channels.ChannelPool`).

        The token names the cluster, so a service of an earlier cluster that had the
        same port never lends this client its channel.
        """
        self.address = address
        self._md = channels.token_metadata(token)
        self._channel = channels.CHANNELS.get(address, identity, token.encode())
        self._stub = self.STUB(self._channel)

    def _failure(self, err: grpc.RpcError) -> errors.RpcFailure:
        return errors.from_grpc(err, self.SERVICE, self.address)

    def _call(self, method: str, request: Any, timeout_s: float, retry: bool = False) -> Any:
        """One blocking call; with `retry`, Unavailable is retried until the deadline.

        Raises:
            errors.RpcFailure: The call failed (the kind says how).
        """
        fn = getattr(self._stub, method)

        def attempt(left: float) -> Any:
            try:
                return fn(request, timeout=left, metadata=self._md)
            except grpc.RpcError as err:
                raise self._failure(err) from None

        if not retry:
            return attempt(timeout_s)
        return errors.call_with_retry(attempt, timeout_s)

    def _call_async(
        self, method: str, request: Any, timeout_s: float | None, callback: ReplyCallback | None
    ) -> None:
        """Starts a call; `callback(reply, failure)` runs when it ends (on gRPC's thread).

        Without a callback the call is fire and forget: failures are logged at DEBUG.
        """
        fut = channels.keep(
            getattr(self._stub, method).future(request, timeout=timeout_s, metadata=self._md)
        )

        def done(f: grpc.Future) -> None:
            try:
                reply = f.result()
            except grpc.RpcError as err:
                failure = self._failure(err)
                if callback is None:
                    logger.debug("%s %s failed: %s", self.SERVICE, method, failure)
                    return
                _run(callback, None, failure)
                return
            except grpc.FutureCancelledError:
                if callback is not None:
                    _run(
                        callback,
                        None,
                        errors.Cancelled(
                            grpc.StatusCode.CANCELLED, "cancelled", self.SERVICE, self.address
                        ),
                    )
                return
            if callback is not None:
                _run(callback, reply, None)

        fut.add_done_callback(done)


def _run(callback: ReplyCallback, reply: Any, failure: errors.RpcFailure | None) -> None:
    try:
        callback(reply, failure)
    except Exception:  # noqa: BLE001 - a failing callback must not be lost in gRPC's thread
        logger.exception("rpc reply callback failed")
