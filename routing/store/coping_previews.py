"""Previews of a coping text waiting in a conversation's thread for Send or Cancel. Each is closed once: the
first Send (or Cancel) wins, so a second press, or a press on an old preview, sends nothing."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from routing.model import ConversationId, VolunteerId
from routing.store import keys
from routing.store.replies import text

PREVIEW_SECONDS = 24 * 3600  # an older preview's Send is refused (a fresh /share shows the text as it is now)


@dataclass(frozen=True, slots=True)
class Preview:
    """Which text a preview showed (its fingerprint: the exact words) and who asked for it."""

    number: str
    name: str
    lang: str
    digest: str
    by: VolunteerId


class SharePreviews:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def open(self, conv: ConversationId, name: str, lang: str, digest: str, by: VolunteerId) -> Preview:
        number = str(await self._redis.incr(keys.coping_preview_seq(conv)))
        pipe = self._redis.pipeline(transaction=True)
        pipe.expire(keys.coping_preview_seq(conv), PREVIEW_SECONDS)
        key = keys.coping_preview(conv, number)
        pipe.hset(key, mapping={"name": name, "lang": lang, "digest": digest, "by": by})
        pipe.expire(key, PREVIEW_SECONDS)
        await pipe.execute()
        return Preview(number, name, lang, digest, by)

    async def get(self, conv: ConversationId, number: str) -> Preview | None:
        raw = {text(k): text(v) for k, v in (await self._redis.hgetall(keys.coping_preview(conv, number))).items()}
        if not raw:
            return None
        return Preview(number, raw["name"], raw["lang"], raw["digest"], VolunteerId(raw["by"]))

    async def close(self, conv: ConversationId, number: str) -> bool:
        """True for the one caller that closes the preview; False if it was already sent, cancelled or expired."""
        return bool(await self._redis.delete(keys.coping_preview(conv, number)))
