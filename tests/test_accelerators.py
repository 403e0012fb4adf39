"""`ray.util.accelerators` constants and the `accelerator_type=` option: a task or actor asking
for an accelerator type runs only on a node offering `accelerator_type:<name>`."""

from __future__ import annotations

import pytest

import ray
from ray._private import options as opts
from ray.util import accelerators
from ray.util.accelerators import NVIDIA_A100, NVIDIA_TESLA_V100

pytestmark = pytest.mark.timeout(240)


def test_constants():
    assert NVIDIA_TESLA_V100 == "V100"
    assert NVIDIA_A100 == "A100"
    assert accelerators.NVIDIA_H100 == "H100"
    assert accelerators.GOOGLE_TPU_V4 == "TPU-V4"
    assert accelerators.AWS_NEURON_CORE == "aws-neuron-core"
    assert "NVIDIA_TESLA_T4" in accelerators.__all__
    with pytest.warns(DeprecationWarning, match="use NVIDIA_A100"):
        assert accelerators.NVIDIA_TESLA_A100 == "A100"
    with pytest.raises(AttributeError):
        accelerators.NO_SUCH_GPU  # noqa: B018


def test_accelerator_type_is_a_resource_request():
    request = opts.resource_request({"num_gpus": 1, "accelerator_type": "V100"}, 1)
    assert request == {"CPU": 1.0, "GPU": 1.0, "accelerator_type:V100": 0.001}
    with pytest.raises(TypeError, match="accelerator_type must be a str"):

        @ray.remote(accelerator_type=100)
        def f() -> None:
            pass


def test_accelerator_type_schedules_on_the_node_that_has_it(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=2)
    v100_node = cluster.add_node(num_cpus=2, resources={"accelerator_type:V100": 1})
    cluster.connect()

    @ray.remote(accelerator_type=NVIDIA_TESLA_V100)
    def where() -> str:
        return ray.get_runtime_context().get_node_id()

    @ray.remote(accelerator_type=NVIDIA_TESLA_V100, num_cpus=1)
    class OnV100:
        def where(self) -> str:
            return ray.get_runtime_context().get_node_id()

    nodes = set(ray.get([where.remote() for _ in range(6)], timeout=180))
    assert nodes == {v100_node.node_id.hex()}
    actor = OnV100.remote()
    assert ray.get(actor.where.remote(), timeout=180) == v100_node.node_id.hex()
    # No node has an A100: the task waits (it is not run elsewhere).
    pending = where.options(accelerator_type=NVIDIA_A100).remote()
    ready, _ = ray.wait([pending], timeout=3)
    assert ready == []
    ray.cancel(pending)
