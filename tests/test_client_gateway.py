"""The client gateway (client_gateway.proto), driven only through the generated stubs.

`gateway_client.GatewayClient` speaks the protocol as a Java or C++ library does; the
cluster is real (a GCS, a node manager, Python workers, a session owner per session).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import grpc
import numpy as np
import psutil
import pytest
from gateway_client import (
    GatewayClient,
    python_class,
    python_function,
    ref,
    value,
)
from utils import (
    REPO_ROOT,
    assert_no_leaks,
    child_processes,
    driver_env,
    shm_entries,
    wait_for_condition,
)

import ray
from ray._private import runtime, serialization
from ray._private.generated import client_gateway_pb2 as pb
from ray._private.generated import client_gateway_pb2_grpc, common_pb2

pytestmark = pytest.mark.timeout(240)

CODE = str(Path(__file__).parent / "gateway_code")
VECTORS = Path(__file__).parent / "xlang"


def frame(v: object) -> bytes:
    return serialization.serialize(v).to_bytes()


def read(f: bytes) -> object:
    return serialization.deserialize(f)


def fn(name: str) -> common_pb2.FunctionDescriptor:
    return python_function("gateway_targets", name)


@pytest.fixture(scope="module")
def cluster():
    """A local cluster (the driver is this process); nothing of it may outlive the module."""
    shm_before = shm_entries()
    info = ray.init(num_cpus=2, namespace="gateway-tests")
    seen = []
    try:
        yield info.address_info["gcs_address"], runtime._node.token
    finally:
        seen.extend(child_processes())
        ray.shutdown()
        assert_no_leaks(shm_before, seen)


@pytest.fixture
def client(cluster):
    address, token = cluster
    c = GatewayClient(address, token, code_search_path=[CODE])
    try:
        yield c
    finally:
        c.close()


def _store_used() -> int:
    return runtime.core_worker().nm.stats().object_store_used_bytes


def _session_owners() -> list[psutil.Process]:
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "ray._private.gateway" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


# ---- values -------------------------------------------------------------------------------


def test_every_xlang_vector_round_trips_byte_exact(client):
    manifest = json.loads((VECTORS / "vectors.json").read_text())["vectors"]
    frames = [(VECTORS / f"{v['name']}.bin").read_bytes() for v in manifest]
    ids = [client.put(f) for f in frames]
    assert client.get(ids) == frames
    # And through a task: a Python function gets the natural value and returns it as XLANG.
    returned = [
        client.submit_task(fn("echo"), [value(f)])[0]
        for f, v in zip(frames, manifest, strict=True)
        if v["format"] == "XLANG"
    ]
    xlang = [f for f, v in zip(frames, manifest, strict=True) if v["format"] == "XLANG"]
    assert client.get(returned) == xlang


def test_large_array_through_chunked_put_and_get(client):
    array = np.random.default_rng(7).integers(0, 2**62, size=25_000_000, dtype=np.int64)  # 200 MB
    data = frame(array)
    digest = hashlib.sha256(data).hexdigest()
    oid = client.put(data)
    assert len(data) > 200_000_000
    # A Python task reads it (zero copy from the store) and sums it.
    [total] = client.submit_task(fn("checksum"), [ref(oid)])
    assert read(client.get([total])[0]) == int(array.sum())
    (back,) = client.get([oid])
    assert hashlib.sha256(back).hexdigest() == digest
    # A large result made by a task comes back in chunks too.
    [made] = client.submit_task(fn("make_array"), [value(frame(5_000_000))])
    np.testing.assert_array_equal(read(client.get([made])[0]), np.arange(5_000_000))


def test_python_only_result_is_a_clear_error_for_other_languages(client):
    [oid] = client.submit_task(fn("python_only"))
    err = read(client.get([oid])[0])
    assert isinstance(err, serialization.ErrorValue)
    assert "Python value of type tuple" in err.info.message and "Java" in err.info.message


# ---- tasks and actors ---------------------------------------------------------------------


def test_python_task_by_name_with_values_and_references(client):
    forty = client.put(frame(40))
    [plain] = client.submit_task(fn("add"), [ref(forty), value(frame(2))])
    [remote] = client.submit_task(fn("multiply"), [value(frame(6)), value(frame(7))])
    [chained] = client.submit_task(fn("add"), [ref(plain), ref(remote)])
    assert [read(f) for f in client.get([plain, remote, chained])] == [42, 42, 84]


def test_task_options_and_multiple_returns(client):
    options = pb.TaskOptions(name="named-add", num_returns=1, resources={"CPU": 0.5})
    [oid] = client.submit_task(fn("add"), [value(frame("a")), value(frame("b"))], options)
    assert read(client.get([oid])[0]) == "ab"
    assert client.submit_task(fn("pid"), options=pb.TaskOptions(num_returns=0)) == []


def test_python_actor_by_name(client):
    reply = client.start_actor(python_class("gateway_targets", "Counter"), [value(frame(10))])
    calls = [client.call_actor(reply.actor_id, "increment")[0] for _ in range(3)]
    calls += client.call_actor(reply.actor_id, "increment", [value(frame(5))])
    assert [read(f) for f in client.get(calls)] == [11, 12, 13, 18]


def test_error_arrives_as_error_value_with_type_message_and_traceback(client):
    [oid] = client.submit_task(fn("fail"), [value(frame("bad input"))])
    info = read(client.get([oid])[0]).info
    assert info.type == common_pb2.ERROR_TYPE_TASK_EXECUTION
    assert info.exception_type == "builtins.ValueError"
    assert "bad input" in info.message
    assert "Traceback" in info.traceback and "gateway_targets.py" in info.traceback
    assert info.language == common_pb2.LANGUAGE_PYTHON


def test_unknown_module_function_and_method_are_error_values(client):
    [no_module] = client.submit_task(python_function("no_such_module", "f"))
    [no_function] = client.submit_task(fn("no_such_function"))
    actor = client.start_actor(python_class("gateway_targets", "Counter"))
    [no_method] = client.call_actor(actor.actor_id, "no_such_method")
    messages = [read(f).info.message for f in client.get([no_module, no_function, no_method])]
    assert "cannot import Python module 'no_such_module'" in messages[0]
    assert "has no 'no_such_function'" in messages[1]
    assert "no method 'no_such_method'" in messages[2]


def test_named_actor_crosses_between_python_and_the_gateway(client):
    @ray.remote
    class Greeter:
        def greet(self, name):
            return f"hello {name}"

    Greeter.options(name="py-greeter", lifetime="detached").remote()
    found = client.lookup_actor("py-greeter", "gateway-tests")
    [greeting] = client.call_actor(found.actor_id, "greet", [value(frame("java"))])
    assert read(client.get([greeting])[0]) == "hello java"
    ray.kill(ray.get_actor("py-greeter", namespace="gateway-tests"))
    # The reverse: an actor named through the gateway, called from Python.
    client.start_actor(
        python_class("gateway_targets", "Counter"),
        [value(frame(100))],
        pb.ActorOptions(name="gw-counter", ray_namespace="gateway-tests"),
    )
    counter = ray.get_actor("gw-counter", namespace="gateway-tests")
    assert ray.get(counter.increment.remote(), timeout=60) == 101


def test_wait_semantics(client):
    quick = client.submit_task(fn("sleep"), [value(frame(0))])[0]
    slow = client.submit_task(fn("sleep"), [value(frame(30))])[0]
    assert client.wait([quick, slow], 1, 20_000) == [0]
    assert client.wait([slow, quick], 2, 300) == [1]  # times out with what is ready
    assert client.wait([slow], 1, 0) == []
    with pytest.raises(grpc.RpcError) as info:
        client.wait([quick, quick], 1, 0)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_get_timeout_is_deadline_exceeded(client):
    [slow] = client.submit_task(fn("sleep"), [value(frame(30))])
    with pytest.raises(grpc.RpcError) as info:
        client.get([slow], timeout_ms=300)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "timed out" in info.value.details()


def test_pipelined_submission_with_client_made_ids(client):
    items, returns = [], []
    for i in range(500):
        item, rid = client.task_item(fn("add"), [value(frame(i)), value(frame(1))])
        items.append(item)
        returns.append(rid)
    assert client.submit_stream([items[i : i + 50] for i in range(0, 500, 50)]) == 500
    assert [read(f) for f in client.get(returns)] == list(range(1, 501))


def test_submit_stream_sends_back_results_asked_for(client):
    small, small_id = client.task_item(fn("add"), [value(frame(2)), value(frame(3))])
    big, big_id = client.task_item(fn("make_array"), [value(frame(200_000))])  # 1.6 MB: stored
    failing, failing_id = client.task_item(fn("fail"), [value(frame("boom"))])
    plain, plain_id = client.task_item(fn("add"), [value(frame(1)), value(frame(1))])
    for item in (small, big, failing):
        item.return_results = True
    results = client.submit_for_results([small, big, failing, plain], want=3)
    assert set(results) == {small_id, big_id, failing_id}  # not the one that did not ask
    assert read(results[small_id].frame) == 5 and not results[small_id].fetch
    assert results[big_id].fetch and not results[big_id].frame
    error = results[failing_id].frame
    assert serialization.frame_format(error) == common_pb2.OBJECT_FORMAT_ERROR
    assert "boom" in str(read(error).info.message)
    # The values stay readable with Get, the one marked `fetch` included.
    big_value, plain_value = client.get([big_id, plain_id])
    assert read(big_value).sum() == sum(range(200_000)) and read(plain_value) == 2


def test_an_item_resent_on_a_new_stream_runs_once(client):
    """A client resends the items it saw no acknowledgement for when its Submit stream breaks;
    those the gateway had accepted already must not run again (an actor call twice would
    count twice), and their results still come back on the new stream when asked for."""
    actor = client.start_actor(python_class("gateway_targets", "Counter")).actor_id
    call = pb.SubmitItem(
        actor_call=pb.CallActorRequest(
            session_id=client.session_id,
            actor_id=actor,
            method=common_pb2.FunctionDescriptor(function_name="increment"),
            task_id=client.new_task_id(),
        )
    )
    task, task_return = client.task_item(fn("add"), [value(frame(1)), value(frame(2))])
    assert client.submit_stream([[call, task]]) == 2
    call.return_results = True
    results = client.submit_for_results([call, task], want=1)  # a second stream, resent
    call_return = client.return_id(call.actor_call.task_id)
    assert set(results) == {call_return} and read(results[call_return].frame) == 1
    later = client.call_actor(actor, "increment")
    assert [read(f) for f in client.get([call_return, task_return, *later])] == [1, 3, 2]


def test_client_made_put_id_is_idempotent(client):
    oid = client.new_put_id()
    assert client.put(frame("x"), object_id=oid) == oid
    assert client.put(frame("x"), object_id=oid) == oid
    assert read(client.get([oid])[0]) == "x"


# ---- references and sessions --------------------------------------------------------------


def test_released_objects_are_freed(client):
    before = _store_used()
    oids = [client.put(frame(np.ones(4_000_000, dtype=np.uint8))) for _ in range(3)]
    assert _store_used() >= before + 12_000_000
    client.add_references(oids[:1])
    client.release(oids)  # oids[0] is still held once
    wait_for_condition(lambda: _store_used() < before + 8_000_000, timeout=20)
    assert client.get(oids[:1])
    client.release(oids[:1])
    wait_for_condition(lambda: _store_used() <= before, timeout=20)
    with pytest.raises(grpc.RpcError) as info:
        client.get(oids[:1])
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_two_sessions_are_isolated(cluster):
    address, token = cluster
    with GatewayClient(address, token) as a, GatewayClient(address, token) as b:
        assert a.address != b.address and a.job_id != b.job_id
        oid = a.put(frame("secret"))
        with pytest.raises(grpc.RpcError) as info:
            b.get([oid])
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        b.release([oid])  # ignored: not held by b
        assert read(a.get([oid])[0]) == "secret"
        # b's session id is not valid at a's address.
        foreign = client_gateway_pb2_grpc.ClientGatewayServiceStub(a.channel)
        with pytest.raises(grpc.RpcError) as info:
            foreign.Get(
                pb.GetRequest(session_id=b.session_id, object_ids=[oid]),
                timeout=10,
                metadata=a.metadata,
            ).next()
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


CLIENT_SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
import numpy as np
from ray._private import serialization
from gateway_client import GatewayClient, python_class
c = GatewayClient({address!r}, {token!r}, code_search_path=[{code!r}], reconnect_grace_ms=1000)
oids = [c.put(serialization.serialize(np.ones(8_000_000, dtype=np.uint8)).to_bytes()) for _ in range(3)]
actor = c.start_actor(python_class("gateway_targets", "Counter"))
pid = serialization.deserialize(c.get(c.call_actor(actor.actor_id, "pid"))[0])
print("READY", pid, flush=True)
time.sleep(600)
"""


