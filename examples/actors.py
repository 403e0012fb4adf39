"""Actors from the Ray core walkthrough: stateful Counter workers.

Methods on one actor run in call order and share state; calls on different
actors run in parallel.
"""

import ray

ray.init()


@ray.remote
class Counter:
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value += 1
        return self.value


# Create ten Counter actors.
counters = [Counter.remote() for _ in range(10)]

# Increment each Counter once and get the results. These tasks all happen in parallel.
results = ray.get([c.increment.remote() for c in counters])
print(results)
assert results == [1] * 10

# Increment the first Counter five times. These tasks are executed serially and share state.
results = ray.get([counters[0].increment.remote() for _ in range(5)])
print(results)
assert results == [2, 3, 4, 5, 6]

ray.shutdown()
