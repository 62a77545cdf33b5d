"""The record of what bots did through the REST API, and the waits that tests build on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sandboxes.discord.model import ActionKind, BotAction, JsonObject, Message, Snowflake

_MESSAGE_KINDS = (ActionKind.MESSAGE_CREATE, ActionKind.MESSAGE_UPDATE)


class BotActivity:
    """An append-only log of bot actions that wakes waiters on every new entry."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.actions: list[BotAction] = []
        self._wakeup = asyncio.Event()

    def record(
        self,
        kind: ActionKind,
        bot_id: Snowflake,
        channel_id: Snowflake | None,
        *,
        message: Message | None = None,
        interaction_id: Snowflake | None = None,
        detail: JsonObject | None = None,
    ) -> BotAction:
        """Appends an action and wakes every waiter."""
        action = BotAction(
            seq=len(self.actions) + 1,
            kind=kind,
            bot_id=bot_id,
            channel_id=channel_id,
            at=self._clock(),
            message=message,
            interaction_id=interaction_id,
            detail=detail or {},
        )
        self.actions.append(action)
        self.notify()
        return action

    def notify(self) -> None:
        """Wakes waiters (also used when a user-side change may satisfy a `wait_until`)."""
        # Setting and replacing the event wakes everyone already waiting, without a lock.
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def wait_for(self, predicate: Callable[[Message], bool], seconds: float) -> Message:
        """The first message a bot sends or edits from now on that matches `predicate`."""
        start = cursor = len(self.actions)
        try:
            async with asyncio.timeout(seconds):
                while True:
                    for action in self.actions[cursor:]:
                        if action.kind in _MESSAGE_KINDS and action.message and predicate(action.message):
                            return action.message
                    cursor = len(self.actions)
                    await self._wakeup.wait()
        except TimeoutError:
            seen = sum(1 for a in self.actions[start:] if a.kind in _MESSAGE_KINDS)
            raise TimeoutError(f"no matching bot message within {seconds} s ({seen} other bot messages)") from None

    async def wait_until(self, condition: Callable[[], bool], seconds: float) -> None:
        """Returns once `condition()` holds, re-checking after every bot action."""
        try:
            async with asyncio.timeout(seconds):
                while not condition():
                    await self._wakeup.wait()
        except TimeoutError:
            raise TimeoutError(f"condition not met within {seconds} s") from None

    async def actions_after(self, seq: int, seconds: float) -> list[BotAction]:
        """Actions with a sequence number above `seq`, waiting up to `seconds` for one (long polling)."""
        try:
            await self.wait_until(lambda: len(self.actions) > seq, seconds)
        except TimeoutError:
            return []
        return self.actions[seq:]
