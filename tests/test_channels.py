"""The process-wide channel pool (ray._private.rpc.channels)."""

from __future__ import annotations

import socket
import time
from concurrent import futures

import grpc
import pytest

from ray._private.rpc.channels import ChannelPool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _echo_server(port: int) -> grpc.Server:
    handler = grpc.method_handlers_generic_handler(
        "t.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(lambda request, _context: request)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    assert server.add_insecure_port(f"127.0.0.1:{port}") == port
    server.start()
    return server


@pytest.mark.timeout(60)
def test_a_pooled_channel_reaches_a_new_process_on_a_port_that_was_dead() -> None:
    # Channels live as long as the process. After ray.shutdown() and ray.init(), a new
    # cluster's service may listen on a port that an earlier, dead process had, and the
    # channel to it has been failing for a while: it must connect within about a second, not
    # after gRPC's default reconnect backoff (which grows towards 120 s).
    port = _free_port()
    echo = ChannelPool().get(f"127.0.0.1:{port}").unary_unary("/t.Echo/Echo")
    failing_until = time.monotonic() + 20.0  # the default backoff passes 10 s by then
    while time.monotonic() < failing_until:
        with pytest.raises(grpc.RpcError) as err:
            echo(b"x", timeout=0.5)
        assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
        time.sleep(0.2)
    server = _echo_server(port)
    try:
        assert echo(b"ping", timeout=3.0, wait_for_ready=True) == b"ping"
    finally:
        server.stop(None)
