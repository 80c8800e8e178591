"""Per-token rate limiting: an in-process token bucket (one bucket per bearer token).

One uvicorn worker serves a process, so an in-process limiter is exact for it; with several
workers or hosts each enforces its own share (a shared Redis limiter is a later step). The
table of buckets is bounded: the least recently used token is forgotten first, which can only
ever let a forgotten token start again with a full bucket.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["TokenBucketLimiter"]


class TokenBucketLimiter:
    """``rate_per_s`` sustained, ``burst`` at once; ``check`` says how long to wait, if at all."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self._rate = rate_per_s
        self._burst = float(burst)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def check(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until one is free.

        Called on the event loop only (no awaits inside), so no lock is needed.
        """
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self._rate
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait
