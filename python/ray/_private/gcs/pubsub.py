"""Publish/subscribe of state changes and logs, delivered over server-streaming RPCs.

A subscriber is an asyncio queue on the GCS server's event loop: it costs memory,
not a thread. Any thread may publish; delivery is handed to the loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable

from ray._private.generated import gcs_pb2

logger = logging.getLogger(__name__)

# Messages kept for a subscriber that does not read; newer ones are dropped.
MAX_QUEUED = 10_000


class Subscriber:
    """One subscription: its channels, job filter and queue (read on `loop`)."""

    def __init__(
        self, channels: Iterable[int], job_id: bytes, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.channels = frozenset(channels)
        self.job_id = job_id
        self.loop = loop
        self.queue: asyncio.Queue[gcs_pb2.PubMessage | None] = asyncio.Queue()
        self.dropped = 0

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

    def deliver(self, msg: gcs_pb2.PubMessage | None) -> None:
        """On the loop: queue a message (None ends the subscription)."""
        if msg is not None and self.queue.qsize() >= MAX_QUEUED:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning("subscriber queue full; %d message(s) dropped", self.dropped)
            return
        self.queue.put_nowait(msg)


class Publisher:
    """Fans messages out to subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[Subscriber] = set()

    def subscribe(
        self, channels: Iterable[int], job_id: bytes, loop: asyncio.AbstractEventLoop
    ) -> Subscriber:
        sub = Subscriber(channels, job_id, loop)
        with self._lock:
            self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    def num_subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, msg: gcs_pb2.PubMessage) -> None:
        """Any thread: sends `msg` to every subscriber that wants it."""
        with self._lock:
            subs = [s for s in self._subscribers if s.wants(msg)]
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.deliver, msg)
            except RuntimeError:  # the loop is closed: the server is stopping
                pass

    def close(self) -> None:
        with self._lock:
            subs = list(self._subscribers)
            self._subscribers.clear()
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.deliver, None)
            except RuntimeError:
                pass
