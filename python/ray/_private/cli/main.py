"""The `ray` command line: start, stop and inspect a long-lived cluster.

`ray start --head` starts a GCS and a node manager that outlive the command, and
`ray start --address HOST:PORT` adds a node manager to a running cluster; every
process of a node listens on its `--node-ip-address` only (several nodes can share
one machine on different loopback addresses). With `--block` the command stays in
the foreground and the node is one process group with it. Every process they start
is recorded in `<RAY_TMPDIR>/ray_started_processes.json` (pid, start time, role,
address, session), so `ray stop` stops exactly those processes and never one it did
not start. Each head is also recorded in this user's `<RAY_TMPDIR>/clusters-<uid>/`,
so drivers and nodes on this machine find its token from its address alone, whatever
its `--temp-dir`. `ray status` prints the nodes (alive and dead), the resources each
has and uses, and the demand that waits (`GetClusterStatus`), of the cluster recorded
in `<RAY_TMPDIR>/ray_current_cluster` or given with `--address`.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import errno
import ipaddress
import json
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ray._private import constants, process
from ray._private import session as session_mod
from ray._private.cli.processes import (
    GCS,
    NODE_MANAGER,
    Outcome,
    ProcessRecord,
    StartedProcess,
    cleanup_node_files,
    stop_processes,
)
from ray._private.cli.status import (
    NodeStore,
    format_bytes,
    format_resources,
    format_status,
)
from ray._private.generated import common_pb2
from ray._private.node import (
    build_resources,
    default_memory,
    default_object_store_memory,
    is_local_address,
    local_addresses,
    start_node,
)
from ray._private.rpc import errors as rpc_errors
from ray._private.rpc.gcs_client import GcsClient
from ray._private.rpc.node_manager_client import NodeManagerClient

logger = logging.getLogger(__name__)


class CliError(Exception):
    """A failure reported to the user as one message and a non-zero exit status."""


def _gcs_error(address: str, err: rpc_errors.RpcFailure, token_source: str = "") -> CliError:
    """The CLI error for a failed GCS call."""
    if isinstance(err, rpc_errors.Unauthenticated):
        source = f" ({token_source})" if token_source else ""
        return CliError(
            f"The GCS at {address} refused the token{source}: it is not this cluster's token. "
            f"Pass the right one with --token or {constants.TOKEN_ENV}; "
            f"`ray token --address {address}` prints it on the head's machine."
        )
    if isinstance(err, rpc_errors.Unavailable):
        return _unreachable(address)
    if isinstance(err, rpc_errors.Unimplemented):
        return CliError(
            f"{address} is not a GCS (is it a node manager's port?): give the GCS address that "
            "`ray start --head` printed."
        )
    return CliError(f"The GCS at {address} failed: {err.code.name} {err.details}")


def _unreachable(address: str) -> CliError:
    return CliError(
        f"Cannot reach the GCS at {address}: nothing answers there. Check that the head is "
        f"running (`ray status` on its machine) and that {address} is the GCS address "
        f"`ray start --head` printed, reachable from this machine."
    )


# ---- helpers -----------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _check_node_ip(host: str) -> None:
    """Refuses a --node-ip-address that is not an IP address of this machine."""
    try:
        ipaddress.ip_address(host)
    except ValueError as err:
        raise CliError(
            f"--node-ip-address {host!r} is not an IP address: give one of this machine's "
            f"addresses ({', '.join(local_addresses())})."
        ) from err
    if not is_local_address(host):
        raise CliError(
            f"--node-ip-address {host} is not an address of this machine, so the node cannot "
            f"listen on it. Give one of this machine's addresses ({', '.join(local_addresses())}; "
            f"on Linux any 127.x.y.z works for a node that only this machine reaches)."
        )


def _token_source(args: argparse.Namespace) -> str:
    if args.token:
        return "given with --token"
    if os.environ.get(constants.TOKEN_ENV):
        return f"from {constants.TOKEN_ENV}"
    return "found in this machine's record of the clusters it started"


def _gcs_answers(address: str, token: str, timeout_s: float = 2.0) -> bool:
    """True if a GCS answers at `address` (even if it refuses the token)."""
    try:
        GcsClient(address, token).get_cluster_info(timeout_s=timeout_s)
    except rpc_errors.Unavailable:
        return False
    except rpc_errors.RpcFailure as err:
        return not isinstance(err, rpc_errors.DeadlineExceeded)
    return True


def _read_token(session: session_mod.Session) -> str:
    try:
        return session.read_token()
    except OSError:
        return ""


def _check_port_free(host: str, port: int, flag: str = "--port") -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise CliError(
                    f"Port {port} on {host} is already in use (another cluster or program listens "
                    f"there). Choose another with {flag}, or {flag} 0 for any free port."
                ) from err
            if err.errno == errno.EADDRNOTAVAIL:
                raise CliError(
                    f"{host} is not an address of this machine (--node-ip-address)."
                ) from err
            raise CliError(f"Cannot listen on {host}:{port}: {err.strerror}") from err


def _parse_resources(text: str | None) -> dict[str, float]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise CliError(
            f"--resources must be a JSON object such as '{{\"accel\": 2}}': {err}"
        ) from err
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
        for k, v in value.items()
    ):
        raise CliError(f"--resources must map resource names to numbers, got {text!r}")
    for name in ("CPU", "GPU"):
        if name in value:
            raise CliError(f"Give {name}s with --num-{name.lower()}s, not in --resources")
    return {k: float(v) for k, v in value.items()}


def _node_resources(args: argparse.Namespace) -> tuple[dict[str, float], int]:
    store = args.object_store_memory
    if store is not None and store <= 0:
        raise CliError(f"--object-store-memory must be positive, got {store}")
    store = store or default_object_store_memory()
    if args.memory is not None and args.memory < 0:
        raise CliError(f"--memory must be a number of bytes >= 0, got {args.memory}")
    try:
        memory = default_memory(store) if args.memory is None else args.memory
        resources = build_resources(
            args.num_cpus, args.num_gpus, _parse_resources(args.resources), memory=memory
        )
    except ValueError as err:
        raise CliError(str(err)) from err
    return resources, store


def _start_error(err: BaseException) -> CliError:
    return CliError(f"Could not start the node: {err}")


# ---- ray start ---------------------------------------------------------------------------


def cmd_start(args: argparse.Namespace) -> int:
    """`ray start`: a head node (`--head`) or a node joining the cluster at `--address`."""
    if args.head:
        if args.token:
            raise CliError("--token is for joining a cluster; a new head makes its own token")
        if args.port is None:
            args.port = constants.DEFAULT_GCS_PORT
        return _start_head(args)
    if args.port is not None:
        raise CliError("--port sets the GCS port of a head node; a joining node has no GCS")
    return _start_worker(args)


def _running_cluster() -> str | None:
    """The address of the recorded current cluster if it answers."""
    current = session_mod.read_current_cluster()
    if current is None or not _gcs_answers(current[0], _read_token(current[1])):
        return None
    return current[0]


def _temp_dir(path: str) -> str:
    directory = Path(path).expanduser().resolve()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CliError(f"--temp-dir {path}: cannot create it ({err.strerror})") from err
    if not os.access(directory, os.W_OK):
        raise CliError(f"--temp-dir {path}: not writable")
    return str(directory)


def _check_no_running_cluster() -> None:
    current = session_mod.read_current_cluster()
    if current is None:
        return None
    address, session = current
    if _gcs_answers(address, _read_token(session)):
        raise CliError(
            f"A Ray cluster started by `ray start` is already running at {address} (session "
            f"{session.session_dir}). Stop it with `ray stop` first, or add a node to it with "
            f"`ray start --address {address}`."
        )
    print(f"Forgetting the cluster recorded at {address}: it no longer answers.")
    session_mod.clear_current_cluster(address)
    return None


def _start_head(args: argparse.Namespace) -> int:
    host = args.node_ip_address
    _check_node_ip(host)
    # A node in the foreground (--block, as a library starts one for its program) may run
    # beside a long-lived cluster; it does not take over `address="auto"` from it.
    other = _running_cluster() if args.block else _check_no_running_cluster()
    resources, store = _node_resources(args)
    if args.port != 0:
        _check_port_free(host, args.port)
    if args.node_manager_port:
        _check_port_free(host, args.node_manager_port, "--node-manager-port")
    if args.metrics_export_port:
        _check_port_free(host, args.metrics_export_port, "--metrics-export-port")
    session = token = None
    if args.temp_dir:
        session, token = session_mod.create_session(_temp_dir(args.temp_dir))
    try:
        node = start_node(
            resources,
            store,
            head=True,
            session=session,
            token=token,
            gcs_port=args.port,
            node_manager_port=args.node_manager_port,
            metrics_export_port=args.metrics_export_port,
            host=host,
            detached=not args.block,
            own_process_groups=not args.block,
        )
    except (RuntimeError, OSError) as err:
        raise _start_error(err) from err
    try:
        gcs, nm = node.children
        entries = [
            StartedProcess.of(GCS, gcs.pid, node.gcs_address, node.gcs_address, node.session),
            StartedProcess.of(
                NODE_MANAGER,
                nm.pid,
                node.node_manager_address,
                node.gcs_address,
                node.session,
                node.node_id,
            ),
        ]
        ProcessRecord().add(entries)
        session_mod.register_cluster(node.gcs_address, node.session)
        if other is None:
            session_mod.write_current_cluster(node.gcs_address, node.session)
    except BaseException:
        node.stop()
        raise
    address = node.gcs_address
    print(
        f"Started a Ray head node.\n"
        f"  GCS address:   {address}  (pid {gcs.pid})\n"
        f"  Node manager:  {node.node_manager_address}  (pid {nm.pid})\n"
        f"  Node ID:       {node.node_id.hex()}\n"
        f"  Resources:     {format_resources(resources)}; object store {format_bytes(store)}\n"
        f"  Session:       {node.session.session_dir}  (logs in logs/)\n"
        f"\n"
        f"Connect a driver on this machine with:\n"
        f"    import ray\n"
        f'    ray.init(address="auto")   # or ray.init(address="{address}")\n'
        f"\n"
        f"Drivers and nodes of this user on this machine find the cluster token by the\n"
        f"address. It is stored in {node.session.token_file} (mode 0600); elsewhere, set\n"
        f"RAY_CLUSTER_TOKEN to what `ray token --address {address}` prints, then:\n"
        f"    python -c 'import ray; ray.init(address=\"{address}\")'\n"
        f"    ray start --address {address} --node-ip-address <that machine's IP>\n"
    )
    if other is not None:
        print(
            f'Note: ray.init(address="auto") still finds the cluster at {other}; use '
            f'ray.init(address="{address}") for this one.\n'
        )
    if _is_loopback(host):
        print(
            f"The cluster listens on {host} only; to accept other machines, start it with "
            f"--node-ip-address <this machine's IP>.\n"
        )
    print("See the cluster with `ray status`; stop it with `ray stop`.", flush=True)
    if args.block:
        return _block(node, entries, node.gcs_address)
    return 0


def _join_address(args: argparse.Namespace) -> str:
    address = args.address
    if address == "auto":
        current = session_mod.read_current_cluster()
        if current is None:
            raise CliError(
                "--address auto: no cluster was started with `ray start --head` on this "
                "machine; give the head's GCS address, --address HOST:PORT"
            )
        address = current[0]
    address = address.removeprefix("ray://")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise CliError(f"--address must be HOST:PORT of the head's GCS, got {args.address!r}")
    return address


def _start_worker(args: argparse.Namespace) -> int:
    address = _join_address(args)
    host = args.node_ip_address
    _check_node_ip(host)
    resources, store = _node_resources(args)
    if args.node_manager_port:
        _check_port_free(host, args.node_manager_port, "--node-manager-port")
    if args.metrics_export_port:
        _check_port_free(host, args.metrics_export_port, "--metrics-export-port")
    token = args.token or session_mod.find_token(address)
    if not token:
        if not _gcs_answers(address, ""):
            raise _unreachable(address)
        raise CliError(
            f"No token for the cluster at {address}: it was not started by this user on this "
            f"machine. Pass --token or set {constants.TOKEN_ENV} to what "
            f"`ray token --address {address}` prints on the head's machine."
        )
    if _is_loopback(host) and not _is_loopback(address.rpartition(":")[0]):
        print(
            f"Warning: this node listens on {host}, which the head at {address} cannot reach; "
            f"pass --node-ip-address <this machine's IP>.",
            file=sys.stderr,
        )
    try:
        info = GcsClient(address, token).get_cluster_info(timeout_s=10)
    except rpc_errors.RpcFailure as err:
        raise _gcs_error(address, err, _token_source(args)) from err
    try:
        session = session_mod.join_session(
            info.session_name, token, _temp_dir(args.temp_dir) if args.temp_dir else None
        )
    except ValueError as err:
        raise CliError(f"The GCS at {address} reported a bad session name: {err}") from err
    try:
        node = start_node(
            resources,
            store,
            head=False,
            session=session,
            token=token,
            gcs_address=address,
            node_manager_port=args.node_manager_port,
            metrics_export_port=args.metrics_export_port,
            host=host,
            detached=not args.block,
            own_process_groups=not args.block,
        )
    except (RuntimeError, OSError) as err:
        raise _start_error(err) from err
    try:
        (nm,) = node.children
        entries = [
            StartedProcess.of(
                NODE_MANAGER, nm.pid, node.node_manager_address, address, session, node.node_id
            )
        ]
        ProcessRecord().add(entries)
        current = session_mod.read_current_cluster()
        if (
            current is None
            or current[0] == address
            or not _gcs_answers(current[0], _read_token(current[1]))
        ):
            session_mod.write_current_cluster(address, session)
        else:
            print(
                f'Note: `ray.init(address="auto")` here still finds the cluster at {current[0]}; '
                f'use ray.init(address="{address}") for this one.'
            )
    except BaseException:
        node.stop()
        raise
    print(
        f"Started a Ray node joining the cluster at {address}.\n"
        f"  Node manager:  {node.node_manager_address}  (pid {nm.pid})\n"
        f"  Node ID:       {node.node_id.hex()}\n"
        f"  Resources:     {format_resources(resources)}; object store {format_bytes(store)}\n"
        f"  Session:       {session.session_dir}  (logs in logs/)\n"
        f"\n"
        f"Drivers on this machine attach to this node with\n"
        f'    ray.init(address="{address}", _node_ip_address="{host}")\n'
        f"See the cluster with `ray status`; stop this machine's processes with `ray stop`.",
        flush=True,
    )
    if args.block:
        return _block(node, entries, None)
    return 0


def _exit_description(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exited with code {code}"


def _block(node: Any, entries: list[StartedProcess], gcs_address: str | None) -> int:
    """`--block`: stays in the foreground until Ctrl-C, SIGTERM, the parent process exiting,
    or one of the node's processes exiting (`ray stop`, a crash); then stops the node. Its
    processes hold lifelines to this one, so they also stop if it is killed.

    Returns:
        0, or 1 if a process of the node failed.
    """
    stop = process.StopRequest()
    stop.install(None)
    parent = os.getppid()
    children = list(node.children)
    ended: list[tuple[Any, int]] = []

    def watch() -> None:
        while not stop.is_set():
            if os.getppid() != parent:
                stop.set()
                return
            for child in children:
                code = child.popen.poll()
                if code is not None:
                    ended.append((child, code))
                    stop.set()
                    return
            time.sleep(0.2)

    threading.Thread(target=watch, name="node-watch", daemon=True).start()
    print("Blocking: Ctrl-C (or SIGTERM) stops this node.", flush=True)
    status = 0
    try:
        stop.wait()
    finally:
        if ended:
            child, code = ended[0]
            if code == 0:
                print(f"The {child.name} (pid {child.pid}) was asked to stop.", flush=True)
            else:
                status = 1
                print(
                    f"Error: the {child.name} (pid {child.pid}) died ({_exit_description(code)}); "
                    f"see its log in {node.session.logs_dir}.",
                    file=sys.stderr,
                    flush=True,
                )
        print("Stopping the node.", flush=True)
        node.stop()
        ProcessRecord().remove(entries)
        if gcs_address is not None:
            session_mod.clear_current_cluster(gcs_address)
            session_mod.unregister_cluster(gcs_address)
    return status


# ---- ray stop ----------------------------------------------------------------------------


def cmd_stop(args: argparse.Namespace) -> int:
    """`ray stop`: stops what `ray start` started here and forgets the current cluster."""
    record = ProcessRecord()
    entries = record.load()
    results = stop_processes(entries, args.grace_period, args.force)
    gone = []
    for entry, outcome in results:
        if outcome == Outcome.SURVIVED:
            print(f"{outcome.value} {entry.label}", file=sys.stderr)
            continue
        print(f"{outcome.value} {entry.label}")
        gone.append(entry)
        for path in cleanup_node_files(entry):
            print(f"Removed {path}, left behind by node {entry.node_id[:12]}")
    record.remove(gone)
    for entry in gone:
        if entry.kind == GCS:
            session_mod.unregister_cluster(entry.gcs_address)
    current = session_mod.read_current_cluster()
    if current is not None:
        session_mod.clear_current_cluster(current[0])
        print(f"Removed the record of the cluster at {current[0]}.")
    survivors = [e for e, outcome in results if outcome == Outcome.SURVIVED]
    if survivors:
        pids = ", ".join(str(e.pid) for e in survivors)
        print(f"Some processes did not exit (pids {pids}); kill them by pid.", file=sys.stderr)
        return 1
    stopped = sum(1 for _, outcome in results if outcome in (Outcome.STOPPED, Outcome.KILLED))
    if stopped:
        print(f"Stopped {stopped} process(es) started by `ray start`.")
    else:
        print("No Ray processes started by `ray start` were running on this machine.")
    return 0


# ---- ray status --------------------------------------------------------------------------


def _cluster_to_inspect(args: argparse.Namespace) -> tuple[str, str]:
    if args.address and args.address != "auto":
        address = args.address.removeprefix("ray://")
    else:
        current = session_mod.read_current_cluster()
        if current is None:
            raise CliError(
                f"No Ray cluster is running on this machine: none is recorded in "
                f"{Path(constants.TEMP_DIR) / session_mod.CURRENT_CLUSTER_FILE}. Start one with "
                f"`ray start --head`, or pass --address HOST:PORT."
            )
        address = current[0]
    token = args.token or session_mod.find_token(address)
    if not token:
        if not _gcs_answers(address, ""):
            raise _unreachable(address)
        raise CliError(
            f"No token for the cluster at {address}: pass --token or set {constants.TOKEN_ENV} "
            f"to what `ray token --address {address}` prints on the head's machine."
        )
    return address, token


def _node_store(node: common_pb2.NodeInfo, token: str) -> NodeStore:
    address = f"{node.node_manager_address}:{node.node_manager_port}"
    try:
        return NodeStore(stats=NodeManagerClient(address, token).stats(timeout_s=3))
    except rpc_errors.RpcFailure as err:
        return NodeStore(error=err.code.name)


def cmd_status(args: argparse.Namespace) -> int:
    """`ray status`: the nodes (alive and dead), their resources and the demand that waits."""
    address, token = _cluster_to_inspect(args)
    gcs = GcsClient(address, token)
    try:
        info = gcs.get_cluster_info(timeout_s=3)
        reply = gcs.get_cluster_status(timeout_s=10)
    except rpc_errors.Unavailable as err:
        raise CliError(
            f"The cluster at {address} does not answer: it was stopped or crashed, or "
            f"{address} is not its GCS address. `ray stop` cleans up what is left of a "
            f"cluster started here."
        ) from err
    except rpc_errors.RpcFailure as err:
        raise _gcs_error(address, err, _token_source(args)) from err
    alive = [n for n in reply.nodes if n.state == common_pb2.NODE_STATE_ALIVE]
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, len(alive) or 1)) as pool:
        stores = dict(
            zip(
                (n.node_id for n in alive),
                pool.map(lambda n: _node_store(n, token), alive),
                strict=True,
            )
        )
    print(format_status(address, info.session_name, reply, stores))
    return 0


# ---- ray token, ray cpp --------------------------------------------------------------------


def cmd_token(args: argparse.Namespace) -> int:
    """`ray token`: prints the token of a cluster this user started on this machine."""
    address, token = _cluster_to_inspect(args)
    print(token)
    return 0


def cmd_cpp(args: argparse.Namespace) -> int:
    """`ray cpp --show-library-path`: where the C++ headers and `libray_api.so` are installed."""
    import ray

    root = Path(ray.__file__).resolve().parent / "cpp"
    include, lib = root / "include", root / "lib"
    if not (lib / "libray_api.so").exists():
        raise CliError(
            f"The C++ library is not installed ({lib / 'libray_api.so'} is missing): build it "
            "with `bash scripts/cpp.sh build` from the source tree."
        )
    if not args.show_library_path:
        print("Usage: ray cpp --show-library-path")
        return 0
    print(f"Ray C++ include path {include}")
    print(f"Ray C++ library path {lib}")
    return 0


# ---- ray version -------------------------------------------------------------------------


def version_string() -> str:
    """What `ray --version` prints: this runtime, its version, and the Ray API it implements."""
    import ray

    return f"openray, version {_package_version()} (the Ray {ray.__version__} API)"


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("openray")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def cmd_version(args: argparse.Namespace) -> int:
    """`ray version`."""
    print(version_string())
    return 0


# ---- entry point -------------------------------------------------------------------------


def _add_node_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--num-cpus", type=float, default=None, help="CPUs of this node (default: detected)"
    )
    parser.add_argument(
        "--num-gpus", type=float, default=None, help="GPUs of this node (default: detected)"
    )
    parser.add_argument(
        "--resources", default=None, metavar="JSON", help="custom resources, e.g. '{\"accel\": 2}'"
    )
    parser.add_argument(
        "--memory",
        type=int,
        default=None,
        metavar="BYTES",
        help="the memory resource tasks and actors reserve with memory=... (default: the "
        "available RAM less the object store)",
    )
    parser.add_argument(
        "--object-store-memory",
        type=int,
        default=None,
        metavar="BYTES",
        help="object store capacity (default: a share of memory and /dev/shm)",
    )
    parser.add_argument(
        "--node-ip-address",
        default="127.0.0.1",
        help="the address of this machine that the node's processes listen on and advertise "
        "(default: 127.0.0.1; on Linux any 127.x.y.z, so one machine can run several nodes)",
    )
    parser.add_argument(
        "--node-manager-port", type=int, default=0, help="node manager port (default: any free)"
    )
    parser.add_argument(
        "--metrics-export-port",
        type=int,
        default=0,
        help="HTTP port of the node's Prometheus metrics endpoint (default: any free)",
    )
    parser.add_argument(
        "--temp-dir",
        default=None,
        metavar="DIR",
        help="where the node's session (logs, token, spill files) goes (default: RAY_TMPDIR)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `ray` and its subcommands."""
    # No abbreviations: a mistyped flag (`--num-cpu`) must be an error, not a guess.
    parser = argparse.ArgumentParser(
        prog="ray", description="Start, stop and inspect a Ray cluster.", allow_abbrev=False
    )
    parser.add_argument("--version", action="version", version=version_string())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    start = sub.add_parser(
        "start", allow_abbrev=False, help="start a head node, or a node joining a cluster"
    )
    role = start.add_mutually_exclusive_group(required=True)
    role.add_argument("--head", action="store_true", help="start a new cluster: GCS + node manager")
    role.add_argument(
        "--address", metavar="HOST:PORT", help="join the cluster whose GCS listens there"
    )
    start.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"GCS port of a head node (default {constants.DEFAULT_GCS_PORT}; 0 = any free port)",
    )
    start.add_argument(
        "--block",
        action="store_true",
        help="stay in the foreground; Ctrl-C (or SIGTERM, or the parent exiting) stops the node",
    )
    start.add_argument(
        "--token",
        default=None,
        help=f"cluster token when joining (default: ${constants.TOKEN_ENV})",
    )
    _add_node_args(start)
    start.set_defaults(func=cmd_start)

    stop = sub.add_parser(
        "stop", allow_abbrev=False, help="stop every process `ray start` started on this machine"
    )
    stop.add_argument(
        "-f", "--force", action="store_true", help="SIGKILL at once instead of asking"
    )
    stop.add_argument(
        "-g",
        "--grace-period",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for a clean exit before SIGKILL (default 10)",
    )
    stop.set_defaults(func=cmd_stop)

    status = sub.add_parser(
        "status",
        allow_abbrev=False,
        help="print the nodes, their resources and use, and the demand that waits",
    )
    status.add_argument(
        "--address", default=None, help="GCS address (default: the cluster started here)"
    )
    status.add_argument(
        "--token", default=None, help=f"cluster token (default: ${constants.TOKEN_ENV})"
    )
    status.set_defaults(func=cmd_status)

    token = sub.add_parser(
        "token",
        allow_abbrev=False,
        help="print the token of a cluster started on this machine (default: the current one)",
    )
    token.add_argument("--address", default=None, help="GCS address HOST:PORT")
    token.add_argument("--token", default=None, help=argparse.SUPPRESS)
    token.set_defaults(func=cmd_token)

    cpp = sub.add_parser("cpp", allow_abbrev=False, help="where the C++ API is installed")
    cpp.add_argument(
        "--show-library-path",
        action="store_true",
        help="print the include and library directories for g++ -I/-L",
    )
    cpp.set_defaults(func=cmd_cpp)

    version = sub.add_parser("version", allow_abbrev=False, help="print the version")
    version.set_defaults(func=cmd_version)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the `ray` command line.

    Args:
        argv: The arguments (default: `sys.argv[1:]`).

    Returns:
        The exit status: 0 on success, 1 on failure, 2 on a usage error.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
