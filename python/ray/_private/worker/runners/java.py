"""The Java runner: static methods and actors of a job's Java code (DESIGN.md section 8).

A worker that receives a Java task starts one JVM for that task's job and keeps it for the
job's later tasks and actor calls on this worker:

    java [the job's JVM options] -cp ray_dist.jar:<code search path> \
        -Dray.job.code-search-path=<code search path> io.ray.runtime.runner.JavaRunner

`ray_dist.jar` is the one installed next to the `ray` package (`ray/jars/`, as upstream's
wheel has it). The JVM prints `RAY_JVM_RUNNER_PORT=<port>` once py4j listens on 127.0.0.1,
and this runner drives `io.ray.runtime.runner.RunnerEntryPoint` through py4j with a random
auth token. Arguments and results cross as packed frames (`PackedFrames`, one py4j round
trip per call). The JVM gets the gateway session this worker serves to the job's Java code
(address, session id, job id, token, namespace) in its environment, so the code can itself
use the Ray API; what it creates is owned by this worker.

The JVM's stdin is a pipe from this worker: when the worker exits, for whatever reason, the
JVM sees EOF and exits. Its stdout and stderr lines are written to this worker's, so they
reach the driver as a Python task's prints do.

Failures: a Java exception comes back as an ERROR frame (the Java type, message and stack
trace) and becomes the task's result (`ErrorResult`); a class or method that cannot be
found becomes one too, naming where the JVM looked. Problems of the setup (no `java`, no
jar, a JVM that does not start or that died) are raised as `JavaRunnerError`s with the
JVM's last stderr lines. A JVM that dies while it holds an actor ends this worker, so the
actor is restarted (or reported dead) like one whose process died.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import secrets
import shutil
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

import ray
from ray._private import serialization
from ray._private.generated import common_pb2
from ray._private.worker.runners import ErrorResult, ResultFrame, RunnerContext
from ray._private.worker.runners.python import ActorExit

logger = logging.getLogger(__name__)

JAR_NAME = "ray_dist.jar"
RUNNER_MAIN_CLASS = "io.ray.runtime.runner.JavaRunner"
# The protocol of JavaRunner (see its Javadoc).
PORT_LINE_PREFIX = "RAY_JVM_RUNNER_PORT="
AUTH_TOKEN_ENV = "RAY_JVM_RUNNER_AUTH_TOKEN"
OBJECT_ID_SIZE = 28
# How long a JVM may take to print its port line.
START_TIMEOUT_S = float(os.environ.get("RAY_JAVA_RUNNER_START_TIMEOUT_S", "60"))
# Lines of the JVM's stderr kept for error messages.
STDERR_TAIL_LINES = 30
# Most JVMs one worker keeps (one per job): a worker serves one job at a time, so the JVMs of
# jobs it no longer runs are stopped, least recently used first (never one holding an actor).
MAX_JVMS = max(1, int(os.environ.get("RAY_JAVA_RUNNER_MAX_JVMS", "2")))

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_NO_IDS = _U32.pack(0)


class JavaRunnerError(RuntimeError):
    """The Java code of a job cannot be run here: no `java`, no jar, or its JVM failed."""


class JavaNotFoundError(JavaRunnerError, FileNotFoundError):
    """`java` or the Ray Java library (`ray_dist.jar`) is not installed on this node."""


class JvmDiedError(JavaRunnerError):
    """The JVM running the job's Java code exited or stopped answering."""


def jar_path() -> Path:
    """Where the Ray Java library is installed (`ray/jars/ray_dist.jar`, as upstream's wheel).

    `RAY_JAVA_JAR` names another copy (a development build, say).
    """
    override = os.environ.get("RAY_JAVA_JAR")
    if override:
        return Path(override)
    return Path(ray.__file__).resolve().parent / "jars" / JAR_NAME


def java_executable() -> str:
    """The `java` command: `$JAVA_HOME/bin/java`, else `java` on PATH.

    Raises:
        JavaNotFoundError: Neither exists.
    """
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise JavaNotFoundError(
            "no `java` command on this node (looked in $JAVA_HOME/bin and on PATH "
            f"{os.environ.get('PATH', '')!r}): install a Java 17+ runtime, or set JAVA_HOME for "
            "the node (`ray start`)"
        )
    return found


