"""The Python function and actor the Java benchmark (JavaBench.java) calls."""

import ray


@ray.remote
def noop(x):
    return x


@ray.remote
class Echo:
    def ping(self, x):
        return x
