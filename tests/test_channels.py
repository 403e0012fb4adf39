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


@pytest.mark.timeout(60)
def test_a_new_process_on_a_reused_port_is_reached_at_once() -> None:
    # A worker exits and a new one binds its port: the new worker's first call must not fail
    # because the old worker's channel is still in its reconnect back-off (it used to, and
    # the caller took the new worker for dead).
    pool = ChannelPool()
    port = _free_port()
    address = f"127.0.0.1:{port}"
    server = _echo_server(port)
    old = pool.get(address, b"worker-1").unary_unary("/t.Echo/Echo")
    assert old(b"a", timeout=3.0) == b"a"
    server.stop(None).wait()
    for _ in range(3):  # the old worker is gone: its channel fails and backs off
        with pytest.raises(grpc.RpcError):
            old(b"b", timeout=0.5)
    server = _echo_server(port)
    try:
        new = pool.get(address, b"worker-2").unary_unary("/t.Echo/Echo")
        assert new(b"c", timeout=3.0) == b"c"  # no wait_for_ready: the first try succeeds
    finally:
        server.stop(None)


def test_an_identity_seen_before_does_not_displace_the_newer_one() -> None:
    pool = ChannelPool()
    first = pool.get("127.0.0.1:1", b"worker-1")
    assert pool.get("127.0.0.1:1", b"worker-1") is first
    assert pool.get("127.0.0.1:1") is first  # a caller that names no process
    second = pool.get("127.0.0.1:1", b"worker-2")
    assert second is not first
    # A stale lookup of the old worker gets the current channel and leaves it in place.
    assert pool.get("127.0.0.1:1", b"worker-1") is second
    assert pool.get("127.0.0.1:1", b"worker-2") is second
    assert pool.get("127.0.0.1:2", b"worker-1") is not second


def test_a_service_of_the_next_cluster_on_a_reused_port_is_reached_at_once() -> None:
    # ray.shutdown() then ray.init(): the new cluster's node manager may bind a port that a
    # process of the old cluster had. Clients name no process there, only the cluster (its
    # token); the old channel, backing off, must not be lent to them.
    pool = ChannelPool()
    port = _free_port()
    address = f"127.0.0.1:{port}"
    server = _echo_server(port)
    old = pool.get(address, cluster=b"token-1").unary_unary("/t.Echo/Echo")
    assert old(b"a", timeout=3.0) == b"a"
    server.stop(None).wait()
    for _ in range(3):
        with pytest.raises(grpc.RpcError):
            old(b"b", timeout=0.5)
    server = _echo_server(port)
    try:
        new = pool.get(address, cluster=b"token-2").unary_unary("/t.Echo/Echo")
        assert new(b"c", timeout=3.0) == b"c"
    finally:
        server.stop(None)


def test_names_are_matched_per_cluster() -> None:
    pool = ChannelPool()
    a = pool.get("127.0.0.1:1", cluster=b"c1")
    assert pool.get("127.0.0.1:1", b"worker-1", b"c1") is a  # the process named at last
    b = pool.get("127.0.0.1:1", b"worker-1", b"c2")  # same worker id, another cluster
    assert b is not a
    assert pool.get("127.0.0.1:1", cluster=b"c2") is b
    # Stale lookups from the old cluster get the current channel and leave it in place.
    assert pool.get("127.0.0.1:1", cluster=b"c1") is b
    assert pool.get("127.0.0.1:1", b"worker-1", b"c1") is b
    assert pool.get("127.0.0.1:1", b"worker-1", b"c2") is b
