"""Labelled examples from staff's corrections of the risk detector, kept only when the organisation opts in
(`risk.keep_examples`; docs/risk.md section 4, docs/privacy.md).

Each example is the person's message a correction was about, with the messages before it (the detector's
context), the label staff gave (a tier and category for a miss, "none" for a false alarm), what the detector
said at the time, the language and the day. It is one Redis string per example, encrypted whole with the
`TextCipher` of all text at rest, expiring on its own after the chosen period, and named by the person's
pseudonymous key (`keys.risk_example`) so that `/forget` erases it even after their conversations have expired.
Its line is the project's labelled JSONL (`routing/risk/evaluation.py`), which `peerbridge risk-eval` and
`risk-train` read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from redis.asyncio import Redis

from routing.model import RiskCategory, RiskTier
from routing.store import keys
from routing.store.cipher import CipherError, TextCipher
from routing.store.replies import as_bytes

DAY = 24 * 3600
SCAN_BATCH = 500
Source = Literal["missed", "false_alarm"]


@dataclass(frozen=True, slots=True)
class RiskExample:
    """One labelled example. `tier` is staff's label (None: no risk, a false alarm); `detected` what the detector
    gave the conversation before staff corrected it."""

    text: str
    context: tuple[str, ...]
    source: Source
    tier: RiskTier | None
    category: RiskCategory | None
    detected: RiskTier
    detected_category: RiskCategory | None
    lang: str | None
    day: str  # YYYY-MM-DD (UTC): when, no finer, so an example does not point back to a moment in a case record

    def line(self) -> dict[str, Any]:
        """The labelled JSONL line: `text`, `label`, `tier`, `category`, `lang`, `context` as `load_eval_set`
        reads them, and what it ignores: where the label came from, the detector's verdict, the day."""
        line: dict[str, Any] = {"text": self.text, "label": "none" if self.tier is None else "risk"}
        if self.tier is not None:
            line["tier"] = self.tier.label
        if self.category is not None:
            line["category"] = self.category.value
        if self.lang:
            line["lang"] = self.lang
        line["context"] = list(self.context)
        line["source"] = self.source
        line["detected"] = self.detected.label
        if self.detected_category is not None:
            line["detected_category"] = self.detected_category.value
        line["day"] = self.day
        return line


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


class RiskExamples:
    """Keeps and reads the labelled examples."""

    def __init__(self, redis: Redis, cipher: TextCipher, *, days: float = 30) -> None:
        """`days`: how long each example is kept."""
        self._redis = redis
        self._cipher = cipher
        self._ttl = max(1, int(days * DAY))

    async def keep(self, person_key: str, name: str, example: RiskExample) -> None:
        """Keep `example` of the person `person_key`; `name` (an inbound entry or escalation id) makes a replay
        after a crash write the same example again rather than a second one."""
        sealed = self._cipher.encrypt(json.dumps(example.line(), ensure_ascii=False).encode())
        await self._redis.set(keys.risk_example(person_key, name), sealed, ex=self._ttl)

    async def lines(self) -> tuple[list[dict[str, Any]], int]:
        """Every kept example's JSONL line, oldest day first, and how many could not be decrypted (a key no
        longer configured). For an export: never log or keep them."""
        found, unreadable = [], 0
        async for key in self._redis.scan_iter(match=keys.RISK_EXAMPLE_PREFIX + "*", count=SCAN_BATCH):
            sealed = await self._redis.get(key)
            if sealed is None:  # expired between the scan and the read
                continue
            try:
                found.append(json.loads(self._cipher.decrypt(as_bytes(sealed))))
            except (CipherError, ValueError):
                unreadable += 1
        found.sort(key=lambda line: (str(line.get("day", "")), str(line.get("source", ""))))
        return found, unreadable


async def count_examples(redis: Redis) -> int:
    """How many examples are kept (nothing is read or decrypted: the dashboard's Charts page says it)."""
    return sum([1 async for _ in redis.scan_iter(match=keys.RISK_EXAMPLE_PREFIX + "*", count=SCAN_BATCH)])


async def forget_examples(redis: Redis, person_key: str) -> int:
    """Erase every example of one person (`/forget`), whether or not examples are kept now; how many went."""
    doomed = [key async for key in redis.scan_iter(match=keys.risk_example(person_key, "*"), count=SCAN_BATCH)]
    return int(await redis.delete(*doomed)) if doomed else 0
