"""What the benchmarks share for timing the sandboxes: when each bot message landed."""

from __future__ import annotations

import time

from sandboxes.telegram import Message


class TimedOutbox(list[Message]):
    """The Telegram sandbox's outbox with the monotonic time of each append (the moment the API call landed)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, message: Message) -> None:
        self.times.append(time.monotonic())
        super().append(message)
