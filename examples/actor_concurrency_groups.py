"""Concurrency groups: one actor serves slow I/O calls and quick status calls side by side.

The actor has two groups, "io" (2 calls at once) and "status" (1); its methods opt in with
`@ray.method(concurrency_group=...)`, and one call is moved into a group with
`.options(concurrency_group=...)`. While both "io" slots are busy waiting on a gate, a status
call still runs at once, and a third I/O call waits its turn. Cancelling the waiting call
drops it.
"""

import asyncio
import time

import ray


@ray.remote
class Gate:
    """Calls of `wait` return once `open` was called."""

    def __init__(self):
        self.opened = asyncio.Event()

    async def wait(self):
        await self.opened.wait()

    async def open(self):
        self.opened.set()


@ray.remote(concurrency_groups={"io": 2, "status": 1})
class Service:
    def __init__(self, gate):
        self.gate = gate
        self.running = 0

    @ray.method(concurrency_group="io")
    async def fetch(self, key):
        self.running += 1
        try:
            await self.gate.wait.remote()
        finally:
            self.running -= 1
        return f"value of {key}"

    @ray.method(concurrency_group="status")
    async def busy(self):
        return self.running

    async def describe(self):
        return "a service with two concurrency groups"


def main():
    ray.init(num_cpus=2)
    gate = Gate.remote()
    service = Service.remote(gate)

    first = [service.fetch.remote(k) for k in ("a", "b")]
    waiting = service.fetch.remote("c")  # both "io" slots are taken: it waits
    # The "status" group answers while "io" is full.
    while ray.get(service.busy.remote()) < 2:
        time.sleep(0.05)
    print("I/O calls running:", ray.get(service.busy.remote()))
    # A default-group method can be sent to a group per call.
    print(ray.get(service.describe.options(concurrency_group="status").remote()))

    ray.cancel(waiting)
    try:
        ray.get(waiting)
        raise AssertionError("the cancelled call ran")
    except ray.exceptions.TaskCancelledError:
        print("the waiting call was cancelled")

    ray.get(gate.open.remote())
    results = ray.get(first)
    print(results)
    assert results == ["value of a", "value of b"]
    ray.shutdown()


if __name__ == "__main__":
    main()
