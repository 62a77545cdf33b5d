"""Optional external pager: every escalation (and re-escalation) is POSTed as signed JSON.

Signature: `X-Peerbridge-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with the Unix
time in `X-Peerbridge-Timestamp`; a receiver rejects old timestamps (replay) and bad signatures. No message
text is ever sent. Delivery is retried with back-off; the escalations stream keeps the entry pending until
the pager answered 2xx, and dead-letters it (with a staff alert) if it never does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time

import aiohttp

from routing.model import EscalationId
from routing.store.escalations import EscalationStore

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Peerbridge-Signature"
TIMESTAMP_HEADER = "X-Peerbridge-Timestamp"
ATTEMPTS = 4


class PagerError(Exception):
    """The pager did not accept the call after all attempts (retried later from the stream)."""


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Pager:
    """Escalations-stream handler that calls the external pager."""

    def __init__(self, url: str, secret: bytes, store: EscalationStore, session: aiohttp.ClientSession) -> None:
        self._url = url
        self._secret = secret
        self._store = store
        self._session = session

    async def handle(self, entry_id: str, fields: dict[bytes, bytes]) -> None:
        esc = await self._store.get(EscalationId(fields.get(b"esc", b"").decode()))
        if esc is None:
            return
        body = json.dumps(
            {
                "escalation": esc.id, "conversation": esc.conversation, "tier": esc.tier.label,
                "category": esc.category.value if esc.category else None, "phrases": list(esc.phrase_ids),
                "raised_at": esc.raised_at, "level": int(fields.get(b"level", b"0")), "review": esc.review,
            },
            separators=(",", ":"),
        ).encode()  # fmt: skip
        await self._post(body, esc.id)

    async def _post(self, body: bytes, esc: str) -> None:
        delay = 0.5
        for attempt in range(1, ATTEMPTS + 1):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            }
            try:
                async with self._session.post(self._url, data=body, headers=headers) as response:
                    if 200 <= response.status < 300:
                        return
                    log.warning("pager answered %d for escalation %s (attempt %d)", response.status, esc, attempt)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("pager unreachable for escalation %s (%s, attempt %d)", esc, type(exc).__name__, attempt)
            if attempt < ATTEMPTS:
                await asyncio.sleep(delay)
                delay *= 2
        raise PagerError(f"pager did not accept escalation {esc}")
