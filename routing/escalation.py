"""Escalation to on-call professionals: raise on risk, alert on the escalations stream, acknowledge.

Alerts travel on their own stream and are emitted on the urgent outbound lane, so they never wait behind
ordinary relays. Message text is never put into an alert unless `include_text` is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from routing import texts
from routing.model import Audience, Button, ConversationId, EscalationId, Platform, Priority, Pseudonym, VolunteerId
from routing.outbox import Outbox
from routing.risk.assessment import Assessment
from routing.store.cipher import TextCipher
from routing.store.connection import STORE_ERRORS
from routing.store.conversations import Conversation, ConversationStore
from routing.store.escalations import Escalation, EscalationStore
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Who is paged and when: the first alert goes to the escalation chat; each missed deadline re-alerts,
    naming the backups, and from the second on also the coordinators in the volunteers' lobby."""

    ack_timeout: float = 120.0
    review_timeout: float = 15 * 60.0
    backups: tuple[str, ...] = ()
    coordinators: tuple[str, ...] = ()
    include_text: bool = False  # put the person's message into alerts (encrypted at rest like all text)


class EscalationDesk:
    """Raises escalations, alerts the escalation chat, and re-escalates what nobody acknowledged."""

    def __init__(
        self,
        staff_platform: Platform,
        store: EscalationStore,
        conversations: ConversationStore,
        writer: StreamWriter,
        policy: EscalationPolicy = EscalationPolicy(),
        cipher: TextCipher | None = None,
    ) -> None:
        self._platform = staff_platform
        self._store = store
        self._conversations = conversations
        self._writer = writer
        self._policy = policy
        self._cipher = cipher if policy.include_text else None

    async def raise_(
        self,
        conversation: Conversation,
        assessment: Assessment,
        out: Outbox,
        review: bool = False,
        text: str = "",
    ) -> EscalationId | None:
        """Record an escalation (or an elevated review) for `conversation`, once per inbound entry, and put
        its first alert into `out`, to leave with the entry's other urgent messages.

        The escalations stream's reader emits the same alert under the same key, so it is sent once, by
        whichever emits first: usually this one, sparing the alert a stream hop and three round trips; the
        reader when this handler died between raising and emitting (its entry, handled again, finds the
        escalation already raised and adds nothing).
        """
        timeout = self._policy.review_timeout if review else self._policy.ack_timeout
        sealed = self._cipher.encrypt(text.encode()) if self._cipher and text else None
        esc = await self._store.raise_(
            conversation.id, assessment.tier, assessment.category, assessment.phrase_ids, timeout, out.entry_id,
            review, sealed,
        )  # fmt: skip
        if esc is None:
            return None
        tier = assessment.tier.label
        log.warning("escalation %s raised for conversation %s (tier %s)", esc.id, conversation.id, tier)
        out.include(self._alert(esc, conversation.pseudonym, 0, text if self._cipher else ""))
        return esc.id

    async def deliver(self, entry_id: str, fields: dict[bytes, bytes]) -> None:
        """Escalations-stream handler: the alert, or a re-alert when a deadline passed unacknowledged."""
        esc = await self._store.get(EscalationId(fields.get(b"esc", b"").decode()))
        if esc is None:
            log.error("escalation entry %s refers to an unknown escalation", entry_id)
            return
        level = int(fields.get(b"level", b"0"))
        conversation = await self._conversations.get(esc.conversation)
        text = ""
        if level == 0 and self._cipher is not None:
            sealed = await self._store.sealed_text(esc.id)
            text = self._cipher.decrypt(sealed).decode() if sealed is not None else ""
        alert = self._alert(esc, conversation.pseudonym if conversation else None, level, text)
        for message in alert.messages:
            await self._writer.emit(message)
        event = "escalation_alerted" if level == 0 else "escalation_re_escalated"
        await self._writer.audit(event, escalation=esc.id, level=str(level))

    def _alert(self, esc: Escalation, pseudonym: Pseudonym | None, level: int, text: str) -> Outbox:
        """The alert of `esc` at `level` (0: the first), keyed by both (see `raise_`); from level 2 on it goes
        to the volunteers' lobby as well. `text`: the person's message, when alerts include it."""
        body = self._first_alert(esc, pseudonym) if level == 0 else self._re_alert(esc, pseudonym, level)
        if text:
            body += f"\nMessage: {text}"
        alert = Outbox(f"alert:{esc.id}:{level}")
        button = (Button("Acknowledge", f"ack {esc.id}"), Button("Take over", f"takeover {esc.id}"))
        alert.add(self._platform, Audience.ESCALATION, body, conversation=esc.conversation, pseudonym=pseudonym,
                  buttons=button, priority=Priority.URGENT)  # fmt: skip
        if level >= 2:
            alert.add(self._platform, Audience.STAFF_LOBBY, body, priority=Priority.URGENT)
        return alert

    def _first_alert(self, esc: Escalation, pseudonym: str | None) -> str:
        at = dt.datetime.fromtimestamp(esc.raised_at, dt.UTC).strftime("%H:%M:%S")
        template = texts.REVIEW_ALERT if esc.review else texts.ESCALATION_ALERT
        return template.format(
            tier=esc.tier.label.upper(), category=esc.category or "unspecified",
            pseudonym=pseudonym or "unknown person",
            conversation=esc.conversation, phrases=", ".join(esc.phrase_ids) or "-", at=at, escalation=esc.id,
            minutes=int(self._policy.review_timeout // 60),
        )  # fmt: skip

    def _re_alert(self, esc: Escalation, pseudonym: str | None, level: int) -> str:
        who = ""
        if self._policy.backups:
            who += f"Backup on call: {', '.join(self._policy.backups)}. "
        if level >= 2 and self._policy.coordinators:
            who += f"Coordinators: {', '.join(self._policy.coordinators)}. "
        timeout = self._policy.review_timeout if esc.review else self._policy.ack_timeout
        return texts.RE_ESCALATION.format(
            level=level, timeout=int(timeout), tier=esc.tier.label.upper(), pseudonym=pseudonym or "unknown person",
            conversation=esc.conversation, who=who, escalation=esc.id,
        )  # fmt: skip

    async def run_deadlines(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Re-escalate every escalation whose deadline passed; deadlines live in Redis, so a restart keeps them."""
        while not stop.is_set():
            try:
                for esc, level in await self._store.claim_due():
                    log.warning("escalation %s not acknowledged in time: level %d", esc, level)
            except STORE_ERRORS as exc:
                log.warning("escalation deadlines: redis unavailable (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await stop.wait()

    async def conversation_of(self, esc_id: EscalationId) -> ConversationId | None:
        esc = await self._store.get(esc_id)
        return esc.conversation if esc else None

    async def acknowledge(self, esc_id: EscalationId, by: VolunteerId, name: str, out: Outbox) -> None:
        """Acknowledge an escalation and say so in the escalation chat."""
        if await self._store.acknowledge(esc_id, by):
            await self._writer.audit("escalation_acknowledged", escalation=esc_id, by=by)
            text = f"Escalation {esc_id} acknowledged by {name}."
        else:
            text = f"Escalation {esc_id} is unknown or already acknowledged."
        out.add(self._platform, Audience.ESCALATION, text, priority=Priority.URGENT)
