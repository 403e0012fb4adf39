"""Python functions and an actor that the Java cluster tests call by name (PyFunction, PyActorClass)."""

import ray


@ray.remote
def add(a, b):
    return a + b


@ray.remote
def echo(value):
    return value


@ray.remote
def fail(message):
    raise ValueError(message)


@ray.remote
def python_only():
    return (1, 2)


@ray.remote
class Counter:
    def __init__(self, start):
        self.value = start

    def increment(self):
        self.value += 1
        return self.value

    def get(self):
        return self.value
