"""The C++ runner: RAY_REMOTE functions and actors of the shared libraries on a job's code
search path (DESIGN.md section 8).

Every library that includes `<ray/api.h>` exports a small C entry point
(`cpp/include/ray/api/entry_point.h`): frames in, frames out. This runner loads
`libray_api.so` (installed next to the `ray` package, in `ray/cpp/lib`) with RTLD_GLOBAL,
then each library of the job's code search path (a file, or the top-level `*.so` of a
directory) with `ctypes.CDLL`, which releases the GIL during every call. Libraries are never
unloaded. Before running code of a job, it connects the libraries to the gateway session this
worker serves to C++ code of that job (`ray_cpp_init`), so that code can itself use the Ray
API (nested tasks, puts, gets); the objects it creates are owned by this worker.

A C++ exception comes back as an ERROR frame made by the library (the C++ type and
message), which becomes the task's result (`ErrorResult`). Problems of the setup (no library,
an unknown name, an ABI mismatch) are raised as Python exceptions naming what was found.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import ray
from ray import exceptions as rex
from ray._private import serialization
from ray._private.generated import common_pb2
from ray._private.worker import errors
from ray._private.worker.runners import ErrorResult, ResultFrame, RunnerContext
from ray._private.worker.runners.python import ActorExit

logger = logging.getLogger(__name__)

# The entry point's version and status codes (entry_point.h).
ABI_VERSION = 2
STATUS_OK = 0
STATUS_ERROR = 1
STATUS_EXIT_ACTOR = 2
STATUS_INVALID = -1
OBJECT_ID_SIZE = 28
RUNTIME_LIBRARY = "libray_api.so"

_KINDS = ("function", "factory", "method")
_P = ctypes.c_void_p
_SIZE = ctypes.c_size_t
_P_OUT = ctypes.POINTER(ctypes.c_void_p)
_SIZE_OUT = ctypes.POINTER(ctypes.c_size_t)


class CppLibraryNotFoundError(FileNotFoundError):
    """No C++ library with RAY_REMOTE functions is on the job's code search path."""


class CppFunctionNotFoundError(LookupError):
    """No library of the job's code search path registered the name with RAY_REMOTE."""


class CppLibraryError(ImportError):
    """A library could not be used: it failed to load, speaks another ABI version, or its
    RAY_REMOTE registrations failed."""


def library_dir() -> Path:
    """Where `libray_api.so` is installed (`ray/cpp/lib`, as upstream's wheel has it)."""
    return Path(ray.__file__).resolve().parent / "cpp" / "lib"


def make_runner(context: RunnerContext) -> CppRunner:
    """The C++ runner of this worker (called when its first C++ task arrives).

    Raises:
        CppLibraryError: `libray_api.so` is not installed or does not load.
    """
    return CppRunner(context)


@dataclass
class _Call:
    """The output buffers of one entry point call."""

    frame: ctypes.c_void_p = field(default_factory=ctypes.c_void_p)
    frame_size: ctypes.c_size_t = field(default_factory=ctypes.c_size_t)
    ids: ctypes.c_void_p = field(default_factory=ctypes.c_void_p)
    ids_size: ctypes.c_size_t = field(default_factory=ctypes.c_size_t)


class _Arguments:
    """Argument frames as the C arrays the entry point reads (views, no copies)."""

    def __init__(self, frames: Sequence[Any]) -> None:
        n = len(frames)
        self.count = n
        self.pointers = (ctypes.c_void_p * max(n, 1))()
        self.sizes = (ctypes.c_size_t * max(n, 1))()
        self._keep: list[Any] = []
        for i, frame in enumerate(frames):
            self.pointers[i], self.sizes[i] = self._address(frame)

    def _address(self, frame: Any) -> tuple[int | None, int]:
        if isinstance(frame, bytes):
            self._keep.append(frame)
            return ctypes.cast(ctypes.c_char_p(frame), ctypes.c_void_p).value, len(frame)
        view = memoryview(frame)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        if len(view) == 0:
            return None, 0
        # A read-only view (an object in shared memory) has no ctypes buffer: numpy gives
        # its address without copying.
        array = np.frombuffer(view, dtype=np.uint8)
        self._keep.append(array)
        return array.ctypes.data, len(view)