def make_runner(context: RunnerContext) -> JavaRunner:
    """The Java runner of this worker (called when its first Java task arrives)."""
    try:
        import py4j.java_gateway  # noqa: F401
    except ImportError as err:
        raise JavaRunnerError(
            f"py4j is not installed in this worker's Python ({sys.executable}): {err}. Install "
            "the project's dependencies (`pip install -e .` in the source tree)"
        ) from None
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return JavaRunner(context)


def pack(frames: Sequence[Any]) -> bytes:
    """Argument frames as `PackedFrames` (with no contained ids)."""
    parts: list[Any] = [_U32.pack(len(frames))]
    for frame in frames:
        view = memoryview(frame)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        parts += (_U64.pack(view.nbytes), view, _NO_IDS)
    return b"".join(parts)


def unpack(data: bytes) -> list[tuple[bytes, list[bytes]]]:
    """`PackedFrames` as (frame, contained object ids) pairs.

    Raises:
        JavaRunnerError: The bytes are not packed frames.
    """
    try:
        (count,) = _U32.unpack_from(data, 0)
        pos = 4
        out: list[tuple[bytes, list[bytes]]] = []
        for _ in range(count):
            (size,) = _U64.unpack_from(data, pos)
            pos += 8
            frame = data[pos : pos + size]
            if len(frame) != size:
                raise ValueError(f"a frame of {size} bytes has only {len(frame)}")
            pos += size
            (num_ids,) = _U32.unpack_from(data, pos)
            pos += 4
            ids = [
                data[pos + OBJECT_ID_SIZE * i : pos + OBJECT_ID_SIZE * (i + 1)]
                for i in range(num_ids)
            ]
            pos += OBJECT_ID_SIZE * num_ids
            out.append((frame, ids))
    except (struct.error, ValueError) as err:
        raise JavaRunnerError(f"the JVM answered with malformed packed frames: {err}") from None
    if pos != len(data):
        raise JavaRunnerError(f"the JVM answered with {len(data) - pos} stray bytes after frames")
    return out


def _descriptor(function: common_pb2.FunctionDescriptor) -> str:
    return f"{function.class_name}.{function.function_name}{function.signature}"


