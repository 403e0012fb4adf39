"""Writing and mapping object files; used by processes other than the store's owner.

A writer asks the node's store for a path (``ObjectStore.create``), fills the
file with :func:`write_object` and asks the store to seal it. A reader asks the
store for the path and size of a sealed object (``ObjectStore.get``) and maps it
with :func:`map_object`. The mapping is read-only and shared: numpy arrays
deserialized from it are zero-copy views of the store's memory.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
from collections.abc import Callable

logger = logging.getLogger(__name__)

_FILE_MODE = 0o600


def write_object(path: str, size: int, writer: Callable[[memoryview], None]) -> None:
    """Creates the object file at ``path`` and fills it through a writable mapping.

    The file is created exclusively (it must not exist yet), sized to ``size``
    bytes and mapped shared and writable; ``writer`` receives a memoryview of
    exactly ``size`` bytes and must fill it. If ``writer`` raises, the partial
    file is removed (the caller should still ``abort`` the object in the store).

    Args:
        path: The path the store returned from ``create``.
        size: The object's size in bytes (0 is allowed).
        writer: Fills the view, e.g. ``SerializedObject.write_to``. It should not
            keep references to the view after it returns.

    Raises:
        FileExistsError: ``path`` already exists.
        ValueError: ``size`` is negative.
        OSError: The file could not be created or sized (e.g. /dev/shm is full).
    """
    if size < 0:
        raise ValueError(f"object size must be >= 0, got {size}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        if size == 0:
            writer(memoryview(bytearray()))
            return
        os.ftruncate(fd, size)
        mm = mmap.mmap(fd, size, access=mmap.ACCESS_WRITE)
        try:
            view = memoryview(mm)
            try:
                writer(view)
            finally:
                _release(view)
        finally:
            try:
                mm.close()
            except BufferError:
                # The writer kept a view alive; the mapping goes when it does.
                logger.debug("writer kept a view of %s; leaving the map to the GC", path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    finally:
        os.close(fd)


def _release(view: memoryview) -> None:
    """Releases ``view`` unless something still exports it."""
    try:
        view.release()
    except BufferError:
        logger.debug("object view still exported after write; not released")


def write_object_fd(path: str, writer: Callable[[int], None]) -> None:
    """Creates the object file at ``path`` and lets ``writer`` fill it through its fd.

    Faster than :func:`write_object` for large objects (no page fault per page).
    If ``writer`` raises, the partial file is removed.

    Raises:
        FileExistsError: ``path`` already exists.
        OSError: The file could not be created or written (e.g. /dev/shm is full).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        writer(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    finally:
        os.close(fd)


def map_object(path: str, size: int) -> memoryview:
    """Maps a sealed object file read-only and returns a view of its bytes.

    The mapping is never closed explicitly: it lives as long as the returned
    view or anything derived from it (slices, numpy arrays), and stays valid
    after the store unlinks the file (when it evicts, spills or frees it).

    Args:
        path: The path the store returned from ``get``.
        size: The object's size in bytes, as returned by ``get`` (0 is allowed).

    Returns:
        A read-only memoryview of exactly ``size`` bytes.

    Raises:
        FileNotFoundError: The file is gone (the store evicted or spilled the
            object since ``get``); ask the store again.
        ValueError: The file is shorter than ``size`` or ``size`` is negative.
    """
    if size < 0:
        raise ValueError(f"object size must be >= 0, got {size}")
    if size == 0:
        return memoryview(b"")
    fd = os.open(path, os.O_RDONLY)
    try:
        mm = mmap.mmap(fd, size, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    return memoryview(mm)
