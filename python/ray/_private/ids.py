"""Binary ids: jobs (4 bytes), tasks (24: 20 random + job id), objects (28: task id + index),
workers, nodes and actors (28 random bytes, actors embed their job id)."""

from __future__ import annotations

import itertools
import logging
import os
import struct
import threading

logger = logging.getLogger(__name__)

JOB_ID_SIZE = 4
TASK_ID_SIZE = 24
OBJECT_ID_SIZE = 28
UNIQUE_ID_SIZE = 28
# Index used by `ray.put` objects (task returns count from 1).
PUT_INDEX = 0


class _IdSource:
    """Unique 20-byte prefixes: 12 random bytes per process + an 8-byte counter (no syscall per id)."""

    def __init__(self) -> None:
        self._pid = -1
        self._lock = threading.Lock()
        self._prefix = b""
        self._counter = itertools.count()

    def next(self) -> bytes:
        if self._pid != os.getpid():  # a fork must not repeat the parent's ids
            with self._lock:
                if self._pid != os.getpid():
                    self._prefix = os.urandom(12)
                    self._counter = itertools.count()
                    self._pid = os.getpid()
        return self._prefix + next(self._counter).to_bytes(8, "big")


_IDS = _IdSource()


def new_unique_id() -> bytes:
    """A random 28-byte id (node, worker, lease)."""
    return os.urandom(UNIQUE_ID_SIZE)


def job_id_from_int(value: int) -> bytes:
    return struct.pack(">I", value)


def job_id_to_int(job_id: bytes) -> int:
    return struct.unpack(">I", job_id)[0]


def new_task_id(job_id: bytes) -> bytes:
    return _IDS.next() + job_id


def new_actor_id(job_id: bytes) -> bytes:
    return os.urandom(UNIQUE_ID_SIZE - JOB_ID_SIZE) + job_id


def object_id_for_return(task_id: bytes, index: int) -> bytes:
    """Id of the `index`-th (1-based) return of a task."""
    return task_id + struct.pack(">I", index)


def new_put_object_id(job_id: bytes) -> bytes:
    return new_task_id(job_id) + struct.pack(">I", PUT_INDEX)


def task_id_of_object(object_id: bytes) -> bytes:
    return object_id[:TASK_ID_SIZE]


def job_id_of_task(task_id: bytes) -> bytes:
    return task_id[-JOB_ID_SIZE:]


def short(id_bytes: bytes) -> str:
    """A short hex prefix for logs and messages."""
    return id_bytes.hex()[:12]