class _Jvm:
    """One JVM running a job's Java code, driven through py4j.

    Args:
        command: The full `java ...` command line.
        env: Its environment.
        job_id: The job (for messages).
    """

    def __init__(self, command: list[str], env: dict[str, str], job_id: bytes) -> None:
        from py4j.java_gateway import GatewayParameters, JavaGateway

        self.job_id = job_id
        self.command = command
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self.holds_actors = False
        self.closing = False
        self.busy = 0
        self.last_used = time.monotonic()
        auth_token = secrets.token_hex(16)
        env = dict(env, **{AUTH_TOKEN_ENV: auth_token})
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                close_fds=True,
            )
        except OSError as err:
            raise JavaRunnerError(f"cannot run {command[0]}: {err}") from None
        self.pid = self.process.pid
        ports: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        assert self.process.stdout is not None and self.process.stderr is not None
        threading.Thread(
            target=self._pump_stdout,
            args=(self.process.stdout, ports),
            daemon=True,
            name=f"jvm-out-{self.pid}",
        ).start()
        self._stderr_done = threading.Event()
        threading.Thread(
            target=self._pump_stderr,
            args=(self.process.stderr,),
            daemon=True,
            name=f"jvm-err-{self.pid}",
        ).start()
        try:
            port = ports.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            port = None
        if port is None:
            self._kill()
            raise JavaRunnerError(
                f"the JVM for job {job_id.hex()} did not start ({self._exit_description()} "
                f"within {START_TIMEOUT_S:.0f}s, before printing its port); command: "
                f"{' '.join(command)}{self._tail_text()}"
            )
        try:
            self.gateway = JavaGateway(
                gateway_parameters=GatewayParameters(
                    address="127.0.0.1",
                    port=port,
                    auth_token=auth_token,
                    auto_convert=False,
                    eager_load=True,
                )
            )
            self.entry = self.gateway.entry_point
        except Exception as err:  # noqa: BLE001 - py4j's connection errors
            self._kill()
            raise JavaRunnerError(
                f"cannot connect to the JVM for job {job_id.hex()} on port {port}: {err}"
                f"{self._tail_text()}"
            ) from None
        logger.info(
            "started the JVM (pid %d, py4j port %d) for job %s", self.pid, port, job_id.hex()
        )

    # ---- output ------------------------------------------------------------------------

    def _pump_stdout(self, stream: IO[bytes], ports: queue.SimpleQueue[int | None]) -> None:
        reported = False
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if not reported and line.startswith(PORT_LINE_PREFIX):
                reported = True
                try:
                    ports.put(int(line[len(PORT_LINE_PREFIX) :].strip()))
                except ValueError:
                    ports.put(None)
                continue
            _write(sys.stdout, line)
        if not reported:
            ports.put(None)

    def _pump_stderr(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.stderr_tail.append(line.rstrip("\n"))
            _write(sys.stderr, line)
        self._stderr_done.set()

    def _tail_text(self) -> str:
        # The JVM's last lines may still be on their way through the pipe.
        if self.process.poll() is not None:
            self._stderr_done.wait(2.0)
        if not self.stderr_tail:
            return "; it wrote nothing to stderr"
        return "; its last stderr lines:\n" + "\n".join(self.stderr_tail)

    def _exit_description(self) -> str:
        code = self.process.poll()
        if code is None:
            return "still running"
        if code < 0:
            return f"killed by signal {-code}"
        return f"exited with code {code}"

    # ---- calls -------------------------------------------------------------------------

    def alive(self) -> bool:
        return self.process.poll() is None

    def call(self, method: str, what: str, *args: Any) -> Any:
        """Calls an entry point; a JVM that is gone raises JvmDiedError."""
        from py4j.protocol import Py4JError, Py4JJavaError

        self.busy += 1
        try:
            return getattr(self.entry, method)(*args)
        except Py4JJavaError as err:
            if not self.alive():
                raise self._died(what) from None
            raise JavaRunnerError(
                f"the Java runner failed on {what}: {err.java_exception}"
            ) from None
        except Py4JError as err:
            # py4j's network errors: the JVM exited or closed the connection.
            deadline = time.monotonic() + 2.0
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.02)
            if not self.alive():
                raise self._died(what) from None
            raise JvmDiedError(
                f"the JVM (pid {self.pid}) for job {self.job_id.hex()} stopped answering during "
                f"{what}: {err}{self._tail_text()}"
            ) from None
        finally:
            self.busy -= 1
            self.last_used = time.monotonic()

    def _died(self, what: str) -> JvmDiedError:
        return JvmDiedError(
            f"the JVM (pid {self.pid}) running job {self.job_id.hex()}'s Java code died during "
            f"{what}: {self._exit_description()}{self._tail_text()}"
        )

    def _kill(self) -> None:
        self.closing = True
        try:
            self.process.kill()
            self.process.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def close(self) -> None:
        """Stops the JVM: EOF on its stdin, then SIGKILL if it lingers."""
        self.closing = True
        try:
            self.gateway.close()
        except Exception:  # noqa: BLE001 - best effort
            pass
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            self._kill()


