"""Which conversation each message in a staff member's private chat with the bot belongs to.

A volunteer who works in their private chat (staff.workspace = "private") may hold several people at once; a
reply to one of the bot's messages, or a button pressed on it, says which. The adapter records each message it
sends there; the router looks the conversation up when the volunteer answers. The chat is kept as an opaque
HMAC key, never as the raw platform id, and the record expires with the retention limit.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from routing.model import ChatId, ConversationId, MessageId, Platform, UserId
from routing.pseudonyms import Pseudonymiser
from routing.store import keys
from routing.store.replies import text
from routing.store.streams import DAY

log = logging.getLogger(__name__)


class DeskMessages:
    """Message id -> conversation, per staff private chat."""

    def __init__(self, redis: Redis, pseudonyms: Pseudonymiser, *, retention_days: float = 30) -> None:
        self._redis = redis
        self._pseudonyms = pseudonyms
        self._ttl = max(60, int(retention_days * DAY))

    async def remember(self, platform: Platform, chat: ChatId, messages: list[MessageId], conv: ConversationId) -> None:
        """A reply to any of `messages` (or a button on them) is about `conv`. Never raises: a message the bot
        already sent stands, and one not remembered (Redis away) only means the volunteer is asked which
        person they mean; nothing is guessed."""
        if not messages:
            return
        key = self._key(platform, chat)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, mapping=dict.fromkeys(messages, conv))
                pipe.expire(key, self._ttl)
                await pipe.execute()
        except RedisError as exc:
            log.warning("private-chat messages of conversation %s not remembered (%s)", conv, type(exc).__name__)

    async def conversation_of(self, platform: Platform, chat: ChatId, message: MessageId) -> ConversationId | None:
        found = await self._redis.hget(self._key(platform, chat), message)
        return ConversationId(text(found)) if found is not None else None

    def _key(self, platform: Platform, chat: ChatId) -> str:
        return keys.desk(self._pseudonyms.key(platform, UserId(chat)))
