"""Coordinators' edits of the coping library (the dashboard's Coping page): an edit takes precedence over the
text's file until a coordinator goes back to the shipped text. Each edit and each return is audited by who and
which text, never the words."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from routing.model import VolunteerId
from routing.store import keys
from routing.store.cipher import TextCipher
from routing.store.replies import as_bytes
from routing.store.replies import text as as_text

AUDIT_MAXLEN = 100_000


@dataclass(frozen=True, slots=True)
class CopingEdit:
    """A coordinator's version of one text in one language."""

    lang: str
    name: str
    text: str
    by: VolunteerId
    at: float


class CopingEdits:
    """The edits in Redis; the text is encrypted like every other text at rest, and kept until reverted."""

    def __init__(self, redis: Redis, cipher: TextCipher) -> None:
        self._redis = redis
        self._cipher = cipher

    async def all(self) -> dict[tuple[str, str], CopingEdit]:
        """Every edit, by (language, name)."""
        raw = await self._redis.hgetall(keys.COPING_EDITS)
        edits: dict[tuple[str, str], CopingEdit] = {}
        for field, value in raw.items():
            lang, _, name = as_text(field).partition("/")
            record = json.loads(self._cipher.decrypt(as_bytes(value)))
            edits[lang, name] = CopingEdit(lang, name, record["text"], VolunteerId(record["by"]), record["at"])
        return edits

    async def texts(self) -> dict[tuple[str, str], str]:
        """What the router needs: (language, name) -> the edited text."""
        return {key: edit.text for key, edit in (await self.all()).items()}

    async def save(self, lang: str, name: str, text: str, by: VolunteerId) -> None:
        """Keep `text` as the version of `lang/name` people read from now on, and audit who changed which."""
        record = json.dumps({"text": text, "by": by, "at": time.time()}).encode()
        await self._write("coping_edited", lang, name, by, self._cipher.encrypt(record))

    async def revert(self, lang: str, name: str, by: VolunteerId) -> None:
        """Back to the text's file."""
        await self._write("coping_reverted", lang, name, by, None)

    async def _write(self, event: str, lang: str, name: str, by: VolunteerId, record: bytes | None) -> None:
        pipe = self._redis.pipeline(transaction=True)
        if record is None:
            pipe.hdel(keys.COPING_EDITS, f"{lang}/{name}")
        else:
            pipe.hset(keys.COPING_EDITS, f"{lang}/{name}", record)
        entry = {"event": event, "at": f"{time.time():.3f}", "by": by, "coping": name, "lang": lang}
        pipe.xadd(keys.AUDIT, entry, maxlen=AUDIT_MAXLEN, approximate=True)  # type: ignore[arg-type]
        await pipe.execute()