def _write(stream: Any, line: str) -> None:
    try:
        stream.write(line if line.endswith("\n") else line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


@dataclass
class JavaActor:
    """A Java actor instance, held by the JVM of its job under `instance_id`."""

    jvm: _Jvm
    instance_id: str
    class_name: str
    job_id: bytes


class JavaRunner:
    """Runs Java tasks and actor methods in one JVM per job.

    Args:
        context: What the runner may use of its worker.
    """

    def __init__(self, context: RunnerContext) -> None:
        self._context = context
        self._lock = threading.Lock()
        # One lock per job, so two jobs' JVMs start in parallel but one job's only once.
        self._starting: dict[bytes, threading.Lock] = {}
        self._jvms: dict[bytes, _Jvm] = {}

    # ---- the Runner protocol -----------------------------------------------------------

    def is_async(self, actor: Any) -> bool:
        return False

    def create_actor(self, spec: common_pb2.TaskSpec, args: Sequence[Any]) -> JavaActor:
        function = spec.function
        jvm = self._jvm(spec.job_id)
        instance_id = spec.actor_creation.actor_id.hex()
        what = f"creating the actor {_descriptor(function)}"
        try:
            packed = jvm.call(
                "createActor",
                what,
                instance_id,
                function.class_name,
                function.function_name or "<init>",
                function.signature,
                pack(args),
            )
        except JvmDiedError as err:
            _end_worker(err)
        for frame, _ in unpack(packed):
            raise _creation_error(frame)
        jvm.holds_actors = True
        return JavaActor(jvm, instance_id, function.class_name, spec.job_id)

    def run(self, spec: common_pb2.TaskSpec, args: Sequence[Any], actor: Any) -> list[Any]:
        function = spec.function
        n = spec.num_returns
        # Results with references inside are kept reachable in the JVM under this key until
        # this worker holds them too.
        call_id = spec.task_id.hex()
        if actor is None:
            jvm = self._jvm(spec.job_id)
            job_id = spec.job_id
            packed = jvm.call(
                "callStatic",
                f"the task {_descriptor(function)}",
                call_id,
                function.class_name,
                function.function_name,
                function.signature,
                pack(args),
                n,
            )
        else:
            name = function.function_name
            if name == "__ray_terminate__":
                self._remove(actor)
                raise ActorExit()
            if name == "__ray_ready__":
                return [serialization.serialize(True) for _ in range(n)]
            jvm, job_id = actor.jvm, actor.job_id
            try:
                packed = jvm.call(
                    "callActor",
                    f"the call of {actor.class_name}.{name}",
                    call_id,
                    actor.instance_id,
                    function.class_name,
                    name,
                    function.signature,
                    pack(args),
                    n,
                )
            except JvmDiedError as err:
                _end_worker(err)
        entries = unpack(packed)
        pinned = any(ids for _, ids in entries)
        try:
            return self._results(spec, job_id, entries)
        finally:
            if pinned:
                jvm.call("release", "releasing a result", call_id)

    def _results(
        self, spec: common_pb2.TaskSpec, job_id: bytes, entries: list[tuple[bytes, list[bytes]]]
    ) -> list[Any]:
        for frame, _ in entries:
            if serialization.frame_format(frame) == common_pb2.OBJECT_FORMAT_ERROR:
                raise ErrorResult(frame, _message_of(frame))
        n = spec.num_returns
        if len(entries) != n:
            raise JavaRunnerError(
                f"the JVM returned {len(entries)} frames for {spec.name}, which has num_returns={n}"
            )
        results: list[Any] = []
        for frame, ids in entries:
            if ids:
                held = self._context.held_refs(job_id, common_pb2.LANGUAGE_JAVA, ids)
                results.append(ResultFrame(frame, held))
            else:
                results.append(frame)
        return results

    # ---- JVMs --------------------------------------------------------------------------

    def _jvm(self, job_id: bytes) -> _Jvm:
        with self._lock:
            jvm = self._jvms.get(job_id)
            if jvm is not None and jvm.alive():
                return jvm
            starting = self._starting.setdefault(job_id, threading.Lock())
        with starting:
            with self._lock:
                jvm = self._jvms.get(job_id)
                if jvm is not None and jvm.alive():
                    return jvm
            if jvm is not None:
                logger.warning(
                    "the JVM (pid %d) of job %s had died (%s); starting a new one",
                    jvm.pid,
                    job_id.hex(),
                    jvm._exit_description(),
                )
            jvm = self._start(job_id)
            with self._lock:
                self._jvms[job_id] = jvm
                idle = sorted(
                    (j for j in self._jvms.values() if j is not jvm and not j.holds_actors),
                    key=lambda j: j.last_used,
                )
                extra = len(self._jvms) - MAX_JVMS
                evicted = [j for j in idle if j.busy == 0][: max(extra, 0)]
                for old in evicted:
                    del self._jvms[old.job_id]
            for old in evicted:
                logger.info("stopping the JVM (pid %d) of job %s", old.pid, old.job_id.hex())
                threading.Thread(target=old.close, daemon=True, name=f"jvm-stop-{old.pid}").start()
            threading.Thread(
                target=self._watch, args=(jvm,), daemon=True, name=f"jvm-watch-{jvm.pid}"
            ).start()
            return jvm

    def _start(self, job_id: bytes) -> _Jvm:
        jar = jar_path()
        if not jar.is_file():
            raise JavaNotFoundError(
                f"the Ray Java library is not installed on this node ({jar} is missing): build "
                "it with `bash scripts/java.sh build` from the source tree, or set RAY_JAVA_JAR"
            )
        java = java_executable()
        job = self._job_config(job_id)
        search_path = [p for p in job.code_search_path if p]
        address, session_id = self._context.session_for(job_id, common_pb2.LANGUAGE_JAVA)
        command = [
            java,
            *job.jvm_options,
            "-cp",
            os.pathsep.join([str(jar), *search_path]),
            f"-Dray.job.code-search-path={os.pathsep.join(search_path)}",
            RUNNER_MAIN_CLASS,
        ]
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        env.update(
            {
                "RAY_SESSION_ADDRESS": address,
                "RAY_SESSION_ID": session_id.hex(),
                "RAY_JOB_ID": job_id.hex(),
                "RAY_CLUSTER_TOKEN": self._context.token,
                "RAY_NAMESPACE": job.ray_namespace,
                "RAY_JOB_CODE_SEARCH_PATH": os.pathsep.join(search_path),
            }
        )
        return _Jvm(command, env, job_id)

    def _job_config(self, job_id: bytes) -> common_pb2.JobConfig:
        """The job's config, as the job registered it at the GCS.

        The worker's cached copy of a job's config comes with the job's first task here; a task
        that another worker submitted (nested Java code) may bring that worker's own, empty,
        config instead of the job's. A cached config with neither a code search path nor JVM
        options is therefore checked against the GCS's record once per JVM start.
        """
        job = self._context.job_config(job_id)
        if job.code_search_path or job.jvm_options:
            return job
        try:
            from ray._private import object_ref

            registered = object_ref.get_core_worker().gcs.get_job_config(job_id)
        except Exception as err:  # noqa: BLE001 - the cached config is still usable
            logger.info("could not read the config of job %s: %s", job_id.hex(), err)
            return job
        return registered if registered is not None else job

    def _watch(self, jvm: _Jvm) -> None:
        """Ends this worker if the JVM holding its actor dies while idle."""
        jvm.process.wait()
        if jvm.holds_actors and not jvm.closing:
            _end_worker(jvm._died("the actor's life"))

    def _remove(self, actor: JavaActor) -> None:
        try:
            actor.jvm.call("removeActor", "removing the actor", actor.instance_id)
        except JavaRunnerError as err:
            logger.info("could not remove actor %s: %s", actor.instance_id, err)
        # The worker exits now; the JVM goes with its stdin.
        actor.jvm.closing = True


def _end_worker(err: JvmDiedError) -> NoReturn:
    """The JVM holding this worker's actor died: so does the worker (the actor restarts)."""
    message = f"ray java runner: {err}; ending this worker, whose actor lived in that JVM"
    logger.error("%s", message)
    _write(sys.stderr, message)
    os._exit(1)


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
    return f"{info.exception_type}: {info.message}" if info.exception_type else info.message


def _creation_error(frame: bytes) -> Exception:
    """The exception for an actor constructor's ERROR frame (Java type, message, trace)."""
    from ray._private.worker import errors

    info = _error_info(frame)
    if info is None:
        return JavaRunnerError("the JVM answered actor creation with an unreadable frame")
    exc = errors.to_exception(info)
    return exc if isinstance(exc, Exception) else JavaRunnerError(str(exc))
