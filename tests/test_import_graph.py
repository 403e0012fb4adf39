"""The import structure of the runtime: no cycles, components layered, stubs only in rpc/.

Every `import` counts, at module level, inside functions and under TYPE_CHECKING alike:
a cycle hidden behind a lazy import is still a cycle.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "python" / "ray"

# What each component may import of the others (all of them may use ids, constants,
# serialization, object_store, generated, event_loop, process, session, ...).
COMPONENTS = ("rpc", "gcs", "node_manager", "worker", "gateway", "cli")
MAY_IMPORT = {
    "rpc": set(),
    "gcs": {"rpc"},
    "node_manager": {"rpc"},
    "worker": {"rpc"},
    "gateway": {"rpc", "worker"},
    "cli": {"rpc"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.add(module)
            out.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in out if m == "ray" or m.startswith("ray.")}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "generated" not in p.parts}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in _imports(path) if m in files and m != name}
    return graph


def _component(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "_private" and parts[2] in COMPONENTS:
        return parts[2]
    return None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    # A package's __init__ re-exports its submodules; a submodule importing a sibling through
    # the package (`from ray._private import ids`) is not a cycle with the package itself.
    graph = {
        module: {dep for dep in deps if not module.startswith(dep + ".")}
        for module, deps in _graph().items()
    }
    assert _cycles(graph) == []


# Process entry points compose components (a worker serves gateway sessions to the code of
# other languages it runs); nothing imports them.
ENTRY_POINTS = {"ray._private.worker.worker_main"}


def test_components_import_only_what_they_may() -> None:
    wrong = []
    for module, deps in _graph().items():
        mine = _component(module)
        if mine is None or module in ENTRY_POINTS:
            continue
        for dep in deps:
            theirs = _component(dep)
            if theirs is not None and theirs != mine and theirs not in MAY_IMPORT[mine]:
                wrong.append(f"{module} -> {dep}")
    assert wrong == []


def test_no_part_of_the_worker_imports_the_core_worker() -> None:
    """CoreWorker is the composition root: parts get collaborators, never the hub."""
    graph = _graph()
    offenders = [
        module
        for module, deps in graph.items()
        if module.startswith("ray._private.worker.")
        and module not in ENTRY_POINTS
        and "ray._private.worker.core_worker" in deps
    ]
    assert offenders == []


def test_raw_stubs_only_in_the_rpc_layer() -> None:
    stub = re.compile(r"\b\w+_pb2_grpc\.\w+Stub\b")
    offenders = [
        str(p.relative_to(ROOT))
        for p in PACKAGE.rglob("*.py")
        if "generated" not in p.parts
        and "rpc" not in p.relative_to(PACKAGE).parts[:2]
        and stub.search(p.read_text())
    ]
    assert offenders == []


def test_no_grpc_errors_handled_outside_the_rpc_layer() -> None:
    """Runtime code sees RpcFailure; only servicers (which abort calls) touch grpc itself."""
    offenders = []
    for p in PACKAGE.rglob("*.py"):
        rel = p.relative_to(PACKAGE)
        if "generated" in rel.parts or rel.parts[:2] == ("_private", "rpc"):
            continue
        if "except grpc.RpcError" in p.read_text() and p.name != "service.py":
            offenders.append(str(rel))
    assert offenders == []


def test_nothing_imports_an_entry_point() -> None:
    assert [m for m, deps in _graph().items() if deps & ENTRY_POINTS] == []


def _run_as_service_process(code: str) -> None:
    """Runs `code` (which prints "ok") in a fresh interpreter started as services and workers are."""
    env = {**os.environ, "RAY_SERVICE_PROCESS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_service_processes_do_not_load_the_driver_api() -> None:
    # The GCS and node manager start with ray.SERVICE_PROCESS_ENV set (see ray/__init__.py):
    # the public names then load on first use, not with the package.
    code = (
        "import sys\n"
        "import ray._private.gcs.main, ray._private.node_manager.main\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('ray._private.worker.')"
        " or m in ('ray._private.api', 'ray.actor', 'prometheus_client'))\n"
        "assert not loaded, loaded\n"
        "import ray\n"
        "assert callable(ray.get) and 'ray._private.api' in sys.modules\n"
        "from ray import ObjectRef, remote\n"
        "print('ok')\n"
    )
    _run_as_service_process(code)


def test_a_worker_without_a_runtime_env_loads_no_env_setup() -> None:
    # Every worker process pays for what worker_main imports: the runtime_env unpacking code
    # (with pathlib and shutil) loads only for a worker started for an env.
    code = (
        "import sys\n"
        "import ray._private.worker.worker_main\n"
        "loaded = sorted(m for m in ('pathlib', 'shutil', 'ray._private.runtime_env.worker_setup')"
        " if m in sys.modules)\n"
        "assert not loaded, loaded\n"
        "print('ok')\n"
    )
    _run_as_service_process(code)