class _Library:
    """One loaded library with a RAY_REMOTE entry point."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._dll = ctypes.CDLL(path)
        except OSError as err:
            raise CppLibraryError(f"cannot load the C++ library {path}: {err}") from None
        dll = self._dll
        try:
            version_fn = dll.ray_cpp_abi_version
        except AttributeError:
            raise CppLibraryError(
                f"{path} exports no ray_cpp_* entry point: it does not include <ray/api.h> "
                "(RAY_REMOTE)"
            ) from None
        version_fn.restype = ctypes.c_uint32
        version_fn.argtypes = []
        version = version_fn()
        if version != ABI_VERSION:
            raise CppLibraryError(
                f"{path} was built for entry point ABI version {version}, but this worker speaks "
                f"version {ABI_VERSION}: rebuild it against the headers of "
                f"`ray cpp --show-library-path` ({library_dir().parent / 'include'})"
            )
        self._init = _fn(
            dll.ray_cpp_init, ctypes.c_int32, [ctypes.c_char_p, _SIZE, _P_OUT, _SIZE_OUT]
        )
        self._list = _fn(dll.ray_cpp_list_functions, ctypes.c_int32, [_P_OUT, _SIZE_OUT])
        self._call = _fn(
            dll.ray_cpp_call_function,
            ctypes.c_int32,
            [ctypes.c_char_p, _P, _P, _SIZE, _P_OUT, _SIZE_OUT, _P_OUT, _SIZE_OUT],
        )
        self._create = _fn(
            dll.ray_cpp_create_actor,
            ctypes.c_int32,
            [ctypes.c_char_p, _P, _P, _SIZE, _P_OUT, _P_OUT, _SIZE_OUT],
        )
        self._call_actor = _fn(
            dll.ray_cpp_call_actor,
            ctypes.c_int32,
            [_P, ctypes.c_char_p, _P, _P, _SIZE, _P_OUT, _SIZE_OUT, _P_OUT, _SIZE_OUT],
        )
        self._release = _fn(dll.ray_cpp_release_contained, None, [_P, _SIZE])
        self._destroy = _fn(dll.ray_cpp_destroy_actor, None, [_P])
        self._free = _fn(dll.ray_cpp_free, None, [_P])
        self.names: dict[str, set[str]] = {kind: set() for kind in _KINDS}
        text = ctypes.c_void_p()
        size = ctypes.c_size_t()
        if self._list(ctypes.byref(text), ctypes.byref(size)) != STATUS_OK:
            raise CppLibraryError(f"{path}: ray_cpp_list_functions failed")
        for line in self._take(text, size).decode("utf-8", "replace").splitlines():
            kind, _, rest = line.partition("\t")
            name = rest.partition("\t")[0]
            if kind in self.names and name:
                self.names[kind].add(name)

    def _take(self, pointer: ctypes.c_void_p, size: ctypes.c_size_t) -> bytes:
        """The buffer's bytes; frees it."""
        if not pointer.value:
            return b""
        try:
            return ctypes.string_at(pointer.value, size.value)
        finally:
            self._free(pointer)

    def init(self, config: str) -> bytes:
        """Connects the library's C++ code to a session; returns b"" or an ERROR frame."""
        data = config.encode()
        error = ctypes.c_void_p()
        error_size = ctypes.c_size_t()
        status = self._init(data, len(data), ctypes.byref(error), ctypes.byref(error_size))
        frame = self._take(error, error_size)
        return b"" if status == STATUS_OK else frame

    def call_function(self, name: str, frames: Sequence[Any]) -> tuple[int, bytes, bytes]:
        args = _Arguments(frames)
        out = _Call()
        status = self._call(
            name.encode(),
            args.pointers,
            args.sizes,
            args.count,
            ctypes.byref(out.frame),
            ctypes.byref(out.frame_size),
            ctypes.byref(out.ids),
            ctypes.byref(out.ids_size),
        )
        return status, self._take(out.frame, out.frame_size), self._take(out.ids, out.ids_size)

    def create_actor(self, name: str, frames: Sequence[Any]) -> tuple[int, int | None, bytes]:
        args = _Arguments(frames)
        actor = ctypes.c_void_p()
        error = ctypes.c_void_p()
        error_size = ctypes.c_size_t()
        status = self._create(
            name.encode(),
            args.pointers,
            args.sizes,
            args.count,
            ctypes.byref(actor),
            ctypes.byref(error),
            ctypes.byref(error_size),
        )
        return status, actor.value, self._take(error, error_size)

    def call_actor(self, handle: int, name: str, frames: Sequence[Any]) -> tuple[int, bytes, bytes]:
        args = _Arguments(frames)
        out = _Call()
        status = self._call_actor(
            handle,
            name.encode(),
            args.pointers,
            args.sizes,
            args.count,
            ctypes.byref(out.frame),
            ctypes.byref(out.frame_size),
            ctypes.byref(out.ids),
            ctypes.byref(out.ids_size),
        )
        return status, self._take(out.frame, out.frame_size), self._take(out.ids, out.ids_size)

    def release_contained(self, ids: bytes) -> None:
        if ids:
            self._release(ids, len(ids))

    def destroy_actor(self, handle: int) -> None:
        self._destroy(handle)


