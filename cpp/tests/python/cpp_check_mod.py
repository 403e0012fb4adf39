"""Python functions and an actor that the C++ cluster tests (cpp/tests/cluster_test.cc) call."""

def add(a, b):
    return a + b

def fail(x):
    raise ValueError(f"bad value {x}")

def make_blob(n):
    return bytes(range(256)) * (n // 256)

class Counter:
    def __init__(self, start):
        self.value = start

    def incr(self, by):
        self.value += by
        return self.value
