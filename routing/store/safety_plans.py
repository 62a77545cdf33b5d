"""A person's safety plan in Redis: their answers (encrypted), which step they are on, when it last changed.

Kept by the person's pseudonymous key, not by conversation, so that `/myplan` finds it a week later in a new
conversation; it expires `storage.retention_days` after its last change and `/forget` erases it. Nothing here is
ever logged or shown to staff except that a plan exists, how many sections it has, and when it changed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis

from routing.model import ConversationId
from routing.store import keys
from routing.store.cipher import TextCipher
from routing.store.replies import as_bytes, text

DAY = 24 * 3600


@dataclass(frozen=True, slots=True)
class Plan:
    """A person's plan as stored."""

    answers: dict[str, str] = field(default_factory=dict)  # section key -> their words
    skipped: frozenset[str] = frozenset()
    step: int | None = None  # the section being asked now (0-based); None: not being built
    conversation: ConversationId | None = None  # where it is being built (progress notes go to its topic)
    updated_at: float = 0.0


class SafetyPlans:
    """Reads and keeps safety plans."""

    def __init__(self, redis: Redis, cipher: TextCipher, *, retention_days: float = 30) -> None:
        self._redis = redis
        self._cipher = cipher
        self._retention = int(retention_days * DAY)

    async def get(self, person_key: str) -> Plan | None:
        raw = {text(k): v for k, v in (await self._redis.hgetall(keys.person_plan(person_key))).items()}
        if not raw:
            return None
        answers = json.loads(self._cipher.decrypt(as_bytes(raw["answers"])).decode()) if "answers" in raw else {}
        step = text(raw.get("step", b""))
        conv = text(raw.get("conv", b""))
        skipped = text(raw.get("skipped", b""))
        return Plan(
            answers={str(k): str(v) for k, v in answers.items()},
            skipped=frozenset(skipped.split(",")) if skipped else frozenset(),
            step=int(step) if step.isdigit() else None,
            conversation=ConversationId(conv) if conv else None,
            updated_at=float(text(raw.get("updated_at", b"0"))),
        )

    async def keep(self, person_key: str, plan: Plan) -> Plan:
        """Store `plan` as it is now (one write); returns it with its new update time."""
        now = time.time()
        key = keys.person_plan(person_key)
        fields = {
            "answers": self._cipher.encrypt(json.dumps(plan.answers, ensure_ascii=False).encode()),
            "skipped": ",".join(sorted(plan.skipped)),
            "step": "" if plan.step is None else str(plan.step),
            "conv": plan.conversation or "",
            "updated_at": repr(now),
        }
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
        pipe.expire(key, self._retention)
        await pipe.execute()
        return Plan(plan.answers, plan.skipped, plan.step, plan.conversation, now)
