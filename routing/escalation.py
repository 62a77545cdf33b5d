"""Escalation to on-call professionals: raise on risk, alert on the escalations stream, acknowledge.

Alerts travel on their own stream and are emitted on the urgent outbound lane, so they never wait behind
ordinary relays. Message text is never put into an alert unless `include_text` is configured.
"""

from __future__ import annotations

import datetime as dt
import logging

from routing import texts
from routing.model import Audience, Button, EscalationId, Platform, Priority, VolunteerId
from routing.outbox import Outbox
from routing.risk.assessment import Assessment
from routing.store.conversations import Conversation, ConversationStore
from routing.store.escalations import EscalationStore
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)


class EscalationDesk:
    """Raises escalations and turns them into alerts for the escalation chat."""

    def __init__(
        self,
        staff_platform: Platform,
        store: EscalationStore,
        conversations: ConversationStore,
        writer: StreamWriter,
        ack_timeout: float = 120.0,
    ) -> None:
        self._platform = staff_platform
        self._store = store
        self._conversations = conversations
        self._writer = writer
        self._ack_timeout = ack_timeout

    async def raise_(self, conversation: Conversation, assessment: Assessment, dedupe_key: str) -> EscalationId | None:
        """Record an escalation for `conversation` (once per inbound entry)."""
        esc = await self._store.raise_(
            conversation.id,
            assessment.tier,
            assessment.category,
            assessment.phrase_ids,
            self._ack_timeout,
            dedupe_key,
        )
        if esc is not None:
            log.warning(
                "escalation %s raised for conversation %s (tier %s)", esc, conversation.id, assessment.tier.label
            )
            await self._writer.audit(
                "escalation_raised", escalation=esc, conversation=conversation.id, tier=assessment.tier.label
            )
        return esc

    async def deliver(self, entry_id: str, fields: dict[bytes, bytes]) -> None:
        """Escalations-stream handler: send the alert (with an Acknowledge button) to the escalation chat."""
        esc_id = EscalationId(fields.get(b"esc", b"").decode())
        esc = await self._store.get(esc_id)
        if esc is None:
            log.error("escalation entry %s refers to an unknown escalation", entry_id)
            return
        conversation = await self._conversations.get(esc.conversation)
        pseudonym = conversation.pseudonym if conversation else "unknown person"
        at = dt.datetime.fromtimestamp(esc.raised_at, dt.UTC).strftime("%H:%M:%S")
        text = texts.ESCALATION_ALERT.format(
            tier=esc.tier.label.upper(),
            category=esc.category or "unspecified",
            pseudonym=pseudonym,
            conversation=esc.conversation,
            phrases=", ".join(esc.phrase_ids) or "-",
            at=at,
            escalation=esc.id,
        )
        out = Outbox(f"esc:{entry_id}")
        out.add(
            self._platform,
            Audience.ESCALATION,
            text,
            conversation=esc.conversation,
            pseudonym=conversation.pseudonym if conversation else None,
            buttons=(Button("Acknowledge", f"ack {esc.id}"),),
            priority=Priority.URGENT,
        )
        for message in out.messages:
            await self._writer.emit(message)

    async def acknowledge(self, esc_id: EscalationId, by: VolunteerId, name: str, out: Outbox) -> None:
        """Acknowledge an escalation and say so in the escalation chat."""
        if await self._store.acknowledge(esc_id, by):
            await self._writer.audit("escalation_acknowledged", escalation=esc_id, by=by)
            out.add(
                self._platform,
                Audience.ESCALATION,
                f"Escalation {esc_id} acknowledged by {name}.",
                priority=Priority.URGENT,
            )
        else:
            out.add(
                self._platform,
                Audience.ESCALATION,
                f"Escalation {esc_id} is unknown or already acknowledged.",
                priority=Priority.URGENT,
            )
