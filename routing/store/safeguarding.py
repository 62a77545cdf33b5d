"""Records kept on purpose: what /forget leaves of a person's escalations (issue 23, docs/privacy.md).

A crisis service must be able to account for how it answered risk (when an alert was raised, how urgent, how far
the chain climbed, who acknowledged it and when), also after the person asked to be forgotten. So, when the
organisation keeps them (`storage.safeguarding_records`), each escalation becomes a record without any text,
without the person's key, their conversation or any platform id, kept `storage.safeguarding_days`:
`pb:safeguarding:<escalation id>`.
"""

from __future__ import annotations

from redis.asyncio import Redis

from routing.model import RiskTier
from routing.store import keys

PREFIX = keys.PREFIX + "safeguarding:"
DAY = 24 * 3600

# Exactly the fields a record has (tests assert it): nothing else of the escalation is copied.
FIELDS = ("escalation", "raised_at", "tier", "category", "levels", "acknowledged_by", "acknowledged_at", "outcome")


def record_key(esc: str) -> str:
    return PREFIX + esc


def outcome(escalation: dict[str, str]) -> str:
    """acknowledged, false_alarm or unanswered; `open` for one still climbing the chain when it was erased."""
    if escalation.get("false_alarm") == "1":
        return "false_alarm"
    state = escalation.get("state", "")
    return state if state in ("acknowledged", "unanswered") else "open"


def safeguarding_record(esc: str, escalation: dict[str, str]) -> dict[str, str]:
    """The text-free record of one escalation (its stored fields, decoded)."""
    tier = escalation.get("tier", "0")
    return {
        "escalation": esc,
        "raised_at": escalation.get("raised_at", ""),
        "tier": RiskTier(int(tier)).label if tier.isdigit() else "",
        "category": escalation.get("category", ""),
        "levels": escalation.get("level", "0"),
        "acknowledged_by": escalation.get("ack_by", ""),  # a staff member's id from the roster, never a platform id
        "acknowledged_at": escalation.get("ack_at", ""),
        "outcome": outcome(escalation),
    }


class SafeguardingRecords:
    """Writes the records /forget keeps."""

    def __init__(self, redis: Redis, days: float) -> None:
        self._redis = redis
        self._ttl = max(1, int(days * DAY))

    async def keep(self, esc: str, escalation: dict[str, str]) -> None:
        record = safeguarding_record(esc, escalation)
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(record_key(esc))
        pipe.hset(record_key(esc), mapping=record)  # type: ignore[arg-type]
        pipe.expire(record_key(esc), self._ttl)
        await pipe.execute()
