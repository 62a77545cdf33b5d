"""Nobody is left waiting in silence: a person whose volunteer stopped answering, or a conversation the person
left without a word.

Every `interval` seconds: a person who has waited `volunteer_silence` for their volunteer's reply is named to
the volunteer (once per message waited on); after twice that, they go back to the front of the queue with a
note. A conversation in which the person has not written for `person_silence` ends kindly, unless it reached
high risk: silence after that is itself a warning sign, so it stays open for the volunteer and the on-call
professional to decide.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from routing.model import RiskTier
from routing.outbox import Outbox
from routing.periodic import every
from routing.staff import StaffActions
from routing.store.conversations import ConversationStore, Silence
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SilencePolicy:
    volunteer_silence: float = 10 * 60.0  # seconds a person waits for a reply before their volunteer is nudged
    person_silence: float = 2 * 3600.0  # seconds without a word from the person before the conversation ends


class SilenceWatch:
    """Checks every active conversation's last words; acts through the staff actions."""

    def __init__(
        self,
        conversations: ConversationStore,
        staff: StaffActions,
        writer: StreamWriter,
        policy: SilencePolicy = SilencePolicy(),
    ) -> None:
        self._conversations = conversations
        self._staff = staff
        self._writer = writer
        self._policy = policy

    async def check(self, now: float | None = None) -> None:
        at = now or time.time()
        for silence in await self._conversations.silences():
            await self._check_one(silence, at)

    async def _check_one(self, s: Silence, now: float) -> None:
        conversation = await self._conversations.get(s.conversation)
        if conversation is None:
            return
        limit = self._policy.volunteer_silence
        waited = now - s.person_said_at
        awaiting_reply = s.person_said_at > s.staff_said_at
        quiet = now - max(s.person_said_at, s.staff_said_at)
        out = Outbox(f"silence:{s.conversation}:{s.person_said_at:.3f}")
        if awaiting_reply and waited >= 2 * limit:
            out.entry_id += ":released"
            await self._staff.assignments.release_for_silence(conversation, int(waited // 60), out)
        elif awaiting_reply and waited >= limit:
            out.entry_id += ":nudge"
            if await self._writer.first_notice(out.entry_id, ttl=int(4 * limit)):
                await self._staff.relay.nudge(conversation, int(waited // 60), out)
        elif quiet >= self._policy.person_silence and s.tier < RiskTier.HIGH:
            out.entry_id += ":closed"
            await self._staff.endings.close_for_silence(conversation, self._policy.person_silence / 3600, out)
        await self._writer.emit_all(out.messages)

    async def run(self, stop: asyncio.Event, interval: float = 30.0) -> None:
        await every(interval, stop, self.check, "silence watch")
