"""Generator tasks in Ray: values streamed from a task or actor method as they are yielded.

Shows a remote function whose body yields (it returns an `ObjectRefGenerator`), reading
each value before the task has finished, `async for` over an async actor's generator,
`ray.wait` on generators, an error raised at the position where the task failed,
backpressure with `_generator_backpressure_num_objects`, and `num_returns="dynamic"`.
Run: `python examples/generators.py`.
"""

import asyncio
import time

import ray
from ray.exceptions import RayTaskError

ray.init(num_cpus=2)


@ray.remote
def countdown(n):
    for i in range(n, 0, -1):
        time.sleep(0.05)
        yield i


# Each ref is ready as soon as the task yielded its value.
gen = countdown.remote(5)
assert isinstance(gen, ray.ObjectRefGenerator)
first = ray.get(next(gen))
assert first == 5
assert [ray.get(ref) for ref in gen] == [4, 3, 2, 1]


@ray.remote
class Sensor:
    async def readings(self, n):
        for i in range(n):
            await asyncio.sleep(0.01)
            yield {"reading": i}


async def read_all(sensor):
    return [(await ref)["reading"] async for ref in sensor.readings.remote(3)]


sensor = Sensor.remote()
assert asyncio.run(read_all(sensor)) == [0, 1, 2]

# ray.wait takes generators: one is ready when its next value is.
slow, fast = countdown.remote(3), countdown.options(name="fast").remote(1)
ready, _ = ray.wait([slow, fast], num_returns=2, timeout=30)
assert len(ready) == 2
assert [ray.get(r) for r in fast] == [1] and [ray.get(r) for r in slow] == [3, 2, 1]


@ray.remote
def parse(lines):
    for line in lines:
        yield int(line)


# The error surfaces at the value where the task failed; the values before it are fine.
values = []
for ref in parse.remote(["1", "2", "three", "4"]):
    try:
        values.append(ray.get(ref))
    except RayTaskError as err:
        assert isinstance(err, ValueError)
        values.append("error")
assert values == [1, 2, "error"]

# Backpressure: the task pauses while 2 yielded values are unread.
paced = countdown.options(_generator_backpressure_num_objects=2).remote(4)
assert [ray.get(r) for r in paced] == [4, 3, 2, 1]


# num_returns="dynamic": one ref, whose value holds the refs of every yielded value.
@ray.remote(num_returns="dynamic")
def chunks(n):
    for i in range(n):
        yield list(range(i))


dynamic = ray.get(chunks.remote(3))
assert isinstance(dynamic, ray.DynamicObjectRefGenerator)
assert [ray.get(r) for r in dynamic] == [[], [0], [0, 1]]

ray.shutdown()
