"""Functions and actor classes the gateway tests call by name (this directory is the job's
code search path; the workers import this module from it)."""

from __future__ import annotations

import os
import time

import numpy as np

import ray


def add(a, b):
    return a + b


@ray.remote
def multiply(a, b):
    return a * b


def checksum(array):
    return int(np.asarray(array, dtype=np.int64).sum())


def echo(value):
    return value


def length(value):
    return len(value)


def fail(message):
    raise ValueError(message)


def python_only():
    return (1, 2)


def sleep(seconds):
    time.sleep(seconds)
    return seconds


def pid():
    return os.getpid()


def make_array(n):
    return np.arange(n, dtype=np.int64)


class Counter:
    def __init__(self, start=0):
        self.value = start

    def increment(self, by=1):
        self.value += by
        return self.value

    def pid(self):
        return os.getpid()