def _fn(fn: Any, restype: Any, argtypes: list[Any]) -> Any:
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


@dataclass
class _JobCode:
    """The libraries of one job's code search path, and what they registered."""

    libraries: list[_Library]
    # (kind, name) -> the first library (in search path order) that registered it.
    index: dict[tuple[str, str], _Library]
    # What was looked at but could not be used, for messages.
    skipped: list[str]
    searched: list[str]


@dataclass
class CppActor:
    """A C++ actor instance living in this worker."""

    library: _Library
    handle: int
    name: str
    job_id: bytes
    destroyed: bool = False


class CppRunner:
    """Runs C++ tasks and actor methods through the entry points of the job's libraries.

    Args:
        context: What the runner may use of its worker.

    Raises:
        CppLibraryError: `libray_api.so` is not installed or does not load.
    """

    def __init__(self, context: RunnerContext) -> None:
        self._context = context
        runtime = library_dir() / RUNTIME_LIBRARY
        if not runtime.exists():
            raise CppLibraryError(
                f"the Ray C++ library is not installed ({runtime} is missing): build it with "
                "`bash scripts/cpp.sh build` from the source tree"
            )
        try:
            # Global, so the user libraries (linked against libray_api.so) bind to this copy.
            self._runtime = ctypes.CDLL(str(runtime), mode=ctypes.RTLD_GLOBAL)
        except OSError as err:
            raise CppLibraryError(f"cannot load {runtime}: {err}") from None
        self._lock = threading.Lock()
        self._loaded: dict[str, _Library] = {}
        self._jobs: dict[bytes, _JobCode] = {}
        # (library path, job id) pairs connected to the job's session, and the job whose
        # session the C++ code of this process uses now (one at a time per process).
        self._initialized: set[tuple[str, bytes]] = set()
        self._current_job = b""
        self._actors: list[CppActor] = []
        atexit.register(self.close)

    # ---- the Runner protocol -----------------------------------------------------------

    def is_async(self, actor: Any) -> bool:
        return False

    def create_actor(self, spec: common_pb2.TaskSpec, args: Sequence[Any]) -> CppActor:
        name = spec.function.function_name
        library = self._find(spec.job_id, "factory", name)
        self._enter(library, spec.job_id)
        status, handle, error = library.create_actor(name, args)
        if status != STATUS_OK or not handle:
            raise _exception_of(error, f"the C++ actor factory {name} failed (status {status})")
        actor = CppActor(library, handle, name, spec.job_id)
        with self._lock:
            self._actors.append(actor)
        return actor

    def run(self, spec: common_pb2.TaskSpec, args: Sequence[Any], actor: Any) -> list[Any]:
        name = spec.function.function_name
        if actor is None:
            library = self._find(spec.job_id, "function", name)
            self._enter(library, spec.job_id)
            status, frame, ids = library.call_function(name, args)
        else:
            if name == "__ray_terminate__":
                self._destroy(actor)
                raise ActorExit()
            if name == "__ray_ready__":
                return [serialization.serialize(True) for _ in range(spec.num_returns)]
            library = actor.library
            self._enter(library, actor.job_id)
            status, frame, ids = library.call_actor(actor.handle, name, args)
        if status == STATUS_EXIT_ACTOR:
            self._destroy(actor)
            raise ActorExit()
        if status == STATUS_ERROR:
            library.release_contained(ids)
            raise ErrorResult(frame, _message_of(frame))
        if status != STATUS_OK:
            library.release_contained(ids)
            raise _exception_of(frame, f"the C++ entry point refused the call of {name}")
        try:
            result: Any = frame
            if ids:
                object_ids = [
                    ids[i : i + OBJECT_ID_SIZE] for i in range(0, len(ids), OBJECT_ID_SIZE)
                ]
                job_id = spec.job_id if actor is None else actor.job_id
                contained = self._context.held_refs(job_id, common_pb2.LANGUAGE_CPP, object_ids)
                result = ResultFrame(frame, contained)
        finally:
            library.release_contained(ids)
        if spec.num_returns == 0:
            return []
        if spec.num_returns != 1:
            raise ValueError(
                f"{name} has num_returns={spec.num_returns}, but a C++ function returns one value"
            )
        return [result]

    # ---- libraries and sessions --------------------------------------------------------

    def _job_code(self, job_id: bytes) -> _JobCode:
        with self._lock:
            code = self._jobs.get(job_id)
        if code is not None:
            return code
        config = self._context.job_config(job_id)
        searched = list(config.code_search_path)
        libraries: list[_Library] = []
        skipped: list[str] = []
        for path in _candidates(searched):
            real = os.path.realpath(path)
            with self._lock:
                library = self._loaded.get(real)
            if library is None:
                try:
                    library = _Library(real)
                except CppLibraryError as err:
                    logger.info("not using %s: %s", path, err)
                    skipped.append(f"{path} ({err})")
                    continue
                with self._lock:
                    library = self._loaded.setdefault(real, library)
            libraries.append(library)
        index: dict[tuple[str, str], _Library] = {}
        for library in libraries:
            for kind, names in library.names.items():
                for name in names:
                    index.setdefault((kind, name), library)
        code = _JobCode(libraries, index, skipped, searched)
        if libraries:
            with self._lock:
                self._jobs[job_id] = code
        return code

    def _find(self, job_id: bytes, kind: str, name: str) -> _Library:
        code = self._job_code(job_id)
        if not code.libraries:
            where = ":".join(code.searched) or "(empty)"
            why = f"; skipped: {'; '.join(code.skipped)}" if code.skipped else ""
            raise CppLibraryNotFoundError(
                f"no C++ library with RAY_REMOTE functions is on the job's code search path "
                f"{where}{why}. Pass the directory or the .so file of your RAY_REMOTE code as "
                "RayConfig::code_search_path or --ray_code_search_path"
            )
        library = code.index.get((kind, name))
        if library is not None:
            return library
        found = sorted(n for (k, n) in code.index if k == kind)
        other = [k for k in _KINDS if k != kind and (k, name) in code.index]
        libs = ", ".join(lib.path for lib in code.libraries)
        raise CppFunctionNotFoundError(
            f"no C++ {_KIND_NAMES[kind]} named {name!r} is registered with RAY_REMOTE in the "
            f"libraries of the code search path ({libs})"
            + (f"; {name!r} is registered as a {_KIND_NAMES[other[0]]}" if other else "")
            + f". Registered {_KIND_NAMES[kind]}s: {', '.join(found) or 'none'}"
            + (f". Skipped: {'; '.join(code.skipped)}" if code.skipped else "")
        )

    def _enter(self, library: _Library, job_id: bytes) -> None:
        """Connects the library to the job's session and makes that session the current one."""
        key = (library.path, job_id)
        with self._lock:
            if key in self._initialized and self._current_job == job_id:
                return
            address, session_id = self._context.session_for(job_id, common_pb2.LANGUAGE_CPP)
            job = self._context.job_config(job_id)
            config = (
                f"session_address={address}\n"
                f"session_id={session_id.hex()}\n"
                f"job_id={job_id.hex()}\n"
                f"token={self._context.token}\n"
                f"ray_namespace={job.ray_namespace}\n"
                f"code_search_path={':'.join(job.code_search_path)}\n"
            )
            error = library.init(config)
            if error:
                raise CppLibraryError(
                    f"{library.path} could not be connected to its session: {_message_of(error)}"
                )
            self._initialized.add(key)
            self._current_job = job_id

    def _destroy(self, actor: CppActor) -> None:
        with self._lock:
            if actor.destroyed:
                return
            actor.destroyed = True
            if actor in self._actors:
                self._actors.remove(actor)
        actor.library.destroy_actor(actor.handle)

    def close(self) -> None:
        """Destroys the live actors (their destructors run), at interpreter exit.

        An actor ended by `__ray_terminate__` or `ray::ExitActor()` is destroyed at once; a
        killed worker (`ray::Kill`, its job finished) runs no destructor, as upstream.
        """
        with self._lock:
            actors, self._actors = self._actors, []
        for actor in actors:
            if not actor.destroyed:
                actor.destroyed = True
                actor.library.destroy_actor(actor.handle)


