"""Resource requirements of tasks: CPUs, GPUs (also fractional) and custom resources.

Declares the resources of the local node with `ray.init(num_cpus=8, num_gpus=4,
resources={'Custom': 2})` (no real GPU is needed), then runs the walkthrough's
resource examples: a task that needs 4 CPUs and 2 GPUs, fractional GPU tasks
that share one device through CUDA_VISIBLE_DEVICES, and a custom resource.
Run: `python examples/resources.py`.
"""

import os

import ray

ray.init(num_cpus=8, num_gpus=4, resources={"Custom": 2})
total = ray.cluster_resources()
assert total["CPU"] == 8 and total["GPU"] == 4 and total["Custom"] == 2


@ray.remote(num_cpus=4, num_gpus=2)
def f():
    return 1


assert ray.get(f.remote()) == 1


@ray.remote(num_gpus=2)
def which_gpus():
    return ray.get_gpu_ids(), os.environ["CUDA_VISIBLE_DEVICES"]


gpu_ids, visible = ray.get(which_gpus.remote())
assert len(gpu_ids) == 2
assert visible.split(",") == [str(i) for i in gpu_ids]


# Ray also supports fractional resource requirements
@ray.remote(num_gpus=0.5)
def h():
    return 1


assert ray.get([h.remote() for _ in range(4)]) == [1, 1, 1, 1]


@ray.remote(num_gpus=0.5)
def my_gpu():
    return ray.get_gpu_ids()


for ids in ray.get([my_gpu.remote() for _ in range(4)]):
    assert len(ids) == 1


# Ray support custom resources too.
@ray.remote(resources={"Custom": 1})
def f():
    return 1


assert ray.get([f.remote() for _ in range(4)]) == [1, 1, 1, 1]

ray.shutdown()
print("resources: all steps passed")
