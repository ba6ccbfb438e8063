"""The client's concurrency slots: bounded waits, a live share, a limit learned from 429s.

Why slots are reserved per kind: a live TTS stream (an Assist reply whose LLM is still
writing) holds its WebSocket, and with it one of the account's concurrent requests, for as
long as the LLM takes, which can be many seconds. If live streams could take every slot,
speech-to-text, announcements, actions and the credit poll would queue behind text that
does not exist yet. So live streams may hold at most ``limit - RESERVED_FOR_OTHERS`` slots
(at least one); the rest always serve calls that finish on their own. Releasing the slot
while a stream waits for text was rejected: the socket stays open, so the server still
counts it against the account's limit, and taking the slot back later could deadlock a
stream whose audio is half played.

Why the limit adapts: the account's real limit can be below ours (another app shares the
account; the API reference lists 5/15/50 by plan). Each 429 lowers the limit to one below the
number of requests then running (never below one); each success while all allowed slots
are busy raises it by a small fraction (``1 / (GROWTH_STEPS * limit)``), so it climbs back
one slot per a few dozen such successes and never above the configured maximum. A burst
then queues instead of failing.
"""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
import math
from typing import TYPE_CHECKING, Final

from .exceptions import FishAudioTimeoutError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

RESERVED_FOR_OTHERS: Final = 2
GROWTH_STEPS: Final = 8


class SlotLimiter:
    """Concurrency slots shared by every call of one client.

    Args:
        maximum: The configured maximum; the learned limit never exceeds it.
        reserved: Slots live streams may not take (see the module docstring).
        adaptive: Learn from 429s; False keeps the limit at the maximum (for comparison).
    """

    def __init__(
        self, maximum: int, *, reserved: int = RESERVED_FOR_OTHERS, adaptive: bool = True
    ) -> None:
        """Start with every slot free and the limit at the maximum."""
        self.maximum = maximum
        self._adaptive = adaptive
        self.limit = float(maximum)
        self._reserved = reserved
        self.in_use = 0
        self.live_in_use = 0
        self._waiters: deque[tuple[asyncio.Future[None], bool]] = deque()

    @property
    def waiting(self) -> int:
        """Calls waiting for a slot."""
        return len(self._waiters)

    def _cap(self) -> int:
        return max(1, math.floor(self.limit))

    def _admits(self, live: bool) -> bool:
        cap = self._cap()
        if self.in_use >= cap:
            return False
        return not live or self.live_in_use < max(1, cap - self._reserved)

    def _take(self, live: bool) -> None:
        self.in_use += 1
        if live:
            self.live_in_use += 1

    def _release(self, live: bool) -> None:
        self.in_use -= 1
        if live:
            self.live_in_use -= 1
        self._wake()

    def _wake(self) -> None:
        # In arrival order, skipping live streams that their share keeps waiting.
        for entry in list(self._waiters):
            future, live = entry
            if future.done():
                continue
            if self._admits(live):
                self._take(live)
                future.set_result(None)
                self._waiters.remove(entry)

    @contextlib.asynccontextmanager
    async def slot(
        self, *, max_wait: float, live: bool = False, first: bool = False
    ) -> AsyncIterator[None]:
        """Hold one slot for the block.

        Args:
            max_wait: Longest wait for the slot.
            live: The call is a live stream (limited to its share).
            first: Queue ahead of new calls (a retry that already waited once).

        Raises:
            FishAudioTimeoutError: No slot became free in time.
        """
        await self._acquire(max_wait, live=live, first=first)
        try:
            yield
        finally:
            self._release(live)

    async def _acquire(self, max_wait: float, *, live: bool, first: bool) -> None:
        if self._admits(live) and not any(w_live == live for _, w_live in self._waiters):
            self._take(live)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (future, live)
        if first:
            self._waiters.appendleft(entry)
        else:
            self._waiters.append(entry)
        try:
            async with asyncio.timeout(max_wait):
                await future
        except BaseException as err:
            if future.done() and not future.cancelled():
                # Granted just as the wait ended: hand the slot on.
                self._release(live)
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)
            if isinstance(err, TimeoutError):
                raise FishAudioTimeoutError(
                    f"No free connection slot within {max_wait:g} s "
                    f"({self.in_use} calls running, limit {self._cap()})"
                ) from None
            raise

    def on_rate_limited(self) -> None:
        """Learn from a 429: the account allows fewer requests than are running now."""
        if self._adaptive:
            self.limit = max(1.0, min(self.limit, float(self.in_use)) - 1.0)

    def on_success(self) -> None:
        """Grow the limit back slowly after a call the server accepted.

        Only a success while every allowed slot is in use says the limit may be too low;
        one with slots to spare says nothing, and growing on it would only buy 429s later.
        """
        if self.limit < self.maximum and self.in_use >= self._cap():
            self.limit = min(float(self.maximum), self.limit + 1.0 / (GROWTH_STEPS * self.limit))
            self._wake()
