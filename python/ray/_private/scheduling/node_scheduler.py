"""One node's lease queue, sans-IO: events in, decisions out.

The node manager feeds it what happens (a lease is requested or cancelled, a worker starts,
registers, comes back idle or exits, resources are released, the cluster view changes) and
carries out what it decides:

- `Grant(lease, worker_id, alloc)`: give that idle worker to the request;
- `StartWorkers(count, env)`: start that many workers for runtime env `env` (requests that fit
  wait for them);
- `Spill(lease, node)`: answer "ask that node instead";
- `Reject(lease, infeasible, error)`: answer at once: no alive node can ever hold it
  (`infeasible`; the requester warns and asks again), or it must fail (`error`).

A request is granted only a worker of its own runtime env (`QueuedLease.env`, "" for none):
workers of different envs are different processes.

Requests are served in arrival order among those that fit; one that does not fit now never
blocks a later one that does. A queued request that could spill (it was not sent here by
another node, and its strategy allows it) moves to another node as soon as the view shows that
node free for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ray._private import constants
from ray._private.generated import common_pb2
from ray._private.scheduling.policy import ClusterView, NodeView
from ray._private.scheduling.resources import Allocation, NodeResources, to_float


@dataclass(eq=False)
class QueuedLease:
    """A lease request as the scheduler sees it (amounts in fixed point)."""

    lease_id: bytes
    # Held while the lease lives.
    need: dict[str, int]
    # Must be free to grant it (`need`, or more for an actor's placement).
    place: dict[str, int]
    strategy: common_pb2.SchedulingStrategy = field(default_factory=common_pb2.SchedulingStrategy)
    # False when another node sent it here: it stays (or is rejected).
    may_spill: bool = True
    # Tasks of this shape queued at the requester (for the demand report).
    backlog: int = 1
    kind: str = "task"
    # The runtime env its worker must run in (a key; "" for none).
    env: str = ""
    # The node manager's own data for the request (its reply slot).
    payload: Any = None


class Grant(NamedTuple):
    lease: QueuedLease
    worker_id: bytes
    alloc: Allocation


class StartWorkers(NamedTuple):
    count: int
    # The runtime env key the workers start in ("" for none).
    env: str = ""


class Spill(NamedTuple):
    lease: QueuedLease
    node: NodeView


class Reject(NamedTuple):
    lease: QueuedLease
    infeasible: bool
    error: str = ""


Decision = Grant | StartWorkers | Spill | Reject

# How many workers of one runtime env may die in a row before registering (their env could not
# be set up) before the requests waiting for that env are rejected with this message prefix.
MAX_ENV_START_FAILURES = 3
ENV_SETUP_FAILED = constants.RUNTIME_ENV_SETUP_FAILED


class NodeScheduler:
    """The queue, idle workers and resources of one node. Not thread-safe (the caller locks).

    Args:
        node_id: This node.
        resources: Its resource accounting.
        max_starting: Workers that may be starting at once.
        view: The other alive nodes.
    """

    def __init__(
        self,
        node_id: bytes,
        resources: NodeResources,
        max_starting: int,
        view: ClusterView | None = None,
    ) -> None:
        self.node_id = node_id
        self.resources = resources
        self.max_starting = max_starting
        self.view = view or ClusterView(node_id)
        self.queue: list[QueuedLease] = []
        # What the queued requests ask for, in sum (the local node's view counts it as taken).
        self._queued: dict[str, int] = defaultdict(int)
        # Idle workers, the most recently idle last (it is handed out first).
        self.idle: list[bytes] = []
        # Workers starting (all envs), and those of each non-empty runtime env among them.
        self.starting = 0
        self._starting_env: dict[str, int] = defaultdict(int)
        # The runtime env of each worker not started for the empty one.
        self._worker_env: dict[bytes, str] = {}
        # Workers of each runtime env that died starting, since one last registered.
        self._env_failures: dict[str, int] = defaultdict(int)

    # ---- requests --------------------------------------------------------------------

    def request(self, lease: QueuedLease) -> list[Decision]:
        choice = self.view.choose(lease.place, lease.strategy, self._local(), lease.may_spill)
        if choice.error:
            return [Reject(lease, False, choice.error)]
        if choice.node is None:
            return [Reject(lease, True)]
        if not choice.local:
            self.view.reserve(choice.node.node_id, lease.place)
            return [Spill(lease, choice.node)]
        self._enqueue(lease)
        return self.schedule()

    def cancel(self, lease_id: bytes) -> QueuedLease | None:
        """Takes a queued request out (None if it is not queued)."""
        for lease in self.queue:
            if lease.lease_id == lease_id:
                self._dequeue(lease)
                return lease
        return None

    # ---- workers and resources -------------------------------------------------------

    def worker_registered(self, worker_id: bytes, env: str = "") -> list[Decision]:
        """A started worker (of runtime env `env`) is ready."""
        self.starting = max(self.starting - 1, 0)
        if env:
            self._worker_env[worker_id] = env
            self._starting_env[env] = max(self._starting_env[env] - 1, 0)
            self._env_failures.pop(env, None)
        self.idle.append(worker_id)
        return self.schedule()

    def worker_idle(self, worker_id: bytes) -> list[Decision]:
        """A leased worker came back and may be reused."""
        self.idle.append(worker_id)
        return self.schedule()

    def worker_gone(
        self, worker_id: bytes, was_starting: bool, env: str = "", failure: str = ""
    ) -> list[Decision]:
        """A worker (of runtime env `env`) exited (or is being stopped); `failure` says how.

        When workers of an env keep dying before they register, the requests for that env
        are rejected (their tasks fail) instead of starting workers forever.
        """
        if worker_id in self.idle:
            self.idle.remove(worker_id)
        self._worker_env.pop(worker_id, None)
        decisions: list[Decision] = []
        if was_starting:
            self.starting = max(self.starting - 1, 0)
            if env:
                self._starting_env[env] = max(self._starting_env[env] - 1, 0)
                self._env_failures[env] += 1
                if self._env_failures[env] >= MAX_ENV_START_FAILURES:
                    del self._env_failures[env]
                    error = f"{ENV_SETUP_FAILED}: its workers exited while starting. {failure}"
                    for lease in [q for q in self.queue if q.env == env]:
                        self._dequeue(lease)
                        decisions.append(Reject(lease, False, error.strip()))
        return decisions + self.schedule()

    def take_idle(self, worker_id: bytes) -> bool:
        """Removes an idle worker (to stop it); False if it is not idle."""
        if worker_id in self.idle:
            self.idle.remove(worker_id)
            return True
        return False

    def release(self, alloc: Allocation) -> list[Decision]:
        self.resources.release(alloc)
        return self.schedule()

    def view_changed(self, infos: Iterable[common_pb2.NodeInfo]) -> list[Decision]:
        self.view.update(infos)
        return self.schedule()

    # ---- the decision ----------------------------------------------------------------

    def schedule(self) -> list[Decision]:
        """Grants what fits (in order), spills what waits and fits elsewhere now, starts workers."""
        decisions: list[Decision] = []
        # What the requests that fit but wait for a worker will take.
        waiting: dict[str, int] = defaultdict(int)
        # Requests that fit and wait for a worker, by runtime env.
        num_waiting: dict[str, int] = defaultdict(int)
        for lease in list(self.queue):
            if self.resources.fits_available(lease.place) and _fits_with(
                self.resources.available, waiting, lease.place
            ):
                worker_id = self._pop_idle(lease.env)
                if worker_id is not None:
                    alloc = self.resources.allocate(lease.need)
                    self._dequeue(lease)
                    decisions.append(Grant(lease, worker_id, alloc))
                else:
                    num_waiting[lease.env] += 1
                    for k, v in lease.place.items():
                        waiting[k] += v
                continue
            if lease.may_spill and self.view.nodes:
                choice = self.view.choose(lease.place, lease.strategy, self._local())
                if (
                    choice.node is not None
                    and not choice.local
                    and choice.node.fits_now(lease.place)
                ):
                    self._dequeue(lease)
                    self.view.reserve(choice.node.node_id, lease.place)
                    decisions.append(Spill(lease, choice.node))
        for env, count in num_waiting.items():
            start = min(
                min(count, self.max_starting) - self._starting_of(env),
                self.max_starting - self.starting if env else count,
            )
            if start > 0:
                self.starting += start
                if env:
                    self._starting_env[env] += start
                decisions.append(StartWorkers(start, env))
        return decisions

    def _starting_of(self, env: str) -> int:
        if env:
            return self._starting_env[env]
        return max(self.starting - sum(self._starting_env.values()), 0)

    def _pop_idle(self, env: str) -> bytes | None:
        """The most recently idle worker of runtime env `env`, taken out of the idle list."""
        for i in range(len(self.idle) - 1, -1, -1):
            if self._worker_env.get(self.idle[i], "") == env:
                return self.idle.pop(i)
        return None

    def demand(self) -> list[common_pb2.ResourceDemand]:
        """Queued requests that do not fit now, by kind and shape (counted by backlog)."""
        counts: dict[tuple, int] = defaultdict(int)
        for lease in self.queue:
            if not self.resources.fits_available(lease.place):
                counts[(lease.kind, tuple(sorted(lease.place.items())))] += max(lease.backlog, 1)
        return [
            common_pb2.ResourceDemand(shape=to_float(dict(shape)), count=count, kind=kind)
            for (kind, shape), count in counts.items()
        ]

    def _enqueue(self, lease: QueuedLease) -> None:
        self.queue.append(lease)
        for k, v in lease.place.items():
            self._queued[k] += v

    def _dequeue(self, lease: QueuedLease) -> None:
        self.queue.remove(lease)
        for k, v in lease.place.items():
            self._queued[k] -= v

    def _local(self) -> NodeView:
        """This node as the policy sees it: what is free, less what queued requests will take."""
        available = dict(self.resources.available)
        for k, v in self._queued.items():
            if v:
                available[k] = available.get(k, 0) - v
        return NodeView(self.node_id, self.resources.total, available)


def _fits_with(
    available: Mapping[str, int], taken: Mapping[str, int], want: Mapping[str, int]
) -> bool:
    return all(available.get(k, 0) - taken.get(k, 0) >= v for k, v in want.items())
