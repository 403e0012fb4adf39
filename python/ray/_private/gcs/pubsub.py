"""Publish/subscribe of state changes and logs, delivered over server-streaming RPCs."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable

from ray._private.generated import gcs_pb2

logger = logging.getLogger(__name__)

# Messages kept for a subscriber that does not read; older ones are dropped.
MAX_QUEUED = 10_000


class Subscriber:
    """One subscription: its channels, job filter and queue."""

    def __init__(self, channels: Iterable[int], job_id: bytes) -> None:
        self.channels = frozenset(channels)
        self.job_id = job_id
        self.queue: queue.Queue[gcs_pb2.PubMessage | None] = queue.Queue(MAX_QUEUED)

    def wants(self, msg: gcs_pb2.PubMessage) -> bool:
        if msg.channel not in self.channels:
            return False
        if not self.job_id:
            return True
        if msg.HasField("log_batch"):
            return msg.log_batch.job_id in (b"", self.job_id)
        if msg.HasField("driver_message"):
            return msg.driver_message.job_id in (b"", self.job_id)
        return True


class Publisher:
    """Fans messages out to subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[Subscriber] = set()

    def subscribe(self, channels: Iterable[int], job_id: bytes = b"") -> Subscriber:
        sub = Subscriber(channels, job_id)
        with self._lock:
            self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    def publish(self, msg: gcs_pb2.PubMessage) -> None:
        with self._lock:
            subs = [s for s in self._subscribers if s.wants(msg)]
        for sub in subs:
            try:
                sub.queue.put_nowait(msg)
            except queue.Full:
                logger.warning("subscriber queue full; dropping a %s message", msg.channel)

    def close(self) -> None:
        with self._lock:
            subs = list(self._subscribers)
            self._subscribers.clear()
        for sub in subs:
            try:
                sub.queue.put_nowait(None)
            except queue.Full:
                pass
