"""This process's memory of which staff topic/thread belongs to which conversation, in front of Redis.

Every relay into the volunteers' workspace and every alert (which links to the topic/thread) needs the
conversation's thread. Asking Redis each time put a lookup before each of those sends (one Redis command
of ~24 per relayed message, bench/bench_relay.py); a conversation without a thread yet is still asked each
time, since another process may open one.

A conversation's thread changes only when an adapter replaces one that was deleted or locked. Another
gateway process may do that, so a remembered thread can be stale; an adapter whose send finds the thread
gone calls `refresh`, which asks Redis again, and opens a new thread only when Redis has no other one. So a
thread replaced elsewhere costs one refused send instead of a second replacement (two gateways that find
the same thread gone at the same moment can still both replace it).
"""

from __future__ import annotations

from collections import OrderedDict

from routing.model import ConversationId, Platform, ThreadId
from routing.store.conversations import ConversationStore

# Conversations remembered at once (least recently used forgotten first): far more than are ever active
# together, at ~150 bytes each.
REMEMBERED = 10_000


class KnownThreads:
    """The thread of each conversation on one platform, remembered after the first lookup or binding."""

    def __init__(self, conversations: ConversationStore, platform: Platform, size: int = REMEMBERED) -> None:
        self._conversations = conversations
        self._platform = platform
        self._size = size
        self._threads: OrderedDict[ConversationId, ThreadId] = OrderedDict()

    async def get(self, conv: ConversationId) -> ThreadId | None:
        """The thread remembered for `conv`, else the one Redis has (then remembered), else None."""
        thread = self._threads.get(conv)
        if thread is not None:
            self._threads.move_to_end(conv)
            return thread
        thread = await self._conversations.thread_of(conv, self._platform)
        if thread is not None:
            self._remember(conv, thread)
        return thread

    async def refresh(self, conv: ConversationId, gone: ThreadId) -> ThreadId | None:
        """`gone` was refused by the platform: the thread Redis has now if it is another one (a different
        process replaced it), else None (the caller opens a new one)."""
        self.forget(conv)
        thread = await self.get(conv)
        return thread if thread != gone else None

    async def bind(self, conv: ConversationId, thread: ThreadId) -> None:
        """Store a newly opened thread in Redis (both directions), then remember it."""
        await self._conversations.bind_thread(conv, self._platform, thread)
        self._remember(conv, thread)

    def forget(self, conv: ConversationId) -> None:
        """Drop what is remembered for `conv` (its thread was closed, or refused)."""
        self._threads.pop(conv, None)

    def _remember(self, conv: ConversationId, thread: ThreadId) -> None:
        self._threads[conv] = thread
        self._threads.move_to_end(conv)
        if len(self._threads) > self._size:
            self._threads.popitem(last=False)
