"""gRPC plumbing shared by every service and client: servers that check the
cluster token, and one pooled channel per address."""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent import futures
from typing import Any

import grpc

from ray._private import constants

logger = logging.getLogger(__name__)

_CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", constants.GRPC_MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", constants.GRPC_MAX_MESSAGE_BYTES),
    ("grpc.enable_retries", 0),
    # A bounded receive window (see constants.GRPC_STREAM_WINDOW_BYTES).
    ("grpc.http2.bdp_probe", 0),
    ("grpc.http2.lookahead_bytes", constants.GRPC_STREAM_WINDOW_BYTES),
    ("grpc.so_reuseport", 0),
    # A channel lives as long as the process (ChannelPool), and a port whose process died may
    # be taken by a new one (a new cluster's GCS after ray.shutdown() and ray.init()): the
    # channel must try it again soon, not after gRPC's default backoff of up to 120 s.
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


_DENIED = (
    "missing or wrong cluster token: connect with the token from the session directory "
    "(ray.init(address=...) does this for you)"
)


class _TokenInterceptor(grpc.ServerInterceptor):
    """Refuses every call that does not carry the cluster token."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

        def deny(request: Any, context: grpc.ServicerContext) -> Any:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, _DENIED)

        self._deny_unary = grpc.unary_unary_rpc_method_handler(deny)
        self._deny_stream = grpc.unary_stream_rpc_method_handler(deny)
        self._deny_upload = grpc.stream_unary_rpc_method_handler(deny)
        self._deny_bidi = grpc.stream_stream_rpc_method_handler(deny)

    def intercept_service(
        self, continuation: Callable, handler_call_details: grpc.HandlerCallDetails
    ) -> Any:
        for key, value in handler_call_details.invocation_metadata or ():
            if key == constants.TOKEN_METADATA_KEY:
                if hmac.compare_digest(value.encode(), self._token):
                    return continuation(handler_call_details)
                break
        handler = continuation(handler_call_details)
        if handler is None:
            return self._deny_unary
        if handler.response_streaming:
            return self._deny_bidi if handler.request_streaming else self._deny_stream
        return self._deny_upload if handler.request_streaming else self._deny_unary


class _AioTokenInterceptor(grpc.aio.ServerInterceptor):
    """The asyncio server's version of `_TokenInterceptor`."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

        async def deny(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, _DENIED)

        self._deny_unary = grpc.unary_unary_rpc_method_handler(deny)
        self._deny_stream = grpc.unary_stream_rpc_method_handler(deny)
        self._deny_upload = grpc.stream_unary_rpc_method_handler(deny)
        self._deny_bidi = grpc.stream_stream_rpc_method_handler(deny)

    async def intercept_service(
        self, continuation: Callable, handler_call_details: grpc.HandlerCallDetails
    ) -> Any:
        for key, value in handler_call_details.invocation_metadata or ():
            if key == constants.TOKEN_METADATA_KEY:
                if hmac.compare_digest(value.encode(), self._token):
                    return await continuation(handler_call_details)
                break
        handler = await continuation(handler_call_details)
        if handler is None:
            return self._deny_unary
        if handler.response_streaming:
            return self._deny_bidi if handler.request_streaming else self._deny_stream
        return self._deny_upload if handler.request_streaming else self._deny_unary


def create_aio_server(
    add_servicers: Iterable[Callable[[grpc.aio.Server], None]],
    token: str,
    host: str = "127.0.0.1",
    port: int = 0,
    options: Iterable[tuple[str, Any]] = (),
) -> tuple[grpc.aio.Server, int]:
    """Makes (not starts: `await server.start()`) an asyncio gRPC server that requires `token`.

    Handlers are coroutines on the event loop of the caller; blocking ones must hand their
    work to a thread.

    Returns:
        The server and the port it bound.
    """
    server = grpc.aio.server(
        interceptors=[_AioTokenInterceptor(token)], options=[*_CHANNEL_OPTIONS, *options]
    )
    for add in add_servicers:
        add(server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"could not bind {host}:{port}: is the port already in use?")
    return server, bound


