"""The node's shared-memory object store.

``ObjectStore`` (owned by the node manager) does the accounting, LRU eviction and
spilling; ``write_object`` and ``map_object`` are what writers and readers in
other processes use to fill and map the object files it hands out.
"""

from __future__ import annotations

import logging

from .errors import ObjectExistsError, ObjectStoreFullError
from .shm import map_object, write_object, write_object_fd
from .store import ObjectStore, StoreStats, written_path

logger = logging.getLogger(__name__)

__all__ = [
    "ObjectExistsError",
    "ObjectStore",
    "ObjectStoreFullError",
    "StoreStats",
    "map_object",
    "write_object",
    "write_object_fd",
    "written_path",
]
