"""The Python function the Java benchmark (JavaBench.java) calls."""

import ray


@ray.remote
def noop(x):
    return x