class _HandlerCapture:
    """Stands in for a server to receive what a generated `add_*Servicer_to_server` registers."""

    def __init__(self) -> None:
        self.service = ""
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        """The generic handler serves the same methods as the registered ones below."""

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        self.service = service
        self.handlers = dict(handlers)


# A method's own (request deserializer, response serializer), replacing the generated ones.
Codec = tuple[Callable[[bytes], Any], Callable[[Any], bytes]]


def service_handler(
    add_generated: Callable[[Any, Any], None],
    servicer: Any,
    codecs: Mapping[str, Codec] | None = None,
) -> tuple[str, dict[str, grpc.RpcMethodHandler]]:
    """A servicer's method handlers as the generated code makes them, some with their own codec.

    Args:
        add_generated: The generated `add_<Service>Servicer_to_server`.
        servicer: The servicer it registers.
        codecs: Method name -> (request deserializer, response serializer) to use instead of
            the generated classes' (e.g. `chunk_codec` for ReadObject).

    Returns:
        The full service name and its handlers by method name.
    """
    capture = _HandlerCapture()
    add_generated(servicer, capture)
    for method, (deserialize, serialize) in (codecs or {}).items():
        capture.handlers[method] = capture.handlers[method]._replace(
            request_deserializer=deserialize, response_serializer=serialize
        )
    return capture.service, capture.handlers


def add_servicer(
    server: Any,
    add_generated: Callable[[Any, Any], None],
    servicer: Any,
    codecs: Mapping[str, Codec] | None = None,
) -> None:
    """Registers `servicer` on `server` as `add_generated` would, with `codecs` (see above)."""
    service, handlers = service_handler(add_generated, servicer, codecs)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    server.add_registered_method_handlers(service, handlers)


