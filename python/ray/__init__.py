"""A Ray-compatible runtime for tasks, actors and objects: `import ray`."""

from __future__ import annotations

import logging

from ray import cross_language, exceptions
from ray._private.api import (
    available_resources,
    cancel,
    cluster_resources,
    get,
    get_gpu_ids,
    nodes,
    put,
    remote,
    wait,
)
from ray._private.object_ref import ObjectRef
from ray._private.object_ref_generator import DynamicObjectRefGenerator, ObjectRefGenerator
from ray._private.runtime import init, is_initialized, shutdown
from ray._private.runtime_context import get_runtime_context
from ray.actor import get_actor, kill, method

__version__ = "2.60.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

ObjectID = ObjectRef

__all__ = [
    "DynamicObjectRefGenerator",
    "ObjectRef",
    "ObjectRefGenerator",
    "ObjectID",
    "available_resources",
    "cancel",
    "cluster_resources",
    "cross_language",
    "exceptions",
    "get",
    "get_actor",
    "get_gpu_ids",
    "get_runtime_context",
    "init",
    "is_initialized",
    "kill",
    "method",
    "nodes",
    "put",
    "remote",
    "shutdown",
    "wait",
]