_KIND_NAMES = {"function": "function", "factory": "actor factory", "method": "actor method"}


def _candidates(entries: Sequence[str]) -> list[str]:
    """The library files of a code search path: .so files, and the top-level .so files of
    directories (other entries, such as Python module directories or jars, have none)."""
    out: list[str] = []
    for entry in entries:
        path = Path(entry)
        if path.is_file():
            if _is_library(path.name):
                out.append(str(path))
        elif path.is_dir():
            out.extend(
                str(p) for p in sorted(path.iterdir()) if p.is_file() and _is_library(p.name)
            )
    return [p for p in dict.fromkeys(out) if Path(p).name != RUNTIME_LIBRARY]


def _is_library(name: str) -> bool:
    return name.endswith(".so") or ".so." in name


def _error_info(frame: bytes) -> common_pb2.ErrorInfo | None:
    try:
        value = serialization.deserialize(frame)
    except Exception:  # noqa: BLE001 - a malformed frame: described by the caller
        return None
    return value.info if isinstance(value, serialization.ErrorValue) else None


def _message_of(frame: bytes) -> str:
    info = _error_info(frame)
    if info is None:
        return "(no error description)"
    return info.message or info.exception_type or "(no message)"


def _exception_of(frame: bytes, fallback: str) -> Exception:
    """The exception for an ERROR frame from the entry point (C++ type and message)."""
    info = _error_info(frame)
    if info is None:
        return CppLibraryError(fallback)
    if (
        info.language == common_pb2.LANGUAGE_CPP
        and info.type == common_pb2.ERROR_TYPE_TASK_EXECUTION
    ):
        # The library's message already starts with the C++ type.
        return rex.CrossLanguageError(f"{info.message}\n{info.traceback}".rstrip())
    return errors.to_exception(info)
