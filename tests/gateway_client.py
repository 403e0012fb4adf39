"""A small client of the client gateway, written only against the generated Python stubs.

It speaks `client_gateway.proto` as a Java or C++ library would (session, keepalive,
chunked put and get, client-made ids, the Submit stream), so the gateway tests check the
protocol itself, not the `ray` API.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence

import grpc

from ray._private.generated import client_gateway_pb2 as pb
from ray._private.generated import client_gateway_pb2_grpc, common_pb2

CHUNK = 1 << 20
TOKEN_KEY = "x-ray-token"


def python_function(module: str, name: str) -> common_pb2.FunctionDescriptor:
    return common_pb2.FunctionDescriptor(
        language=common_pb2.LANGUAGE_PYTHON, module_name=module, function_name=name
    )


def python_class(module: str, name: str) -> common_pb2.FunctionDescriptor:
    return common_pb2.FunctionDescriptor(
        language=common_pb2.LANGUAGE_PYTHON, module_name=module, class_name=name
    )


def value(frame: bytes) -> common_pb2.TaskArg:
    return common_pb2.TaskArg(inline_data=frame)


def ref(object_id: bytes) -> common_pb2.TaskArg:
    return common_pb2.TaskArg(object_ref=common_pb2.ObjectReference(object_id=object_id))


class GatewayClient:
    """One session, as a client library holds it."""

    def __init__(
        self,
        cluster_address: str,
        token: str,
        language: int = common_pb2.LANGUAGE_JAVA,
        code_search_path: Sequence[str] = (),
        namespace: str = "",
        reconnect_grace_ms: int = 3000,
        keepalive: bool = True,
    ) -> None:
        self.metadata = ((TOKEN_KEY, token),)
        self._bootstrap_channel = grpc.insecure_channel(cluster_address)
        bootstrap = client_gateway_pb2_grpc.ClientGatewayServiceStub(self._bootstrap_channel)
        reply = bootstrap.OpenSession(
            pb.OpenSessionRequest(
                job_config=common_pb2.JobConfig(
                    ray_namespace=namespace, code_search_path=list(code_search_path)
                ),
                language=language,
                client_ip_address="127.0.0.1",
                reconnect_grace_ms=reconnect_grace_ms,
            ),
            timeout=60,
            metadata=self.metadata,
        )
        self.session_id = reply.session_id
        self.job_id = reply.job_id
        self.address = reply.session_address
        self.namespace = reply.ray_namespace
        self.channel = grpc.insecure_channel(
            self.address,
            options=[
                ("grpc.max_receive_message_length", 64 << 20),
                ("grpc.max_send_message_length", 64 << 20),
            ],
        )
        self.stub = client_gateway_pb2_grpc.ClientGatewayServiceStub(self.channel)
        self._keepalive: grpc.Future | None = None
        self.keepalive_replies = 0
        self._submit_queue = None
        self.submit_accepted = 0
        self.submit_error: grpc.RpcError | None = None
        if keepalive:
            self.start_keepalive()

    # ---- session ---------------------------------------------------------------------

    def start_keepalive(self) -> None:
        ready = threading.Event()
        stream = self.stub.KeepAlive(
            pb.KeepAliveRequest(session_id=self.session_id), metadata=self.metadata
        )
        self._keepalive = stream

        def read() -> None:
            try:
                for _ in stream:
                    self.keepalive_replies += 1
                    ready.set()
            except grpc.RpcError:
                pass
            ready.set()

        threading.Thread(target=read, name="keepalive", daemon=True).start()
        ready.wait(10)

    def drop_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None

    def close(self) -> None:
        if self._submit_queue is not None:
            self._submit_queue.put(None)
        try:
            self.stub.CloseSession(
                pb.CloseSessionRequest(session_id=self.session_id),
                timeout=10,
                metadata=self.metadata,
            )
        except grpc.RpcError:
            pass
        self.drop_keepalive()
        self.channel.close()
        self._bootstrap_channel.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- ids -------------------------------------------------------------------------

    def new_task_id(self) -> bytes:
        return os.urandom(20) + self.job_id

    def new_put_id(self) -> bytes:
        return self.new_task_id() + b"\0\0\0\0"

    @staticmethod
    def return_id(task_id: bytes, index: int = 1) -> bytes:
        return task_id + index.to_bytes(4, "big")

    # ---- objects ---------------------------------------------------------------------

    def put(self, frame: bytes, object_id: bytes = b"", nested: Sequence[bytes] = ()) -> bytes:
        if len(frame) <= CHUNK:
            return self.stub.Put(
                pb.PutRequest(
                    session_id=self.session_id,
                    object_id=object_id,
                    frame=frame,
                    nested_object_ids=list(nested),
                ),
                timeout=60,
                metadata=self.metadata,
            ).object_id
        return self.put_stream(frame, object_id or self.new_put_id(), nested)

    def put_stream(self, frame: bytes, object_id: bytes, nested: Sequence[bytes] = ()) -> bytes:
        def chunks() -> Iterator[pb.PutStreamRequest]:
            view = memoryview(frame)
            for offset in range(0, len(frame), CHUNK):
                msg = pb.PutStreamRequest(offset=offset, data=bytes(view[offset : offset + CHUNK]))
                if offset == 0:
                    msg.session_id = self.session_id
                    msg.object_id = object_id
                    msg.total_size_bytes = len(frame)
                    msg.nested_object_ids.extend(nested)
                yield msg

        return self.stub.PutStream(chunks(), timeout=120, metadata=self.metadata).object_id

    def get(self, object_ids: Sequence[bytes], timeout_ms: int = 60_000) -> list[bytes]:
        frames: list[bytearray | None] = [None] * len(object_ids)
        deadline = None if timeout_ms < 0 else timeout_ms / 1000 + 30
        for reply in self.stub.Get(
            pb.GetRequest(
                session_id=self.session_id, object_ids=list(object_ids), timeout_ms=timeout_ms
            ),
            timeout=deadline,
            metadata=self.metadata,
        ):
            for chunk in reply.chunks:
                if chunk.offset == 0:
                    frames[chunk.index] = bytearray(chunk.total_size_bytes)
                buf = frames[chunk.index]
                buf[chunk.offset : chunk.offset + len(chunk.data)] = chunk.data
        return [bytes(f) for f in frames]

    def wait(
        self,
        object_ids: Sequence[bytes],
        num_returns: int,
        timeout_ms: int,
        fetch_local: bool = True,
    ) -> list[int]:
        return list(
            self.stub.Wait(
                pb.WaitRequest(
                    session_id=self.session_id,
                    object_ids=list(object_ids),
                    num_returns=num_returns,
                    timeout_ms=timeout_ms,
                    fetch_local=fetch_local,
                ),
                timeout=max(timeout_ms, 0) / 1000 + 30,
                metadata=self.metadata,
            ).ready_indices
        )

    def add_references(self, object_ids: Sequence[bytes]) -> None:
        self.stub.AddReferences(
            pb.AddReferencesRequest(session_id=self.session_id, object_ids=list(object_ids)),
            timeout=30,
            metadata=self.metadata,
        )

    def release(self, object_ids: Sequence[bytes]) -> None:
        self.stub.ReleaseReferences(
            pb.ReleaseReferencesRequest(session_id=self.session_id, object_ids=list(object_ids)),
            timeout=30,
            metadata=self.metadata,
        )

    # ---- tasks and actors ------------------------------------------------------------

    def submit_task(
        self,
        function: common_pb2.FunctionDescriptor,
        args: Sequence[common_pb2.TaskArg] = (),
        options: pb.TaskOptions | None = None,
        task_id: bytes = b"",
    ) -> list[bytes]:
        return list(
            self.stub.SubmitTask(
                pb.SubmitTaskRequest(
                    session_id=self.session_id,
                    function=function,
                    args=list(args),
                    options=options or pb.TaskOptions(),
                    task_id=task_id,
                ),
                timeout=60,
                metadata=self.metadata,
            ).return_ids
        )

    def task_item(
        self,
        function: common_pb2.FunctionDescriptor,
        args: Sequence[common_pb2.TaskArg] = (),
        options: pb.TaskOptions | None = None,
    ) -> tuple[pb.SubmitItem, bytes]:
        task_id = self.new_task_id()
        item = pb.SubmitItem(
            task=pb.SubmitTaskRequest(
                session_id=self.session_id,
                function=function,
                args=list(args),
                options=options or pb.TaskOptions(),
                task_id=task_id,
            )
        )
        return item, self.return_id(task_id)

    def submit_nowait(self, items: Sequence[pb.SubmitItem]) -> None:
        """Sends items on the session's long-lived Submit stream without waiting (pipelined)."""
        if self._submit_queue is None:
            import queue

            self._submit_queue = queue.SimpleQueue()
            q = self._submit_queue

            def requests() -> Iterator[pb.SubmitRequest]:
                while True:
                    batch = q.get()
                    if batch is None:
                        return
                    yield pb.SubmitRequest(items=batch)

            replies = self.stub.Submit(requests(), metadata=self.metadata)

            def read() -> None:
                try:
                    for reply in replies:
                        self.submit_accepted = reply.num_accepted
                except grpc.RpcError as err:
                    self.submit_error = err

            threading.Thread(target=read, name="submit-acks", daemon=True).start()
        self._submit_queue.put(list(items))

    def submit_stream(self, batches: Sequence[Sequence[pb.SubmitItem]]) -> int:
        """Sends the batches on one Submit stream; returns how many items were accepted."""
        accepted = 0
        requests = (pb.SubmitRequest(items=list(batch)) for batch in batches)
        for reply in self.stub.Submit(requests, timeout=120, metadata=self.metadata):
            accepted = reply.num_accepted
        return accepted

    def submit_replies(
        self, items: Sequence[pb.SubmitItem], count: int, timeout: float = 60
    ) -> list[pb.SubmitReply]:
        """Sends the items on a Submit stream kept open until `count` replies came back on it."""
        done = threading.Event()

        def requests() -> Iterator[pb.SubmitRequest]:
            yield pb.SubmitRequest(items=list(items))
            done.wait(timeout)

        replies: list[pb.SubmitReply] = []
        try:
            for reply in self.stub.Submit(requests(), timeout=timeout, metadata=self.metadata):
                replies.append(reply)
                if len(replies) >= count:
                    break
        finally:
            done.set()
        return replies

    def submit_for_results(
        self, items: Sequence[pb.SubmitItem], want: int, timeout: float = 60
    ) -> dict[bytes, pb.SubmitResult]:
        """Sends the items on a Submit stream kept open until `want` results came back on it."""
        done = threading.Event()

        def requests() -> Iterator[pb.SubmitRequest]:
            yield pb.SubmitRequest(items=list(items))
            done.wait(timeout)

        results: dict[bytes, pb.SubmitResult] = {}
        try:
            for reply in self.stub.Submit(requests(), timeout=timeout, metadata=self.metadata):
                for result in reply.results:
                    results[result.object_id] = result
                if len(results) >= want:
                    break
        finally:
            done.set()
        return results

    def start_actor(
        self,
        actor_class: common_pb2.FunctionDescriptor,
        args: Sequence[common_pb2.TaskArg] = (),
        options: pb.ActorOptions | None = None,
    ) -> pb.StartActorReply:
        return self.stub.StartActor(
            pb.StartActorRequest(
                session_id=self.session_id,
                actor_class=actor_class,
                args=list(args),
                options=options or pb.ActorOptions(),
            ),
            timeout=60,
            metadata=self.metadata,
        )

    def call_actor(
        self, actor_id: bytes, method: str, args: Sequence[common_pb2.TaskArg] = ()
    ) -> list[bytes]:
        return list(
            self.stub.CallActor(
                pb.CallActorRequest(
                    session_id=self.session_id,
                    actor_id=actor_id,
                    method=common_pb2.FunctionDescriptor(function_name=method),
                    args=list(args),
                ),
                timeout=60,
                metadata=self.metadata,
            ).return_ids
        )

    def lookup_actor(self, name: str, namespace: str = "") -> pb.LookupActorReply:
        return self.stub.LookupActor(
            pb.LookupActorRequest(session_id=self.session_id, name=name, ray_namespace=namespace),
            timeout=30,
            metadata=self.metadata,
        )

    def stop_actor(self, actor_id: bytes, no_restart: bool = True) -> None:
        self.stub.StopActor(
            pb.StopActorRequest(
                session_id=self.session_id, actor_id=actor_id, no_restart=no_restart
            ),
            timeout=30,
            metadata=self.metadata,
        )
