"""Entry point of a worker process started by a node manager."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys

import ray
from ray._private import constants, metrics, process
from ray._private import object_ref as object_ref_mod
from ray._private.gateway.lazy import LazyEmbeddedGateway
from ray._private.generated import common_pb2, node_manager_pb2
from ray._private.runtime_env import RUNTIME_ENV_VAR
from ray._private.runtime_env.process_env import ProcessEnv, uploader_for
from ray._private.worker.core_worker import CoreWorker, WorkerMode
from ray._private.worker.runners import RunnerContext, RunnerRegistry
from ray._private.worker.runners.python import PythonRunner
from ray._private.worker.task_executor import TaskExecutor

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Ray worker", allow_abbrev=False)
    parser.add_argument("--node-manager-port", type=int, required=True)
    parser.add_argument("--gcs-address", required=True)
    parser.add_argument("--node-id", required=True)
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--startup-token", required=True)
    parser.add_argument("--session-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    process.add_common_args(parser)
    opts = parser.parse_args(argv)
    # Processes this worker's code starts import ray as usual.
    os.environ.pop(ray.SERVICE_PROCESS_ENV, None)
    log_path = os.path.join(
        opts.session_dir, "logs", f"worker-{opts.worker_id[:12]}-{os.getpid()}.log"
    )
    process.setup_process_logging("worker", log_path)
    # `kill -USR1 <pid>` writes every thread's stack to the worker's log, for debugging hangs.
    stack_log = open(log_path, "a")  # noqa: SIM115 - lives as long as the process
    faulthandler.register(signal.SIGUSR1, file=stack_log, all_threads=True)
    # Workers exit as soon as their node manager goes.
    process.watch_lifeline(opts.lifeline_fd, lambda: os._exit(0))
    token = os.environ[constants.TOKEN_ENV]
    # The worker also serves gateway sessions to the Java and C++ code it runs, loaded on first use.
    gateway = LazyEmbeddedGateway()
    cw = CoreWorker(
        WorkerMode.WORKER,
        opts.gcs_address,
        token,
        f"{opts.host}:{opts.node_manager_port}",
        bytes.fromhex(opts.node_id),
        opts.session_dir,
        worker_id=bytes.fromhex(opts.worker_id),
        host=opts.host,
        extra_services=[gateway.register],
    )
    gateway.attach(cw)
    # Enter the runtime env this worker was started for (packages, cwd, sys.path).
    # Most workers have none: the unpacking code (and pathlib, shutil) loads only for one.
    serialized_env = os.environ.get(RUNTIME_ENV_VAR, "")
    env: dict = {}
    if serialized_env:
        from ray._private.runtime_env import worker_setup

        env = worker_setup.enter(serialized_env, opts.session_dir, cw.gcs.kv_get)
    cw.runtime_env = ProcessEnv(env, uploader_for(cw.gcs))
    context = RunnerContext(
        job_config=cw.job_config_of,
        session_for=lambda job_id, language: gateway.session_for(
            job_id, cw.job_config_of(job_id).ray_namespace, language
        ),
        held_refs=gateway.held_refs,
        token=token,
        session_dir=opts.session_dir,
        worker_id=cw.worker_id,
    )
    runners = RunnerRegistry(PythonRunner(cw.functions), context)
    executor = TaskExecutor(cw, runners, cw.loop)
    cw.executor = executor
    object_ref_mod.set_core_worker(cw)
    from ray._private import runtime

    runtime.attach_worker(cw)
    registered = cw.nm.register_worker(
        node_manager_pb2.RegisterWorkerRequest(
            worker_id=cw.worker_id,
            pid=os.getpid(),
            port=cw.address.port,
            language=common_pb2.LANGUAGE_PYTHON,
            startup_token=bytes.fromhex(opts.startup_token),
        )
    )
    cw.ownership.store_dir = registered.store_dir
    sys.path.insert(0, os.getcwd())
    executor.run_forever()
    metrics.disconnect()
    os._exit(constants.WORKER_INTENDED_EXIT_CODE)


if __name__ == "__main__":
    main()
