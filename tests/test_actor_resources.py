"""Actor resources and lifetime, each test on a fresh cluster."""

from __future__ import annotations

import os

import psutil
from utils import wait_for_condition

import ray


@ray.remote
class Counter:
    def __init__(self) -> None:
        self.value = 0

    def increment(self) -> int:
        self.value += 1
        return self.value

    def get(self) -> int:
        return self.value


def test_actor_without_handles_exits_and_frees_resources(ray_start_regular) -> None:
    @ray.remote(num_cpus=1)
    class Holder:
        def pid(self) -> int:
            return os.getpid()

    h = Holder.remote()
    pid = ray.get(h.pid.remote())
    wait_for_condition(lambda: ray.available_resources().get("CPU", 0) == 1.0)
    del h
    wait_for_condition(lambda: not psutil.pid_exists(pid), timeout=15)
    wait_for_condition(lambda: ray.available_resources().get("CPU", 0) == 2.0, timeout=15)


def test_actor_resources_and_gpus(shutdown_only) -> None:
    ray.init(num_cpus=2, num_gpus=2, resources={"Custom": 1})

    @ray.remote(num_gpus=0.5)
    class GpuActor:
        def ids(self) -> tuple:
            return ray.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")

    a, b = GpuActor.remote(), GpuActor.remote()
    (ids_a, env_a), (ids_b, env_b) = ray.get([a.ids.remote(), b.ids.remote()])
    assert len(ids_a) == 1 and env_a == str(ids_a[0])
    assert len(ids_b) == 1 and env_b == str(ids_b[0])
    # Default actors hold no CPU while alive.
    plain = [Counter.remote() for _ in range(4)]
    assert ray.get([p.increment.remote() for p in plain]) == [1] * 4
    wait_for_condition(lambda: ray.available_resources().get("CPU") == 2.0)
    c = Counter.options(num_cpus=1, resources={"Custom": 1}).remote()
    ray.get(c.get.remote())
    wait_for_condition(lambda: ray.available_resources().get("CPU") == 1.0)
    assert "Custom" not in ray.available_resources()


def test_infeasible_actor_stays_pending_and_warns(shutdown_only, capfd) -> None:
    ray.init(num_cpus=1)

    @ray.remote(num_gpus=1)
    class NeedsGpu:
        def ping(self) -> str:
            return "pong"

    a = NeedsGpu.remote()
    ready, _ = ray.wait([a.ping.remote()], timeout=1.0)
    assert ready == []

    def warned() -> bool:
        return "no node can ever hold this actor's resources" in capfd.readouterr().err

    wait_for_condition(warned, timeout=10)


def test_actor_runs_later_calls_when_an_earlier_one_never_arrives(
    shutdown_only, monkeypatch
) -> None:
    from ray._private import ids, runtime, serialization
    from ray._private.generated import common_pb2, core_worker_pb2

    monkeypatch.setenv("RAY_SEQUENCE_GAP_TIMEOUT_S", "1")
    ray.init(num_cpus=1)
    c = Counter.remote()
    assert ray.get(c.increment.remote()) == 1
    cw = runtime.core_worker()
    info = cw.gcs.get_actor_info(c._ray_actor_id)
    task_id = ids.new_task_id(cw.job_id)
    spec = common_pb2.TaskSpec(
        task_id=task_id,
        job_id=cw.job_id,
        type=common_pb2.TASK_TYPE_ACTOR,
        name="Counter.increment",
        function=common_pb2.FunctionDescriptor(class_name="Counter", function_name="increment"),
        num_returns=1,
        return_ids=[ids.object_id_for_return(task_id, 1)],
        caller_address=cw.address,
        actor_id=c._ray_actor_id,
        sequence_number=1,  # call 0 of this (made-up) caller never arrives
    )
    request = core_worker_pb2.PushTaskRequest(task_spec=spec, caller_worker_id=b"x" * 28)
    reply = cw.workers.get(info.address).push_task(request, timeout_s=60)
    assert serialization.deserialize(reply.return_objects[0].data) == 2


def test_gpu_ids_and_assigned_resources_in_threaded_and_async_actors(shutdown_only) -> None:
    """Calls of threaded and async actors run off the thread that created the actor; they
    still see the actor's GPUs and resources."""
    ray.init(num_cpus=2, num_gpus=2)

    @ray.remote(num_gpus=1, max_concurrency=4)
    class Threaded:
        def info(self) -> tuple:
            ctx = ray.get_runtime_context()
            return ray.get_gpu_ids(), ctx.get_assigned_resources(), ctx.get_accelerator_ids()

    @ray.remote(num_gpus=1)
    class Async:
        async def info(self) -> tuple:
            ctx = ray.get_runtime_context()
            return ray.get_gpu_ids(), ctx.get_assigned_resources(), ctx.get_accelerator_ids()

    actors = [Threaded.remote(), Async.remote()]  # both alive at once: one GPU each
    results = ray.get([a.info.remote() for a in actors])
    seen = set()
    for gpu_ids, assigned, accelerators in results:
        assert len(gpu_ids) == 1, results
        assert assigned == {"GPU": 1.0}, results
        assert accelerators == {"GPU": [str(gpu_ids[0])]}
        seen.add(gpu_ids[0])
    assert seen == {0, 1}


def test_assigned_resources_of_a_task(ray_start_regular) -> None:
    @ray.remote(num_cpus=0.5, resources={"Custom": 0})
    def assigned() -> dict:
        return ray.get_runtime_context().get_assigned_resources()

    assert ray.get(assigned.remote()) == {"CPU": 0.5}
    assert ray.get_runtime_context().get_assigned_resources() == {}


def test_restarted_actor_knows_it_was_reconstructed(ray_start_regular) -> None:
    @ray.remote(max_restarts=1)
    class Phoenix:
        def state(self) -> tuple:
            return os.getpid(), ray.get_runtime_context().was_current_actor_reconstructed

    actor = Phoenix.remote()
    pid, reconstructed = ray.get(actor.state.remote())
    assert reconstructed is False
    psutil.Process(pid).kill()

    def restarted():
        try:
            new_pid, again = ray.get(actor.state.remote(), timeout=10)
        except ray.exceptions.RayActorError:
            return False
        return new_pid != pid and again

    wait_for_condition(restarted, timeout=60)
