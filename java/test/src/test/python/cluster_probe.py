"""Watches a cluster's object store for the Java tests: a small Python driver that joins the
cluster at argv[1] and prints one JSON line per poll until its stdin closes (or argv[2] seconds).

Each line: {"object_store_used_bytes": N, "num_objects": N, "worker_pids": [...]} of the node.
"""

import json
import sys
import threading
import time

import ray
from ray._private import runtime


def main() -> None:
    address = sys.argv[1]
    limit_s = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
    ray.init(address=address)
    done = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    deadline = time.monotonic() + limit_s
    try:
        while not done.is_set() and time.monotonic() < deadline:
            stats = runtime.core_worker().nm.stats()
            line = {
                "object_store_used_bytes": stats.object_store_used_bytes,
                "num_objects": stats.num_objects,
                "worker_pids": list(stats.worker_pids),
            }
            print(json.dumps(line), flush=True)
            done.wait(0.25)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
