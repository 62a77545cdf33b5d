"""Coordinators hear about gaps before they hurt: no volunteer on shift within the next 30 minutes, no
on-call professional now, someone waiting too long; volunteers whose shift ends soon are asked to hand over
or keep each open conversation, so nobody is silently dropped. Each alert is sent once per occurrence."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from routing import texts
from routing.model import Audience, ConversationId, Platform, Priority
from routing.outbox import Outbox
from routing.periodic import every
from routing.rota import GapKind, Rota, gaps, on_call
from routing.rota.maths import over_weekly_limit, shift_ending_soon
from routing.store.conversations import ConversationStore
from routing.store.duty import DutyRoster
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)


class CoverageWatch:
    """A periodic check of the rota and the queue, alerting the staff lobby (where coordinators are)."""

    def __init__(
        self,
        platform: Platform,
        duty: DutyRoster,
        conversations: ConversationStore,
        writer: StreamWriter,
        *,
        lookahead: timedelta = timedelta(minutes=30),
        max_wait: timedelta = timedelta(minutes=10),
        handover_notice: timedelta = timedelta(minutes=10),
    ) -> None:
        self._platform = platform
        self._duty = duty
        self._conversations = conversations
        self._writer = writer
        self._lookahead = lookahead
        self._max_wait = max_wait
        self._handover = handover_notice

    async def check(self, now: datetime | None = None) -> list[str]:
        """Run every check once; returns the alerts sent (for tests and logs)."""
        at = now or datetime.now(UTC)
        alerts: list[tuple[str, str]] = []
        rota = await self._duty.rota()
        if rota is not None:
            for gap in gaps(rota, at, at + self._lookahead):
                if gap.kind == GapKind.NO_VOLUNTEER:
                    alerts.append(
                        (f"gap:{gap.start.isoformat()}", texts.staff(texts.COVERAGE_GAP, when=_hhmm(gap.start)))
                    )
            if on_call(rota, at).first is None:
                alerts.append((f"oncall:{at:%Y%m%d%H}", texts.staff(texts.NO_ONCALL)))
            week = at.date().isocalendar()
            for over in over_weekly_limit(rota, at.date()):
                text = texts.staff(texts.OVER_HOURS, volunteer=over.volunteer, hours=over.hours, limit=over.limit)
                alerts.append((f"hours:{over.volunteer}:{week.year}-{week.week}", text))
            await self._handover_prompts(rota, at)
        alerts += await self._long_waits(at)
        sent = []
        for notice, text in alerts:
            if await self._writer.first_notice(f"coverage:{notice}", ttl=24 * 3600):
                await self._emit(Audience.STAFF_LOBBY, text, notice)
                sent.append(text)
        return sent

    async def _long_waits(self, at: datetime) -> list[tuple[str, str]]:
        waiting = await self._conversations.waiting(1)
        if not waiting:
            return []
        first = await self._conversations.get(waiting[0])
        if first is None or at.timestamp() - first.arrival < self._max_wait.total_seconds():
            return []
        minutes = int((at.timestamp() - first.arrival) // 60)
        return [(f"wait:{first.id}", texts.staff(texts.LONG_WAIT, pseudonym=first.pseudonym, minutes=minutes))]

    async def _handover_prompts(self, rota: Rota, at: datetime) -> None:
        for ending in shift_ending_soon(rota, at, self._handover):
            for conv in await self._conversations.active_of(ending.volunteer):
                notice = f"handover:{ending.volunteer}:{conv}:{ending.end.isoformat()}"
                if await self._writer.first_notice(notice, ttl=24 * 3600):
                    text = texts.staff(texts.SHIFT_ENDING, when=_hhmm(ending.end))
                    await self._emit(Audience.STAFF_THREAD, text, notice, conversation=conv)

    async def _emit(self, audience: Audience, text: str, key: str, conversation: ConversationId | None = None) -> None:
        out = Outbox(f"coverage:{key}")
        found = await self._conversations.get(conversation) if conversation else None
        out.add(self._platform, audience, text, priority=Priority.URGENT if audience == Audience.STAFF_LOBBY
                else Priority.STAFF, conversation=found.id if found else None,
                pseudonym=found.pseudonym if found else None)  # fmt: skip
        for message in out.messages:
            await self._writer.emit(message)

    async def run(self, stop: asyncio.Event, interval: float = 60.0) -> None:
        await every(interval, stop, self.check, "coverage watch")


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a %H:%M UTC")
