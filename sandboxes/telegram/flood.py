"""Telegram's flood control as a bot meets it: limits per chat and per bot, answered with 429 and `retry_after`.

From the Bot FAQ (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): in one
chat, no more than about one message per second ("we may allow short bursts that go over this limit": here,
three in any three seconds); in a group, no more than 20 messages per minute; in all, about 30 messages per
second. Everything the bot makes appear in a chat counts, in every topic of a forum together:
sends, copies and forwards, edits (tdlib/td #2592) and the service messages of creating, closing, reopening or
renaming a forum topic. Reading (getUpdates, getChat), answering a button and "typing…" do not.

The limits are sliding windows per bot: a call over a limit is refused before it does anything, with
`retry_after` the whole seconds until the window has room again. A call the API refuses for another reason
(a bad request, a blocked user) uses no budget.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from sandboxes.telegram.errors import ApiError, too_many_requests

# Methods that put something into a chat, and so count against its limits.
COUNTED_METHODS = frozenset(
    {
        "sendMessage", "sendPhoto", "sendDocument", "sendVoice", "sendSticker", "copyMessage", "forwardMessage",
        "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
        "createForumTopic", "closeForumTopic", "reopenForumTopic", "editForumTopic",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Sends allowed: `group_per_minute` into one group, `private_burst` in any `private_burst` seconds into one
    private chat (one a second, with a short burst), `bot_per_second` in all. The defaults are Telegram's."""

    group_per_minute: int = 20
    private_burst: int = 3
    bot_per_second: int = 30

    @classmethod
    def off(cls) -> FloodLimits:
        """No flood control: only for tests that say why (they measure something else and send faster)."""
        return cls(group_per_minute=1_000_000, private_burst=1_000_000, bot_per_second=1_000_000)


class _Window:
    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[len(self.times) - self.limit] + self.seconds - now


class FloodControl:
    """Counts each bot's sends per chat and in all; refuses one that would exceed a limit."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._windows: dict[tuple[int, int | str | None], _Window] = {}
        self.refused = 0  # how many calls were answered 429, for tests and benchmarks

    def admit(self, bot_id: int, method: str, chat: int | str | None, now: float) -> ApiError | None:
        """None when the call fits every window that applies, else the 429 to answer."""
        wait = max((w.wait(now) for w in self._windows_of(bot_id, method, chat)), default=0.0)
        if wait > 0:
            self.refused += 1
            return too_many_requests(max(1, math.ceil(wait)))
        return None

    def count(self, bot_id: int, method: str, chat: int | str | None, now: float) -> None:
        """Count a call the API carried out."""
        for window in self._windows_of(bot_id, method, chat):
            window.times.append(now)

    def _windows_of(self, bot_id: int, method: str, chat: int | str | None) -> list[_Window]:
        if method not in COUNTED_METHODS:
            return []
        windows = [self._window(bot_id, None, self.limits.bot_per_second, 1.0)]
        if chat is not None:
            if _is_group(chat):
                windows.append(self._window(bot_id, chat, self.limits.group_per_minute, 60.0))
            else:
                burst = self.limits.private_burst
                windows.append(self._window(bot_id, chat, burst, float(burst)))
        return windows

    def _window(self, bot_id: int, chat: int | str | None, limit: int, seconds: float) -> _Window:
        key = (bot_id, chat)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(limit, seconds)
        return window


def _is_group(chat: int | str) -> bool:
    """Telegram's ids: users (private chats) are positive, groups and channels negative; "@name" is public."""
    return isinstance(chat, str) or chat < 0
