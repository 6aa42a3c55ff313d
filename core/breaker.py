"""A pause after a failure, so that a service that is down or hung costs one short timeout now
and then rather than one per call.

Redis serves the cache (sessions are kept in the database as well), the throttles and the job
queue: when it fails, each use degrades (a cache miss, a job left in the outbox) and the
process leaves it alone for `pause` seconds before trying again. The state is per process
(module level), shared by its threads, which is what matters: a worker of the web server stops
paying the timeout for every request.
"""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger(__name__)


class Breaker:
    """Open for `pause` seconds after a failure: callers skip the service meanwhile."""

    def __init__(self, name: str, pause: float = 5.0) -> None:
        self.name = name
        self.pause = pause
        self._until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._until

    def trip(self, error: BaseException) -> None:
        with self._lock:
            if not self.is_open:
                logger.warning(
                    "%s failed (%s: %s); not used for %.0f s",
                    self.name,
                    type(error).__name__,
                    error,
                    self.pause,
                )
            self._until = time.monotonic() + self.pause

    def reset(self) -> None:
        with self._lock:
            self._until = 0.0
