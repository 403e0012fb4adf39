"""The per-node object store: accounting, LRU eviction and spilling of object files.

Objects live as one file each in a per-node directory under ``/dev/shm``; the
store hands out paths, but other processes write and map the files (see
``shm.py``). The store itself does no RPC: the node manager calls it under its
lock. It does touch the filesystem, to unlink files and to copy them to and
from the spill directory.

Object life cycle::

    create -> (writer fills the file) -> seal --> in memory <--spill/restore--> spilled
       |                                              |                           |
       +-- abort                       evict (unpinned only), free        free ---+

Making room (``create`` and restoring in ``get``): evict sealed unpinned objects
in LRU order, then spill sealed pinned objects in LRU order, then give up with
``ObjectStoreFullError``. Objects still being written are never touched. Nothing
is evicted or spilled if even that could not make enough room.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import ObjectExistsError, ObjectStoreFullError

logger = logging.getLogger(__name__)

_DIR_MODE = 0o700


@dataclass(frozen=True)
class StoreStats:
    """A snapshot of the store's accounting.

    Attributes:
        used_bytes: Bytes of objects in memory: being written or sealed (spilled
            objects do not count).
        capacity_bytes: The store's capacity.
        num_objects: Objects the store knows, in any state (being written,
            sealed in memory, or spilled).
        num_spilled: Objects currently only on disk (spilled, not restored).
        spilled_bytes: Bytes of those objects.
        num_evicted: Objects evicted since the store started.
        num_restored: Restores from disk since the store started.
    """

    used_bytes: int
    capacity_bytes: int
    num_objects: int
    num_spilled: int
    spilled_bytes: int
    num_evicted: int
    num_restored: int


@dataclass
class _Entry:
    """What the store knows about one object."""

    size: int
    sealed: bool = False
    pinned: bool = False
    # The shm file exists and the object counts in used_bytes.
    in_memory: bool = True
    # A copy exists in the spill directory (kept after a restore until free()).
    has_spill_file: bool = False


def written_prefix(writer_id: bytes) -> str:
    """The name prefix of the files one writer writes for ``ObjectStore.put_written``."""
    return f".put-{writer_id.hex()}-"


def written_path(store_dir: str, writer_id: bytes, object_id: bytes) -> str:
    """Where a writer writes an object before handing it to ``ObjectStore.put_written``."""
    return os.path.join(store_dir, f"{written_prefix(writer_id)}{object_id.hex()}")


class ObjectStore:
    """Tracks the objects of one node and keeps their memory within a capacity.

    Not thread-safe: the owner serializes calls (the node manager holds its lock).

    Args:
        shm_dir: Directory for the object files, normally under ``/dev/shm``.
            Created with mode 0700 if missing; removed by ``shutdown``.
        spill_dir: Directory on disk for spilled objects. Created with mode 0700
            if missing; removed by ``shutdown``.
        capacity_bytes: Most bytes of objects kept in memory at once.
    """

    def __init__(self, shm_dir: str, spill_dir: str, capacity_bytes: int) -> None:
        if capacity_bytes < 0:
            raise ValueError(f"capacity_bytes must be >= 0, got {capacity_bytes}")
        self._shm_dir = shm_dir
        self._spill_dir = spill_dir
        self._capacity = capacity_bytes
        for path in (shm_dir, spill_dir):
            os.makedirs(path, mode=_DIR_MODE, exist_ok=True)
            os.chmod(path, _DIR_MODE)
        self._entries: dict[bytes, _Entry] = {}
        # Sealed, in-memory objects, least recently used first.
        self._unpinned_lru: OrderedDict[bytes, None] = OrderedDict()
        self._pinned_lru: OrderedDict[bytes, None] = OrderedDict()
        self._used_bytes = 0
        self._unsealed_bytes = 0
        self._num_spilled = 0
        self._spilled_bytes = 0
        self._num_evicted = 0
        self._num_restored = 0
        logger.debug(
            "object store at %s (spill %s), capacity %d bytes", shm_dir, spill_dir, capacity_bytes
        )

    # ---- paths --------------------------------------------------------------

    @property
    def shm_dir(self) -> str:
        """Where the object files are (`<shm_dir>/<object id in hex>`)."""
        return self._shm_dir

    def _shm_path(self, object_id: bytes) -> str:
        return os.path.join(self._shm_dir, object_id.hex())

    def _spill_path(self, object_id: bytes) -> str:
        return os.path.join(self._spill_dir, object_id.hex())

    # ---- writer side ----------------------------------------------------------

    def create(self, object_id: bytes, size_bytes: int) -> str:
        """Reserves room for a new object and returns the path its writer must create.

        Makes room if needed: evicts sealed unpinned objects, then spills sealed
        pinned objects, least recently used first.

        Args:
            object_id: The new object's id.
            size_bytes: Its exact size in bytes (0 is allowed).

        Returns:
            The path of the file to create (with ``shm.write_object``).

        Raises:
            ObjectExistsError: The id was already created (sealed, unsealed or spilled).
            ObjectStoreFullError: The object is larger than the capacity, or not
                enough room could be made.
            ValueError: ``size_bytes`` is negative.
        """
        if size_bytes < 0:
            raise ValueError(f"size_bytes must be >= 0, got {size_bytes}")
        if object_id in self._entries:
            raise ObjectExistsError(object_id)
        self._make_room(object_id, size_bytes)
        path = self._shm_path(object_id)
        # A stale file (a writer that finished after its object was freed) would
        # make the writer's exclusive create fail.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        self._entries[object_id] = _Entry(size=size_bytes)
        self._used_bytes += size_bytes
        self._unsealed_bytes += size_bytes
        logger.debug("created %s (%d bytes)", object_id.hex(), size_bytes)
        return path

    def put_written(self, object_id: bytes, size_bytes: int, written_path: str, pin: bool) -> str:
        """Takes in an object its writer already wrote (at ``written_path``), sealed at once.

        Makes room as ``create`` does, then moves the file to the object's path. On any
        failure the written file is removed.

        Args:
            object_id: The new object's id.
            size_bytes: Its size; the written file must have exactly this size.
            written_path: The file the writer wrote, in this store's directory
                (``written_path`` below).
            pin: Keep it until ``free`` (see ``seal``).

        Returns:
            The object's path.

        Raises:
            ObjectExistsError: The id was already created.
            ObjectStoreFullError: Not enough room could be made.
            FileNotFoundError: There is no written file of that size.
        """
        try:
            if object_id in self._entries:
                raise ObjectExistsError(object_id)
            if os.stat(written_path).st_size != size_bytes:
                raise FileNotFoundError(f"{written_path} does not hold {size_bytes} bytes")
            self._make_room(object_id, size_bytes)
            path = self._shm_path(object_id)
            os.replace(written_path, path)
        except BaseException:
            self._unlink(written_path)
            raise
        entry = self._entries[object_id] = _Entry(size=size_bytes, sealed=True, pinned=pin)
        self._used_bytes += size_bytes
        self._lru_for(entry)[object_id] = None
        logger.debug("put %s (%d bytes, pinned=%s)", object_id.hex(), size_bytes, pin)
        return path

    def drop_written(self, writer_id: bytes) -> int:
        """Removes the files a writer wrote but never handed in (it died); returns how many."""
        prefix = written_prefix(writer_id)
        removed = 0
        with os.scandir(self._shm_dir) as entries:
            for entry in entries:
                if entry.name.startswith(prefix):
                    self._unlink(entry.path)
                    removed += 1
        return removed

    def seal(self, object_id: bytes, pin: bool) -> None:
        """Marks an object as fully written; from now on it is readable and immutable.

        Sealing a sealed object again does nothing, except that ``pin=True``
        pins an unpinned one.

        Args:
            object_id: The object the writer finished.
            pin: Keep it until ``free`` (a primary copy): it may be spilled to
                disk but never evicted. Unpinned objects (secondary copies) may
                be evicted when room is needed.

        Raises:
            KeyError: The object was never created, or was aborted or freed.
        """
        entry = self._entries.get(object_id)
        if entry is None:
            raise KeyError(f"cannot seal unknown object {object_id.hex()}")
        if entry.sealed:
            if pin and not entry.pinned:
                entry.pinned = True
                if entry.in_memory:
                    del self._unpinned_lru[object_id]
                    self._pinned_lru[object_id] = None
            return
        entry.sealed = True
        entry.pinned = pin
        self._unsealed_bytes -= entry.size
        self._lru_for(entry)[object_id] = None
        logger.debug("sealed %s (pinned=%s)", object_id.hex(), pin)

    def abort(self, object_id: bytes) -> None:
        """Drops an unsealed object whose writer failed, and unlinks its partial file.

        Unknown ids are ignored; sealed objects are left alone.

        Args:
            object_id: The object whose write failed.
        """
        entry = self._entries.get(object_id)
        if entry is None:
            return
        if entry.sealed:
            logger.warning("ignoring abort of sealed object %s", object_id.hex())
            return
        del self._entries[object_id]
        self._used_bytes -= entry.size
        self._unsealed_bytes -= entry.size
        self._unlink(self._shm_path(object_id))
        logger.debug("aborted %s", object_id.hex())

    # ---- reader side ----------------------------------------------------------

    def get(self, object_id: bytes) -> tuple[str, int] | None:
        """Returns where a sealed object's bytes are, restoring it from disk if spilled.

        Marks the object as most recently used. Restoring makes room the same
        way ``create`` does (it never evicts the object being restored). The
        file stays valid for a reader that mapped it even if the store later
        unlinks it.

        Args:
            object_id: The object to read.

        Returns:
            ``(path, size_bytes)`` for ``shm.map_object``, or None if the object
            is unknown or not sealed yet.

        Raises:
            ObjectStoreFullError: The object is spilled and no room could be made
                to restore it.
            OSError: Copying it back from the spill directory failed.
        """
        entry = self._entries.get(object_id)
        if entry is None or not entry.sealed:
            return None
        if entry.in_memory:
            self._lru_for(entry).move_to_end(object_id)
        else:
            self._restore(object_id, entry)
        return self._shm_path(object_id), entry.size

    def contains(self, object_id: bytes) -> bool:
        """Tells whether a sealed object is here (in memory or spilled).

        Args:
            object_id: The object to look up.

        Returns:
            True if the object is sealed in this store.
        """
        entry = self._entries.get(object_id)
        return entry is not None and entry.sealed

    # ---- lifetime -------------------------------------------------------------

    def free(self, object_ids: Iterable[bytes]) -> None:
        """Deletes objects: their memory file, their spill file and their accounting.

        Unknown ids are ignored. Freeing an object that is still being written
        drops its reservation; its writer's ``seal`` then fails.

        Args:
            object_ids: The objects to delete.
        """
        for object_id in object_ids:
            entry = self._entries.pop(object_id, None)
            if entry is None:
                continue
            if entry.in_memory:
                self._used_bytes -= entry.size
                if entry.sealed:
                    del self._lru_for(entry)[object_id]
                else:
                    self._unsealed_bytes -= entry.size
                self._unlink(self._shm_path(object_id))
            else:
                self._num_spilled -= 1
                self._spilled_bytes -= entry.size
            if entry.has_spill_file:
                self._unlink(self._spill_path(object_id))
            logger.debug("freed %s", object_id.hex())

    def stats(self) -> StoreStats:
        """Returns a snapshot of the store's accounting.

        Returns:
            The current ``StoreStats``.
        """
        return StoreStats(
            used_bytes=self._used_bytes,
            capacity_bytes=self._capacity,
            num_objects=len(self._entries),
            num_spilled=self._num_spilled,
            spilled_bytes=self._spilled_bytes,
            num_evicted=self._num_evicted,
            num_restored=self._num_restored,
        )

    def shutdown(self) -> None:
        """Deletes every object and removes both directories. Safe to call twice."""
        import shutil  # here, not at the top: workers use this module and need none of it

        for path in (self._shm_dir, self._spill_dir):
            shutil.rmtree(path, ignore_errors=True)
        self._entries.clear()
        self._unpinned_lru.clear()
        self._pinned_lru.clear()
        self._used_bytes = 0
        self._unsealed_bytes = 0
        self._num_spilled = 0
        self._spilled_bytes = 0
        logger.debug("object store at %s shut down", self._shm_dir)

    # ---- making room ----------------------------------------------------------

    def _lru_for(self, entry: _Entry) -> OrderedDict[bytes, None]:
        return self._pinned_lru if entry.pinned else self._unpinned_lru

    def _make_room(self, object_id: bytes, size: int) -> None:
        """Evicts, then spills, until ``size`` more bytes fit; raises if they cannot."""
        if size > self._capacity:
            raise self._full(object_id, size)
        needed = self._used_bytes + size - self._capacity
        if needed <= 0:
            return
        # Everything sealed and in memory can go; objects being written cannot.
        if needed > self._used_bytes - self._unsealed_bytes:
            raise self._full(object_id, size)
        while needed > 0 and self._unpinned_lru:
            victim, _ = self._unpinned_lru.popitem(last=False)
            needed -= self._evict(victim)
        if needed > 0:
            # Spill in LRU order; an object that fails to spill stays in memory.
            for victim in list(self._pinned_lru):
                if needed <= 0:
                    break
                needed -= self._spill(victim)
        if needed > 0:
            raise self._full(object_id, size)

    def _full(self, object_id: bytes, size: int) -> ObjectStoreFullError:
        return ObjectStoreFullError(
            object_id=object_id,
            size_bytes=size,
            capacity_bytes=self._capacity,
            used_bytes=self._used_bytes,
            unsealed_bytes=self._unsealed_bytes,
        )

    def _evict(self, object_id: bytes) -> int:
        """Deletes an unpinned object (already removed from the LRU); returns bytes freed."""
        entry = self._entries.pop(object_id)
        self._used_bytes -= entry.size
        self._num_evicted += 1
        self._unlink(self._shm_path(object_id))
        if entry.has_spill_file:
            self._unlink(self._spill_path(object_id))
        logger.debug("evicted %s (%d bytes)", object_id.hex(), entry.size)
        return entry.size

    def _spill(self, object_id: bytes) -> int:
        """Moves a pinned object to the spill directory; returns bytes freed (0 on failure)."""
        entry = self._entries[object_id]
        shm_path = self._shm_path(object_id)
        if not entry.has_spill_file:
            spill_path = self._spill_path(object_id)
            import shutil

            try:
                shutil.copyfile(shm_path, spill_path)
            except OSError as exc:
                logger.warning("failed to spill %s to %s: %s", object_id.hex(), spill_path, exc)
                self._unlink(spill_path)
                return 0
            entry.has_spill_file = True
        del self._pinned_lru[object_id]
        self._unlink(shm_path)
        entry.in_memory = False
        self._used_bytes -= entry.size
        self._num_spilled += 1
        self._spilled_bytes += entry.size
        logger.debug("spilled %s (%d bytes)", object_id.hex(), entry.size)
        return entry.size

    def _restore(self, object_id: bytes, entry: _Entry) -> None:
        """Copies a spilled object back into memory; its spill file is kept."""
        self._make_room(object_id, entry.size)
        shm_path = self._shm_path(object_id)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(shm_path)
        import shutil

        try:
            shutil.copyfile(self._spill_path(object_id), shm_path)
        except OSError:
            self._unlink(shm_path)
            raise
        os.chmod(shm_path, 0o600)
        entry.in_memory = True
        self._used_bytes += entry.size
        self._num_spilled -= 1
        self._spilled_bytes -= entry.size
        self._num_restored += 1
        self._lru_for(entry)[object_id] = None
        logger.debug("restored %s (%d bytes)", object_id.hex(), entry.size)

    @staticmethod
    def _unlink(path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            logger.warning("failed to remove %s: %s", path, exc)