def create_server(
    add_servicers: Iterable[Callable[[grpc.Server], None]],
    token: str,
    host: str = "127.0.0.1",
    port: int = 0,
    max_workers: int = 64,
    options: Iterable[tuple[str, Any]] = (),
) -> tuple[grpc.Server, int]:
    """Starts a gRPC server that requires `token`.

    Args:
        add_servicers: Callables that register servicers on the server.
        token: The cluster token every call must carry.
        host: Interface to bind (loopback unless told otherwise).
        port: Port to bind, 0 for any free one.
        max_workers: Threads serving calls.
        options: Extra gRPC server options (e.g. keepalive pings for clients that vanish).

    Returns:
        The started server and the port it bound.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rpc"),
        interceptors=[_TokenInterceptor(token)],
        options=[*_CHANNEL_OPTIONS, *options],
    )
    for add in add_servicers:
        add(server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"could not bind {host}:{port}: is the port already in use?")
    server.start()
    return server, bound


# Channels whose callback thread is kept running (see `_keep_spin_thread`).
MAX_PINNED_CHANNELS = 64


def _keep_spin_thread(channel: grpc.Channel) -> bool:
    """Keeps the channel's callback ("spin") thread alive between calls.

    grpc's sync channels run future callbacks on a thread that exits whenever
    no call is in flight, and start a new one with the next call. On the task
    hot path (one call in flight at a time) that thread start costs about as
    much as the RPC itself. Counting one permanent pseudo-call keeps the
    thread. Relies on grpc internals; if they change, nothing breaks, calls
    are just slower.
    """
    state = getattr(channel, "_call_state", None)
    try:
        from grpc import _channel as grpc_channel

        start = grpc_channel._run_channel_spin_thread
        with state.lock:  # type: ignore[union-attr]
            if state.managed_calls == 0:  # type: ignore[union-attr]
                state.managed_calls = 1  # type: ignore[union-attr]
                start(state)
            else:
                state.managed_calls += 1  # type: ignore[union-attr]
        return True
    except (AttributeError, ImportError, TypeError) as err:
        logger.debug("cannot keep the channel's spin thread: %s", err)
        return False


# gRPC shares connections ("subchannels") among a process's channels to one address, so
# a new channel would inherit the old one's back-off: each pooled channel has its own.
_POOLED_CHANNEL_OPTIONS = [*_CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1)]


class ChannelPool:
    """One channel per address, shared by every client in the process.

    Channels live as long as the process (the first MAX_PINNED_CHANNELS keep a
    callback thread running for fast future callbacks).

    A port freed by a process that ended may be bound by a new one (a worker
    started after another exited, or a service of the next cluster after
    ray.shutdown() and ray.init()). The old process's channel may then be in its
    reconnect back-off, failing every call at once with "failed to connect"
    although the new process listens. So a client names the process it wants:
    the cluster (its token) and, where it knows it, the process (a worker id).
    A new name at an address gets a new channel; within a cluster a caller that
    names no process takes the current one. The old channel is left to the
    clients that hold it (their process is gone), and a name seen there before
    never displaces a newer one.
    """

    MAX_RETIRED_PER_ADDRESS = 16

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, grpc.Channel] = {}
        self._owner: dict[str, tuple[bytes, bytes]] = {}  # address -> (cluster, process)
        self._retired: dict[str, list[tuple[bytes, bytes]]] = {}
        self._pinned = 0

    def get(self, address: str, identity: bytes = b"", cluster: bytes = b"") -> grpc.Channel:
        """The channel to the process `identity` of `cluster` at `address`."""
        channel = self._channels.get(address)
        if channel is not None and self._is_current(address, cluster, identity):
            return channel
        with self._lock:
            channel = self._channels.get(address)
            if channel is not None:
                known = self._owner[address]
                retired = self._retired.setdefault(address, [])
                if self._is_current(address, cluster, identity) or any(
                    c == cluster and (not identity or i == identity) for c, i in retired
                ):
                    return channel
                if known == (cluster, b""):  # the process is named for the first time
                    self._owner[address] = (cluster, identity)
                    return channel
                retired.append(known)  # another process has the port now
                del retired[: -self.MAX_RETIRED_PER_ADDRESS]
            channel = grpc.insecure_channel(address, options=_POOLED_CHANNEL_OPTIONS)
            self._channels[address] = channel
            self._owner[address] = (cluster, identity)
            if self._pinned < MAX_PINNED_CHANNELS and _keep_spin_thread(channel):
                self._pinned += 1
        return channel

    def _is_current(self, address: str, cluster: bytes, identity: bytes) -> bool:
        known_cluster, known_identity = self._owner.get(address, (b"", b""))
        return known_cluster == cluster and (not identity or known_identity == identity)


CHANNELS = ChannelPool()


_inflight: set[grpc.Future] = set()
_inflight_lock = threading.Lock()


def keep(fut: grpc.Future) -> grpc.Future:
    """Keeps a call's future alive until it completes.

    grpc cancels a call whose future is garbage collected, so fire-and-forget
    calls (and calls followed only through callbacks) must be held somewhere.
    """
    with _inflight_lock:
        _inflight.add(fut)

    def done(f: grpc.Future) -> None:
        with _inflight_lock:
            _inflight.discard(f)

    fut.add_done_callback(done)
    return fut


def wait_for_inflight(timeout_s: float) -> bool:
    """Waits until every kept call (fire-and-forget ones included) has finished.

    Returns:
        True if none is left.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        with _inflight_lock:
            if not _inflight:
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def token_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return ((constants.TOKEN_METADATA_KEY, token),)


# Server options for services whose clients may vanish without closing their connection
# (a killed JVM, a cut network): ping idle connections and drop those that do not answer.
KEEPALIVE_SERVER_OPTIONS = (
    ("grpc.keepalive_time_ms", 2000),
    ("grpc.keepalive_timeout_ms", 3000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.http2.min_ping_interval_without_data_ms", 1000),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 1000),
)
