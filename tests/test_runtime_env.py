"""runtime_env: env_vars, working_dir and py_modules per job, task and actor, on real workers.

Also: the merge of a task's env over its job's (and its parent task's), one worker process
per env, packages unpacked on each node that runs them, and the errors for unsupported fields
and oversized packages.
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import pytest

import ray
from ray._private.generated import common_pb2
from ray._private.runtime_env import validation
from ray._private.runtime_env.packaging import PackageUploader
from ray._private.scheduling.node_scheduler import Grant, NodeScheduler, QueuedLease, StartWorkers
from ray._private.scheduling.resources import NodeResources, to_fixed
from ray.runtime_env import RuntimeEnv, RuntimeEnvConfig

pytestmark = pytest.mark.timeout(240)


def _write_module(root: Path, name: str, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{name}.py"
    path.write_text(body)
    return path


# ---- env_vars and the merge -----------------------------------------------------------------


def test_env_vars_of_job_task_and_actor_merge(shutdown_only):
    ray.init(num_cpus=2, runtime_env={"env_vars": {"RENV_A": "job", "RENV_B": "job"}})

    @ray.remote
    def read() -> tuple:
        return os.environ.get("RENV_A"), os.environ.get("RENV_B"), os.environ.get("RENV_C")

    @ray.remote(runtime_env={"env_vars": {"RENV_B": "task", "RENV_C": "task"}})
    def read_overridden() -> tuple:
        return os.environ.get("RENV_A"), os.environ.get("RENV_B"), os.environ.get("RENV_C")

    @ray.remote(runtime_env={"env_vars": {"RENV_C": "actor"}})
    class Reader:
        def read(self) -> tuple:
            return os.environ.get("RENV_A"), os.environ.get("RENV_B"), os.environ.get("RENV_C")

    assert ray.get(read.remote(), timeout=120) == ("job", "job", None)
    assert ray.get(read_overridden.remote(), timeout=120) == ("job", "task", "task")
    # .options(runtime_env=...) replaces the decorator's env, then merges over the job's.
    options_env = {"env_vars": {"RENV_A": "options"}}
    assert ray.get(read_overridden.options(runtime_env=options_env).remote(), timeout=120) == (
        "options",
        "job",
        None,
    )
    reader = Reader.remote()
    assert ray.get(reader.read.remote(), timeout=120) == ("job", "job", "actor")
    # The driver's own environment is not changed by the job's env.
    assert "RENV_A" not in os.environ


def test_nested_task_inherits_its_parents_env(shutdown_only):
    ray.init(num_cpus=2)

    @ray.remote
    def child() -> tuple:
        return os.environ.get("RENV_P"), os.environ.get("RENV_Q")

    @ray.remote(runtime_env={"env_vars": {"RENV_P": "parent"}})
    def parent() -> tuple:
        inherited = ray.get(child.remote(), timeout=120)
        merged = ray.get(
            child.options(runtime_env={"env_vars": {"RENV_Q": "child"}}).remote(), timeout=120
        )
        return inherited, merged

    assert ray.get(parent.remote(), timeout=180) == (("parent", None), ("parent", "child"))


def test_two_envs_run_in_different_workers(ray_start_regular):
    @ray.remote
    def pid() -> tuple:
        return os.getpid(), os.environ.get("RENV_COLOR")

    blue = pid.options(runtime_env={"env_vars": {"RENV_COLOR": "blue"}})
    red = pid.options(runtime_env={"env_vars": {"RENV_COLOR": "red"}})
    # All submitted at once: each env gets workers of its own.
    refs = [[fn.remote() for _ in range(4)] for fn in (pid, blue, red)]
    plain, blue_got, red_got = (ray.get(r, timeout=180) for r in refs)
    assert {c for _, c in plain} == {None}
    assert {c for _, c in blue_got} == {"blue"} and {c for _, c in red_got} == {"red"}
    plain_pids, blue_pids, red_pids = ({p for p, _ in got} for got in (plain, blue_got, red_got))
    assert not plain_pids & blue_pids
    assert not plain_pids & red_pids
    assert not blue_pids & red_pids


# ---- working_dir and py_modules -------------------------------------------------------------


def test_working_dir_is_cwd_and_importable(shutdown_only, tmp_path):
    work = tmp_path / "project"
    _write_module(work, "renv_wd_mod", "VALUE = 'from working_dir'\n")
    (work / "data").mkdir()
    (work / "data" / "input.txt").write_text("payload\n")
    ray.init(num_cpus=2, runtime_env={"working_dir": str(work)})

    @ray.remote
    def run() -> tuple:
        import renv_wd_mod

        return renv_wd_mod.VALUE, Path("data/input.txt").read_text(), os.getcwd()

    value, text, cwd = ray.get(run.remote(), timeout=120)
    assert value == "from working_dir"
    assert text == "payload\n"
    session_dir = Path(ray.get_runtime_context()._cw.session_dir)
    assert Path(cwd).parent == session_dir / "runtime_resources" / "working_dir_files"
    assert Path(cwd).name.startswith("_ray_pkg_")
    env = ray.get_runtime_context().runtime_env
    assert env["working_dir"].startswith("gcs://_ray_pkg_") and env["working_dir"].endswith(".zip")


def test_working_dir_per_actor_and_excludes(ray_start_regular, tmp_path):
    work = tmp_path / "actor_project"
    _write_module(work, "renv_actor_mod", "def answer():\n    return 42\n")
    (work / "big").mkdir()
    (work / "big" / "weights.bin").write_bytes(b"x" * 1000)
    (work / "notes.log").write_text("log\n")
    (work / "scratch").mkdir()
    (work / "scratch" / "tmp.txt").write_text("scratch\n")
    (work / ".gitignore").write_text("# comment\nscratch/\n")

    @ray.remote
    class Worker:
        def run(self) -> tuple:
            import renv_actor_mod

            return renv_actor_mod.answer(), sorted(os.listdir("."))

    actor = Worker.options(
        runtime_env={"working_dir": str(work), "excludes": ["big/", "*.log"]}
    ).remote()
    answer, listing = ray.get(actor.run.remote(), timeout=120)
    assert answer == 42
    assert listing == [".gitignore", "renv_actor_mod.py"]


def test_working_dir_zip(ray_start_regular, tmp_path):
    archive = tmp_path / "project.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("project/renv_zip_mod.py", "NAME = 'zipped'\n")

    @ray.remote(runtime_env={"working_dir": str(archive)})
    def run() -> str:
        import renv_zip_mod

        return renv_zip_mod.NAME

    assert ray.get(run.remote(), timeout=120) == "zipped"


def test_py_modules_dirs_files_and_module_objects(ray_start_regular, tmp_path):
    package = tmp_path / "libs" / "renv_pkg"
    _write_module(package, "__init__", "from .core import double\n")
    _write_module(package, "core", "def double(x):\n    return 2 * x\n")
    single = _write_module(tmp_path / "single", "renv_single", "TRIPLE = 3\n")
    objpkg = tmp_path / "objs" / "renv_objpkg"
    _write_module(objpkg, "__init__", "SOURCE = 'module object'\n")
    sys.path.insert(0, str(objpkg.parent))
    try:
        import renv_objpkg

        @ray.remote(runtime_env={"py_modules": [str(package), str(single), renv_objpkg]})
        def run() -> tuple:
            import renv_objpkg
            import renv_pkg
            import renv_single

            return renv_pkg.double(21), renv_single.TRIPLE, renv_objpkg.SOURCE

        assert ray.get(run.remote(), timeout=120) == (42, 3, "module object")
    finally:
        sys.path.remove(str(objpkg.parent))
        sys.modules.pop("renv_objpkg", None)


def test_package_unpacked_on_a_node_that_is_not_the_head(ray_start_cluster, tmp_path):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    other = cluster.add_node(num_cpus=1, resources={"renv_other": 1})
    cluster.connect()
    work = tmp_path / "remote_project"
    _write_module(work, "renv_remote_mod", "WHERE = 'unpacked'\n")

    @ray.remote(resources={"renv_other": 1}, runtime_env={"working_dir": str(work)})
    def run() -> tuple:
        import renv_remote_mod

        return renv_remote_mod.WHERE, os.getcwd(), ray.get_runtime_context().get_node_id()

    where, cwd, node_id = ray.get(run.remote(), timeout=180)
    assert where == "unpacked"
    assert node_id == other.node_id.hex()
    unpacked = Path(cwd)
    assert unpacked.parent == other.session_dir / "runtime_resources" / "working_dir_files"
    assert (unpacked / "renv_remote_mod.py").read_text() == "WHERE = 'unpacked'\n"


# ---- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["pip", "conda", "container", "uv", "image_uri", "no_such"])
def test_unsupported_field_refused_at_decoration(field):
    with pytest.raises(ValueError, match=f"'{field}'") as info:

        @ray.remote(runtime_env={field: ["something"]})
        def f() -> None:
            pass

    assert "this runtime" in str(info.value)


def test_unsupported_field_refused_by_options_and_init(shutdown_only):
    @ray.remote
    def f() -> None:
        pass

    with pytest.raises(ValueError, match="'pip' is not supported by this runtime"):
        f.options(runtime_env={"pip": ["requests"]})
    with pytest.raises(ValueError, match="'conda' is not supported by this runtime"):
        ray.init(num_cpus=1, runtime_env={"conda": "env"})
    assert not ray.is_initialized()


def test_package_size_limit(shutdown_only, tmp_path, monkeypatch):
    work = tmp_path / "too_big"
    work.mkdir()
    (work / "blob.bin").write_bytes(os.urandom(64 * 1024))
    monkeypatch.setenv("RAY_max_grpc_message_size", str(16 * 1024))
    ray.init(num_cpus=1)

    @ray.remote(runtime_env={"working_dir": str(work)})
    def f() -> None:
        pass

    with pytest.raises(ValueError, match="too large.*excludes"):
        f.remote()
    # With the large file excluded it fits.
    small = f.options(runtime_env={"working_dir": str(work), "excludes": ["*.bin"]})
    assert ray.get(small.remote(), timeout=120) is None


def test_missing_working_dir_is_an_error(ray_start_regular, tmp_path):
    @ray.remote(runtime_env={"working_dir": str(tmp_path / "nope")})
    def f() -> None:
        pass

    with pytest.raises(ValueError, match="neither an existing local directory"):
        f.remote()


# ---- the pieces, without processes ----------------------------------------------------------


def test_merge_rules():
    job = {"env_vars": {"A": "1", "B": "1"}, "working_dir": "gcs://job.zip"}
    task = {"env_vars": {"B": "2"}, "py_modules": ["gcs://m.zip"]}
    assert validation.merge(job, task) == {
        "env_vars": {"A": "1", "B": "2"},
        "working_dir": "gcs://job.zip",
        "py_modules": ["gcs://m.zip"],
    }
    assert validation.merge(job, {"working_dir": "gcs://task.zip"})["working_dir"] == (
        "gcs://task.zip"
    )
    assert validation.serialize({}) == ""


def test_packages_are_content_addressed_and_uploaded_once(tmp_path):
    store: dict[bytes, bytes] = {}
    puts = []

    def put(ns: str, key: bytes, value: bytes) -> None:
        puts.append(key)
        store[key] = value

    uploader = PackageUploader(lambda ns, key: key in store, put)
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        _write_module(d, "same", "X = 1\n")
    uri_a = uploader.working_dir(str(a), [])
    assert uri_a.startswith("gcs://_ray_pkg_") and uri_a.endswith(".zip")
    # Another directory with the same files is the same package: no second upload.
    assert PackageUploader(lambda ns, key: key in store, put).working_dir(str(b), []) == uri_a
    assert puts == [uri_a.encode()]
    (b / "same.py").write_text("X = 2\n")
    assert uploader.working_dir(str(b), []) != uri_a


def test_runtime_env_class():
    env = RuntimeEnv(env_vars={"A": "1"}, working_dir="/tmp", config=RuntimeEnvConfig(600))
    assert env["env_vars"] == {"A": "1"} and env.working_dir() == "/tmp"
    assert RuntimeEnv.deserialize(env.serialize()) == env
    with pytest.raises(ValueError, match="'pip' is not supported"):
        RuntimeEnv(pip=["requests"])
    with pytest.raises(TypeError, match="env_vars"):
        RuntimeEnv(env_vars={"A": 1})


def test_scheduler_grants_only_workers_of_the_leases_env():
    sched = NodeScheduler(b"n" * 28, NodeResources({"CPU": 4}), max_starting=2)
    sched.starting = 1
    assert sched.worker_registered(b"plain") == []
    lease = QueuedLease(b"l1", to_fixed({"CPU": 1}), to_fixed({"CPU": 1}), env='{"e":1}')
    decisions = sched.request(lease)
    # The idle worker has no env: a worker of the lease's env is started instead.
    assert decisions == [StartWorkers(1, '{"e":1}')]
    decisions = sched.worker_registered(b"envd", '{"e":1}')
    assert [(type(d), d.worker_id) for d in decisions] == [(Grant, b"envd")]
    # A lease without an env takes the plain worker.
    plain = QueuedLease(b"l2", to_fixed({"CPU": 1}), to_fixed({"CPU": 1}))
    decisions = sched.request(plain)
    assert [(type(d), d.worker_id) for d in decisions] == [(Grant, b"plain")]
    assert common_pb2.TaskSpec(serialized_runtime_env="x").serialized_runtime_env == "x"


def test_env_that_cannot_be_set_up_fails_its_tasks_and_actors(ray_start_regular):
    missing = "gcs://_ray_pkg_0123456789abcdef0123456789abcdef.zip"

    @ray.remote(runtime_env={"working_dir": missing}, max_retries=0)
    def f() -> None:
        pass

    with pytest.raises(ray.exceptions.RuntimeEnvSetupError, match="not in the GCS"):
        ray.get(f.remote(), timeout=180)

    @ray.remote(runtime_env={"py_modules": [missing]})
    class Broken:
        def ping(self) -> None:
            pass

    actor = Broken.remote()
    with pytest.raises(ray.exceptions.ActorUnschedulableError, match="not in the GCS"):
        ray.get(actor.ping.remote(), timeout=180)

    # The node is fine for other work.
    @ray.remote
    def ok() -> int:
        return 1

    assert ray.get(ok.remote(), timeout=120) == 1


def test_scheduler_rejects_an_env_whose_workers_keep_dying():
    from ray._private.scheduling.node_scheduler import MAX_ENV_START_FAILURES, Reject

    sched = NodeScheduler(b"n" * 28, NodeResources({"CPU": 4}), max_starting=1)
    lease = QueuedLease(b"l1", to_fixed({"CPU": 1}), to_fixed({"CPU": 1}), env="bad")
    assert sched.request(lease) == [StartWorkers(1, "bad")]
    for attempt in range(MAX_ENV_START_FAILURES - 1):
        assert sched.worker_gone(b"w%d" % attempt, True, "bad", "boom") == [StartWorkers(1, "bad")]
    decisions = sched.worker_gone(b"last", True, "bad", "boom")
    assert len(decisions) == 1 and isinstance(decisions[0], Reject)
    assert decisions[0].lease is lease and "boom" in decisions[0].error
    assert sched.queue == []
