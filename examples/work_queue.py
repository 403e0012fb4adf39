"""A work queue shared by tasks and an actor: `ray.util.queue.Queue`.

Producer tasks put jobs into a bounded queue (a put waits while it is full), an actor
takes them out and sums them, and the driver uses the non-blocking calls and the
Empty exception. (This file is not called queue.py: that name would hide Python's own
`queue` module from the program.)
"""

import ray
from ray.util.queue import Empty, Queue

ray.init(num_cpus=2)

jobs = Queue(maxsize=5)


@ray.remote
def produce(q, start, count):
    for i in range(start, start + count):
        q.put(i, timeout=30)  # blocks while the queue is full
    return count


@ray.remote
class Summer:
    def __init__(self, q):
        self.q = q

    def take(self, n):
        return sum(self.q.get(timeout=30) for _ in range(n))


summer = Summer.remote(jobs)
total = summer.take.remote(20)
produced = ray.get([produce.remote(jobs, 0, 10), produce.remote(jobs, 10, 10)])
assert sum(produced) == 20
assert ray.get(total) == sum(range(20)), ray.get(total)
print("the actor summed", ray.get(total))

assert jobs.empty()
try:
    jobs.get_nowait()
except Empty:
    print("the queue is empty now")

jobs.put_nowait_batch(["a", "b", "c"])
assert jobs.qsize() == 3
assert jobs.get_nowait_batch(3) == ["a", "b", "c"]
jobs.shutdown()
ray.shutdown()
