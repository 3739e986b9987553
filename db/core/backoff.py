"""How long to wait before trying a lost database (or camera) again: exponential back-off with
full jitter.

After a server restart every workstation, feed thread, camera tile and simulator notices at the
same moment; if all of them came back on the same fixed schedule they would knock on the new
server together, again and again. Full jitter (the n-th wait drawn uniformly between ``floor``
and ``min(cap, base * 2**n)``) spreads them out while the ceiling still grows, and the cap keeps
the longest wait short enough that the control room is back soon after the server is.

One :class:`Backoff` per reconnecting thing. :meth:`next_delay` draws the next wait (callers
with their own timer, a Qt tile, use it alone); :meth:`wait` draws and sleeps, cut short by a
stop :class:`threading.Event`; :meth:`reset` after a success starts the schedule over and says
how long the outage lasted. Pass ``rng`` (a seeded :class:`random.Random`) to make the waits
repeat in a test.
"""
from __future__ import annotations

import random
import threading
import time

MAX_EXPONENT = 30  # 2**30 times any sensible base is past every cap: no float overflow


def pause(seconds: float, stop: threading.Event | None = None) -> bool:
    """Sleep ``seconds``, cut short by ``stop``; True when ``stop`` is set. (For a caller that
    draws the delay first, to say it in a log line before it waits.)"""
    if stop is None:
        time.sleep(seconds)
        return False
    return stop.wait(seconds)


class Backoff:
    """Exponential back-off with full jitter. Not thread-safe: one per thread or timer."""

    def __init__(self, base: float = 0.5, cap: float = 30.0, *, floor: float = 0.0,
                 rng: random.Random | None = None) -> None:
        if not 0 <= floor <= base <= cap:
            raise ValueError("need 0 <= floor <= base <= cap")
        self.base = base
        self.cap = cap
        self.floor = floor
        self.rng = rng or random.Random()
        self.attempts = 0  # failures since the last reset: the exponent of the next ceiling
        self.last_delay = 0.0
        self.down_since: float | None = None  # time.monotonic() of the first failure

    def ceiling(self) -> float:
        """The longest the next wait may be."""
        return min(self.cap, self.base * 2 ** min(self.attempts, MAX_EXPONENT))

    def next_delay(self) -> float:
        """Count one more failure and draw the wait before the next try, in seconds."""
        if self.down_since is None:
            self.down_since = time.monotonic()
        top = self.ceiling()
        self.attempts += 1
        self.last_delay = self.floor + self.rng.random() * (top - self.floor)
        return self.last_delay

    def wait(self, stop: threading.Event | None = None) -> bool:
        """Sleep the next delay; True when ``stop`` was set (before or during the wait)."""
        return pause(self.next_delay(), stop)

    @property
    def failing(self) -> bool:
        return self.attempts > 0

    def reset(self) -> float | None:
        """A success: start the schedule over. Returns the seconds since the first failure of
        the outage that just ended, or None when nothing had failed."""
        down = None if self.down_since is None else time.monotonic() - self.down_since
        self.attempts = 0
        self.last_delay = 0.0
        self.down_since = None
        return down


__all__ = ["Backoff", "pause"]
