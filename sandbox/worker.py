"""A background thread that runs queued jobs in order, for deliveries and imports."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class BackgroundQueue:
    """Runs `handle(job)` for each queued job on one daemon thread, started on first use.

    `drain()` lets tests and benchmarks wait until the queue is empty instead of sleeping.
    """

    def __init__(self, name: str, handle: Callable[[object], None]) -> None:
        self.name = name
        self._handle = handle
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    def put(self, job: object) -> None:
        with self._idle:
            self._pending += 1
        with self._start_lock:
            if not self._closed and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._queue.put(job)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._handle(job)
            except Exception:  # one failed job must not stop the others
                logger.exception("%s: job failed", self.name)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job ran; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout: float = 5.0) -> None:
        with self._start_lock:
            self._closed = True
            thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout=timeout)
