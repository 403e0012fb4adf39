"""The per-process buffer of application metrics (`ray.util.metrics`).

Recording (`inc`, `set`, `observe`) only updates a dict under a lock. A background thread
sends what changed since its last report to the node manager every
`constants.METRICS_REPORT_INTERVAL_S`, and `disconnect()` (at `ray.shutdown()` and worker
exit) sends the rest. Counters and histograms travel as increments, gauges as their last
value; the node manager adds them up per (name, tags).
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ray._private import constants, metrics
from ray._private.generated import node_manager_pb2 as pb
from ray._private.rpc import errors

logger = logging.getLogger(__name__)

COUNTER = pb.METRIC_KIND_COUNTER
GAUGE = pb.METRIC_KIND_GAUGE
HISTOGRAM = pb.METRIC_KIND_HISTOGRAM

TagSet = tuple[tuple[str, str], ...]
Sender = Callable[[list[pb.MetricRecord]], None]

# Unsent records kept across failed reports (the oldest go first beyond this).
MAX_PENDING_SERIES = 10_000


@dataclass(frozen=True)
class MetricDef:
    """What a metric is: its kind, description and (histograms) bucket boundaries."""

    name: str
    kind: int
    description: str = ""
    boundaries: tuple[float, ...] = ()


@dataclass
class _Pending:
    definition: MetricDef
    value: float = 0.0
    bucket_counts: list[int] = field(default_factory=list)
    sum: float = 0.0

    def record(self, tags: TagSet) -> pb.MetricRecord:
        d = self.definition
        return pb.MetricRecord(
            name=d.name,
            kind=d.kind,
            description=d.description,
            tags=dict(tags),
            value=self.value,
            boundaries=d.boundaries,
            bucket_counts=self.bucket_counts,
            sum=self.sum,
        )


class MetricsRecorder:
    """Accumulates metric values until they are sent (sans-IO apart from the sender thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, TagSet], _Pending] = {}
        self._send_lock = threading.Lock()
        self._sender: Sender | None = None
        self._stop: threading.Event | None = None
        # The stop event of a connected sender whose report thread is not started yet: it
        # starts with the first value recorded, so a process that records none has no thread.
        self._unstarted: threading.Event | None = None

    # ---- recording (any thread) -----------------------------------------------------

    def inc(self, definition: MetricDef, tags: TagSet, value: float) -> None:
        with self._lock:
            self._entry(definition, tags).value += value

    def set(self, definition: MetricDef, tags: TagSet, value: float) -> None:
        with self._lock:
            self._entry(definition, tags).value = value

    def observe(self, definition: MetricDef, tags: TagSet, value: float) -> None:
        index = bisect.bisect_left(definition.boundaries, value)
        with self._lock:
            entry = self._entry(definition, tags)
            entry.bucket_counts[index] += 1
            entry.sum += value

    def _entry(self, definition: MetricDef, tags: TagSet) -> _Pending:
        key = (definition.name, tags)
        entry = self._pending.get(key)
        if entry is None or entry.definition != definition:
            buckets = len(definition.boundaries) + 1 if definition.kind == HISTOGRAM else 0
            entry = _Pending(definition, bucket_counts=[0] * buckets)
            self._pending[key] = entry
            if self._unstarted is not None:
                self._start_reporting(self._unstarted)
                self._unstarted = None
        return entry

    def take(self) -> list[pb.MetricRecord]:
        """Everything recorded since the last `take`, as records (the buffer is emptied)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        return [entry.record(tags) for (_, tags), entry in pending.items()]

    def put_back(self, records: Sequence[pb.MetricRecord]) -> None:
        """Re-queues records a report could not deliver, merged under newer values."""
        with self._lock:
            for record in records:
                if len(self._pending) >= MAX_PENDING_SERIES:
                    logger.warning("dropping unsent metric values: the node manager is unreachable")
                    return
                definition = MetricDef(
                    record.name, record.kind, record.description, tuple(record.boundaries)
                )
                tags: TagSet = tuple(sorted(record.tags.items()))
                newer = self._pending.get((record.name, tags))
                entry = self._entry(definition, tags)
                if record.kind == GAUGE:
                    if newer is None:
                        entry.value = record.value
                    continue
                entry.value += record.value
                entry.sum += record.sum
                for i, n in enumerate(record.bucket_counts):
                    entry.bucket_counts[i] += n

    # ---- reporting ------------------------------------------------------------------

    def connect(self, sender: Sender) -> None:
        """Starts reporting through `sender` (replacing an earlier one)."""
        self.disconnect()
        stop = threading.Event()
        with self._send_lock:
            self._sender, self._stop = sender, stop
        with self._lock:
            if self._pending:
                self._start_reporting(stop)
            else:
                self._unstarted = stop

    def _start_reporting(self, stop: threading.Event) -> None:
        threading.Thread(
            target=self._report_loop, args=(stop,), name="metrics-report", daemon=True
        ).start()

    def disconnect(self) -> None:
        """Sends what is left and stops reporting; later values wait for the next `connect`."""
        with self._send_lock:
            stop = self._stop
            self._stop = None
        with self._lock:
            self._unstarted = None
        if stop is None:
            return
        stop.set()
        self.flush()
        with self._send_lock:
            self._sender = None

    def flush(self) -> None:
        """Sends what was recorded since the last report (a failed report is retried later)."""
        with self._send_lock:
            sender = self._sender
            if sender is None:
                return
            records = self.take()
            if not records:
                return
            try:
                sender(records)
            except errors.Unavailable as err:
                logger.debug("metrics report failed, retrying later: %s", err)
                self.put_back(records)
            except errors.RpcFailure as err:
                logger.warning("metrics report rejected by the node manager: %s", err)

    def _report_loop(self, stop: threading.Event) -> None:
        while not stop.wait(constants.METRICS_REPORT_INTERVAL_S):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - reporting must never end the process
                logger.exception("metrics report failed")


_recorder = MetricsRecorder()
if metrics.current_sender() is not None:  # the process connected before its first metric
    _recorder.connect(metrics.current_sender())


def recorder() -> MetricsRecorder:
    """This process's recorder."""
    return _recorder