def test_killed_client_releases_its_objects_and_actors(cluster):
    address, token = cluster
    owners_before = {p.pid for p in _session_owners()}
    before = _store_used()
    script = CLIENT_SCRIPT.format(
        tests=str(Path(__file__).parent), address=address, token=token, code=CODE
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=driver_env(),
        cwd=str(REPO_ROOT),
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY"), line + proc.stdout.read()
        actor_pid = int(line.split()[1])
        assert _store_used() >= before + 24_000_000
        owners = [p for p in _session_owners() if p.pid not in owners_before]
        assert len(owners) == 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # The owner sees the KeepAlive stream break, waits its 1 s grace, and ends the session.
        wait_for_condition(lambda: not owners[0].is_running(), timeout=30)
        wait_for_condition(lambda: not psutil.pid_exists(actor_pid), timeout=30)
        wait_for_condition(lambda: _store_used() <= before, timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_session_without_keepalive_ends_after_its_grace(cluster):
    address, token = cluster
    c = GatewayClient(address, token, reconnect_grace_ms=500, keepalive=False)
    try:
        c.put(frame(1))
        owner = [p for p in _session_owners() if p.pid == _owner_pid(c)]

        def ended():
            try:
                c.put(frame(2))
            except grpc.RpcError as err:
                return err.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.NOT_FOUND)
            return False

        wait_for_condition(ended, timeout=30)
        for p in owner:
            wait_for_condition(lambda p=p: not p.is_running(), timeout=30)
    finally:
        c.close()


def _owner_pid(c: GatewayClient) -> int:
    port = int(c.address.rsplit(":", 1)[1])
    for p in _session_owners():
        try:
            if any(conn.laddr.port == port for conn in p.net_connections(kind="tcp")):
                return p.pid
        except psutil.Error:
            pass
    return -1


# ---- hostile or broken clients ------------------------------------------------------------


def test_calls_without_the_token_are_refused(cluster, client):
    address, _ = cluster
    for target in (address, client.address):
        with grpc.insecure_channel(target) as channel:
            stub = client_gateway_pb2_grpc.ClientGatewayServiceStub(channel)
            with pytest.raises(grpc.RpcError) as info:
                stub.OpenSession(pb.OpenSessionRequest(), timeout=10)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as info:
                stub.Put(
                    pb.PutRequest(session_id=client.session_id),
                    timeout=10,
                    metadata=(("x-ray-token", "wrong"),),
                )
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_hostile_inputs_are_answered_and_survived(cluster, client):
    address, token = cluster
    stub, md, sid = client.stub, client.metadata, client.session_id

    def code(call, *args, **kwargs):
        try:
            result = call(*args, timeout=30, metadata=md, **kwargs)
            if hasattr(result, "__next__"):
                list(result)
        except grpc.RpcError as err:
            assert len(err.details() or "") < 2000, "errors stay readable"
            return err.code()
        return grpc.StatusCode.OK

    bad = grpc.StatusCode.INVALID_ARGUMENT
    assert (
        code(stub.Put, pb.PutRequest(session_id=b"nope", frame=frame(1)))
        == grpc.StatusCode.NOT_FOUND
    )
    assert code(stub.Put, pb.PutRequest(session_id=sid, frame=b"garbage")) == bad
    assert code(stub.Put, pb.PutRequest(session_id=sid, frame=frame(1)[:-1] + b"\xff" * 9)) in (
        bad,
        grpc.StatusCode.OK,
    )
    assert (
        code(stub.Put, pb.PutRequest(session_id=sid, object_id=b"x" * 10_000_000, frame=frame(1)))
        == bad
    )
    assert (
        code(stub.Get, pb.GetRequest(session_id=sid, object_ids=[os.urandom(28)]))
        == grpc.StatusCode.NOT_FOUND
    )
    assert code(stub.SubmitTask, pb.SubmitTaskRequest(session_id=sid)) == bad
    assert (
        code(
            stub.SubmitTask,
            pb.SubmitTaskRequest(session_id=sid, function=fn("add"), args=[value(b"junk")]),
        )
        == bad
    )
    assert (
        code(
            stub.SubmitTask,
            pb.SubmitTaskRequest(
                session_id=sid,
                function=fn("add"),
                options=pb.TaskOptions(resources={"CPU": float("nan")}),
            ),
        )
        == bad
    )
    assert (
        code(
            stub.SubmitTask,
            pb.SubmitTaskRequest(session_id=sid, function=fn("add"), task_id=b"short"),
        )
        == bad
    )
    assert code(stub.StartActor, pb.StartActorRequest(session_id=sid, actor_class=fn("x"))) == bad
    assert (
        code(
            stub.CallActor,
            pb.CallActorRequest(
                session_id=sid,
                actor_id=os.urandom(28),
                method=common_pb2.FunctionDescriptor(function_name="m"),
            ),
        )
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        code(stub.StopActor, pb.StopActorRequest(session_id=sid, actor_id=os.urandom(28)))
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        code(
            stub.AddReferences, pb.AddReferencesRequest(session_id=sid, object_ids=[os.urandom(28)])
        )
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        code(
            stub.Submit,
            iter(
                [
                    pb.SubmitRequest(
                        items=[
                            pb.SubmitItem(
                                task=pb.SubmitTaskRequest(session_id=sid, function=fn("add"))
                            )
                        ]
                    )
                ]
            ),
        )
        == bad
    )
    # Too large for one message: gRPC refuses it; PutStream is the way.
    assert (
        code(stub.Put, pb.PutRequest(session_id=sid, frame=b"\0" * (520 << 20)))
        == grpc.StatusCode.RESOURCE_EXHAUSTED
    )
    # The chunks must add up.
    chunks = iter(
        [
            pb.PutStreamRequest(
                session_id=sid,
                object_id=client.new_put_id(),
                total_size_bytes=10 << 20,
                offset=0,
                data=b"\0" * 100,
            )
        ]
    )
    assert code(stub.PutStream, chunks) == bad
    # The cluster address serves only OpenSession.
    with grpc.insecure_channel(address) as channel:
        gcs_stub = client_gateway_pb2_grpc.ClientGatewayServiceStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            gcs_stub.Put(pb.PutRequest(session_id=sid), timeout=10, metadata=md)
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    # After all that, the session still works.
    [oid] = client.submit_task(fn("add"), [value(frame(1)), value(frame(2))])
    assert read(client.get([oid])[0]) == 3
