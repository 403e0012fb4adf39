"""A Ray-compatible runtime for tasks, actors and objects: `import ray`.

The public names below load eagerly, as users expect from `import ray`. The runtime's own
processes (GCS, node manager, workers) import `ray._private.*` without the driver API: their
launcher sets SERVICE_PROCESS_ENV, and then each public name loads on first use instead
(PEP 562). The GCS and node manager never load it; a worker loads it when the code it runs
first touches `ray.<name>`.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

__version__ = "2.60.0"

# Set by the launcher of the runtime's own processes (see the module docstring).
SERVICE_PROCESS_ENV = "RAY_SERVICE_PROCESS"

# Public name -> (module, attribute in it; None for the module itself).
_PUBLIC: dict[str, tuple[str, str | None]] = {
    "cross_language": ("ray.cross_language", None),
    "exceptions": ("ray.exceptions", None),
    "available_resources": ("ray._private.api", "available_resources"),
    "cancel": ("ray._private.api", "cancel"),
    "cluster_resources": ("ray._private.api", "cluster_resources"),
    "get": ("ray._private.api", "get"),
    "get_gpu_ids": ("ray._private.api", "get_gpu_ids"),
    "nodes": ("ray._private.api", "nodes"),
    "put": ("ray._private.api", "put"),
    "remote": ("ray._private.api", "remote"),
    "wait": ("ray._private.api", "wait"),
    "ObjectRef": ("ray._private.object_ref", "ObjectRef"),
    "ObjectID": ("ray._private.object_ref", "ObjectRef"),
    "DynamicObjectRefGenerator": ("ray._private.object_ref_generator", "DynamicObjectRefGenerator"),
    "ObjectRefGenerator": ("ray._private.object_ref_generator", "ObjectRefGenerator"),
    "init": ("ray._private.runtime", "init"),
    "is_initialized": ("ray._private.runtime", "is_initialized"),
    "shutdown": ("ray._private.runtime", "shutdown"),
    "get_runtime_context": ("ray._private.runtime_context", "get_runtime_context"),
    "get_actor": ("ray.actor", "get_actor"),
    "kill": ("ray.actor", "kill"),
    "method": ("ray.actor", "method"),
}

__all__ = sorted(_PUBLIC)

logging.getLogger(__name__).addHandler(logging.NullHandler())


def _load(name: str) -> Any:
    module_name, attribute = _PUBLIC[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return _load(name)
    raise AttributeError(f"module 'ray' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


if os.environ.get(SERVICE_PROCESS_ENV) != "1":
    for _name in _PUBLIC:
        _load(_name)
    del _name
