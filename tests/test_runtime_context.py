"""`ray.get_runtime_context()`: ids, assigned resources, accelerator ids, the current actor and
the runtime env, in drivers, tasks and actors, with upstream's errors in the wrong place."""

from __future__ import annotations

import os

import pytest

import ray
from ray.runtime_context import RuntimeContext, get_runtime_context

pytestmark = pytest.mark.timeout(180)


def test_before_init_nothing_starts():
    assert not ray.is_initialized()
    with pytest.raises(AssertionError, match="not been initialized"):
        get_runtime_context().get_job_id()
    assert not ray.is_initialized()


def test_driver_context(ray_start_regular):
    ctx = ray.get_runtime_context()
    assert isinstance(ctx, RuntimeContext)
    assert ctx.get_job_id() == ray_start_regular["job_id"]
    assert ctx.get_node_id() == ray_start_regular["node_id"]
    assert len(ctx.get_worker_id()) == 56
    assert ctx.get_task_id() is None
    assert ctx.get_actor_id() is None
    assert ctx.get_actor_name() is None
    with pytest.warns(DeprecationWarning, match="get_job_id"):
        assert ctx.job_id.hex() == ctx.get_job_id()
    with pytest.warns(DeprecationWarning, match="get_node_id"):
        assert ctx.node_id.hex() == ctx.get_node_id()
    assert ctx.get_assigned_resources() == {}
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(AssertionError, match="only available when the process is a worker"),
    ):
        ctx.task_id  # noqa: B018
    with pytest.raises(RuntimeError, match="only available in an actor"):
        ctx.current_actor  # noqa: B018
    assert ctx.get_runtime_env_string() == "{}"
    assert ctx.runtime_env == {}


def test_task_context(ray_start_regular):
    @ray.remote
    def inside() -> dict:
        ctx = ray.get_runtime_context()
        with pytest.warns(DeprecationWarning):
            task_id = ctx.task_id
        with pytest.warns(DeprecationWarning):
            actor_id = ctx.actor_id
        try:
            ctx.was_current_actor_reconstructed  # noqa: B018
            reconstructed_error = None
        except AssertionError as err:
            reconstructed_error = str(err)
        return {
            "task_id": ctx.get_task_id(),
            "task_id_prop": task_id.hex(),
            "actor_id": ctx.get_actor_id(),
            "actor_id_prop": actor_id,
            "job_id": ctx.get_job_id(),
            "node_id": ctx.get_node_id(),
            "worker_id": ctx.get_worker_id(),
            "resources": ctx.get_assigned_resources(),
            "name": ctx.get_task_name(),
            "reconstructed_error": reconstructed_error,
        }

    ref = inside.options(num_cpus=0.5, name="ctx-task").remote()
    got = ray.get(ref, timeout=120)
    assert got["task_id"] == got["task_id_prop"]
    assert got["task_id"] != ray.get(inside.remote(), timeout=120)["task_id"]
    assert got["actor_id"] is None and got["actor_id_prop"] is None
    assert got["job_id"] == ray.get_runtime_context().get_job_id()
    assert got["node_id"] == ray.get_runtime_context().get_node_id()
    assert got["worker_id"] != ray.get_runtime_context().get_worker_id()
    assert got["resources"] == {"CPU": 0.5}
    assert got["name"] == "ctx-task"
    assert "inside Ray tasks" in got["reconstructed_error"]


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2, "num_gpus": 2}], indirect=True)
def test_gpu_ids_and_cuda_visible_devices(ray_start_regular):
    @ray.remote(num_gpus=1)
    def one_gpu() -> tuple:
        ctx = ray.get_runtime_context()
        return (
            ctx.get_accelerator_ids(),
            os.environ.get("CUDA_VISIBLE_DEVICES"),
            (ctx.get_assigned_resources()),
        )

    @ray.remote(num_gpus=2)
    def two_gpus() -> tuple:
        return ray.get_runtime_context().get_accelerator_ids(), os.environ.get(
            "CUDA_VISIBLE_DEVICES"
        )

    ids, visible, resources = ray.get(one_gpu.remote(), timeout=120)
    assert len(ids["GPU"]) == 1 and ids["GPU"][0] in ("0", "1")
    assert visible == ids["GPU"][0]
    assert resources == {"CPU": 1.0, "GPU": 1.0}
    ids, visible = ray.get(two_gpus.remote(), timeout=120)
    assert sorted(ids["GPU"]) == ["0", "1"]
    assert sorted(visible.split(",")) == ["0", "1"]


def test_actor_context(ray_start_regular):
    @ray.remote(num_cpus=1)
    class Probe:
        def info(self) -> dict:
            ctx = ray.get_runtime_context()
            return {
                "actor_id": ctx.get_actor_id(),
                "name": ctx.get_actor_name(),
                "reconstructed": ctx.was_current_actor_reconstructed,
                "resources": ctx.get_assigned_resources(),
                "self_id": ctx.current_actor._actor_id.hex(),
            }

    named = Probe.options(name="probe-ctx").remote()
    anonymous = Probe.remote()
    got = ray.get(named.info.remote(), timeout=120)
    assert got["actor_id"] == named._actor_id.hex() == got["self_id"]
    assert got["name"] == "probe-ctx"
    assert got["reconstructed"] is False
    assert got["resources"] == {"CPU": 1.0}
    assert ray.get(anonymous.info.remote(), timeout=120)["name"] == ""


def test_runtime_env_in_context(shutdown_only):
    ray.init(num_cpus=1, runtime_env={"env_vars": {"CTX_JOB": "1"}})
    assert ray.get_runtime_context().runtime_env == {"env_vars": {"CTX_JOB": "1"}}

    @ray.remote(runtime_env={"env_vars": {"CTX_TASK": "2"}})
    def inside() -> tuple:
        ctx = ray.get_runtime_context()
        return ctx.runtime_env, ctx.get_runtime_env_string()

    env, text = ray.get(inside.remote(), timeout=120)
    assert env == {"env_vars": {"CTX_JOB": "1", "CTX_TASK": "2"}}
    assert type(env).__name__ == "RuntimeEnv"
    assert '"CTX_TASK"' in text
