"""Escalation to on-call professionals: raise on risk, alert on the escalations stream, acknowledge.

Alerts travel on their own stream and are emitted on the urgent outbound lane, so they never wait behind
ordinary relays. Message text is never put into an alert unless `include_text` is configured.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from routing import texts
from routing.model import (
    Audience,
    Button,
    ChatId,
    ConversationId,
    ConversationState,
    EscalationId,
    OutboundKind,
    Platform,
    Priority,
    Pseudonym,
    RiskTier,
    VolunteerId,
)
from routing.on_call import OnCallDirectory, Paged
from routing.outbox import Outbox
from routing.periodic import every
from routing.risk.assessment import Assessment
from routing.store.case_records import CaseEvent, CaseRecords
from routing.store.cipher import TextCipher
from routing.store.conversations import Conversation, ConversationStore
from routing.store.escalations import Escalation, EscalationStore
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Who is paged and when. The first alert goes to the escalation chat and, privately, to the professional
    on call (routing.on_call); each missed deadline climbs one level: the backup, then the coordinators (and
    the volunteers' lobby); after `levels` re-alerts the escalation is marked unanswered, said once more to
    everyone on the chain, and its deadline stops: it never stops silently, and never repeats for ever."""

    ack_timeout: float = 120.0
    review_timeout: float = 15 * 60.0
    backups: tuple[str, ...] = ()  # named in re-alerts when no rota says who is on call
    coordinators: tuple[str, ...] = ()
    include_text: bool = False  # put the person's message into alerts (encrypted at rest like all text)
    levels: int = 3  # re-alerts before "unanswered"
    resources_interval: float = 30 * 60.0  # seconds before the same crisis resources are sent again


class EscalationDesk:
    """Raises escalations, alerts the escalation chat, and re-escalates what nobody acknowledged."""

    def __init__(
        self,
        staff_platform: Platform,
        store: EscalationStore,
        conversations: ConversationStore,
        writer: StreamWriter,
        cases: CaseRecords,
        policy: EscalationPolicy = EscalationPolicy(),
        cipher: TextCipher | None = None,
        directory: OnCallDirectory | None = None,
    ) -> None:
        self._directory = directory
        self._platform = staff_platform
        self._store = store
        self._conversations = conversations
        self._writer = writer
        self._cases = cases
        self._policy = policy
        self._cipher = cipher if policy.include_text else None

    async def raise_(
        self,
        conversation: Conversation,
        assessment: Assessment,
        out: Outbox,
        review: bool = False,
        text: str = "",
        raised_by: VolunteerId | None = None,
        reason: str = "",
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
            review, sealed, raised_by,
        )  # fmt: skip
        if esc is None:
            return None
        tier = assessment.tier.label
        log.warning("escalation %s raised for conversation %s (tier %s)", esc.id, conversation.id, tier)
        if raised_by is not None:
            await self._writer.audit("escalation_raised_by_staff", escalation=esc.id, by=raised_by)
        await self._cases.add(
            conversation.id, CaseEvent.ESCALATION_RAISED, by=raised_by or "detector", escalation=esc.id,
            tier=assessment.tier.label, review="1" if review else "0",
        )  # fmt: skip
        alert = await self._alert(esc, conversation.pseudonym, 0, text if self._cipher else "", reason)
        out.include(alert)
        return esc.id

    async def episode(self, conversation: ConversationId, entry_id: str) -> Escalation | None:
        """The escalation this conversation's risk already has, to update rather than raise another; None
        when there is none, or when it was raised by this same inbound entry (handled again after a crash)."""
        found = await self._store.episode_of(conversation)
        return None if found is None or found.entry == entry_id else found

    async def update(
        self,
        episode: Escalation,
        conversation: Conversation,
        assessment: Assessment,
        out: Outbox,
        text: str = "",
        *,
        reason: str = "",
        by: str = "",
    ) -> None:
        """A further risky message in an open episode: one escalation, kept current. Its tier rises with the
        messages, the escalation chat sees each flagged message (linked to the same escalation), and a rise
        pages the on-call professional again; the chain's deadlines run on."""
        before, new = await self._store.update(episode.id, assessment.tier, assessment.category, out.entry_id)
        if new:
            await self._writer.audit("escalation_updated", escalation=episode.id, tier=assessment.tier.label)
            await self._cases.add(conversation.id, CaseEvent.ESCALATION_UPDATED, escalation=episode.id,
                                  tier=assessment.tier.label)  # fmt: skip
        tier = max(before, assessment.tier)
        open_ = episode.state != "acknowledged"
        template = texts.ESCALATION_UPDATE_BY_STAFF if by else texts.ESCALATION_UPDATE
        body = texts.staff(
            template,
            escalation=episode.id,
            pseudonym=conversation.pseudonym,
            flagged=assessment.tier.label,
            category=assessment.category or texts.staff(texts.UNSPECIFIED),
            tier=tier.label.upper(),
            by=by,
            state=texts.staff(texts.STILL_OPEN)
            if open_
            else texts.staff(texts.ACKNOWLEDGED_BY, name=episode.acknowledged_by),
        )
        if reason:
            body += "\n" + texts.staff(texts.WHY, reason=reason)
        if self._cipher is not None and text:
            body += f"\nMessage: {text}"
        update = Outbox(f"update:{episode.id}:{out.entry_id}")
        buttons = _answers(episode.id) if open_ else ()
        update.add(self._platform, Audience.ESCALATION, body, conversation=conversation.id,
                   pseudonym=conversation.pseudonym, buttons=buttons, priority=Priority.URGENT)  # fmt: skip
        if assessment.tier > before and self._directory is not None:
            self._page(update, await self._directory.at_level(0), body, buttons)
        out.include(update)

    def _page(self, out: Outbox, paged: Paged, body: str, buttons: tuple[Button, ...]) -> None:
        """The alert, privately to each paged member the staff platform can reach: a busy or muted group chat
        must not be the only way a professional hears of it."""
        for member in paged.members:
            chat = member.identities.get(self._platform)
            if chat is not None:
                text = texts.staff(texts.PAGED, name=member.name, alert=body)
                out.add(self._platform, Audience.STAFF_DIRECT, text, chat=ChatId(chat), buttons=buttons,
                        priority=Priority.URGENT)  # fmt: skip

    async def acknowledged(self, conversation: ConversationId) -> bool:
        """Whether a professional has acknowledged the conversation's escalation (True when it never had one)."""
        episode = await self._store.episode_of(conversation)
        return episode is None or episode.state == "acknowledged"

    async def resources_due(self, conversation: ConversationId, tier: RiskTier, entry_id: str) -> bool:
        """Crisis resources go to the person at the episode's first risk, when the tier rises, and again only
        after `resources_interval` (the same text three times in a minute helps nobody)."""
        return await self._store.resources_due(conversation, tier, self._policy.resources_interval, entry_id)

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
        alert = await self._alert(esc, conversation.pseudonym if conversation else None, level, text)
        await self._writer.emit_all(alert.messages)
        final = level >= self._policy.levels
        event = "escalation_alerted" if level == 0 else "escalation_unanswered" if final else "escalation_re_escalated"
        await self._writer.audit(event, escalation=esc.id, level=str(level))
        if level > 0:  # the first alert is the raising, already recorded
            await self._cases.add(esc.conversation, CaseEvent.ESCALATION_LEVEL, escalation=esc.id, level=str(level),
                                  final="1" if final else "0")  # fmt: skip

    async def _alert(
        self, esc: Escalation, pseudonym: Pseudonym | None, level: int, text: str, reason: str = ""
    ) -> Outbox:
        """The alert of `esc` at `level` (0: the first), keyed by both (see `raise_`): to the escalation chat,
        privately to whoever the chain pages at that level, and from level 2 on to the volunteers' lobby too.
        `text`: the person's message, when alerts include it."""
        final = level >= self._policy.levels
        paged = await self._directory.at_level(min(level, 2)) if self._directory else Paged(())
        if level == 0:
            body = self._first_alert(esc, pseudonym)
        elif final:
            body = texts.staff(
                texts.UNANSWERED,
                tier=esc.tier.label.upper(),
                pseudonym=pseudonym or texts.staff(texts.UNKNOWN_PERSON),
                conversation=esc.conversation,
                minutes=max(1, round(self._timeout(esc) * level / 60)),
                escalation=esc.id,
            )
        else:
            body = self._re_alert(esc, pseudonym, level, paged)
        if reason:  # a staff member's words on why they escalated
            body += "\n" + texts.staff(texts.WHY, reason=reason)
        if text:
            body += f"\nMessage: {text}"
        alert = Outbox(f"alert:{esc.id}:{level}")
        button = _answers(esc.id)
        # The first alert of an episode is its card: acknowledging it edits it (who, when, no buttons). Later
        # levels are new messages, so that phones ring again.
        card = OutboundKind.UPSERT_CARD if level == 0 and not esc.review else OutboundKind.SEND
        alert.add(self._platform, Audience.ESCALATION, body, kind=card, conversation=esc.conversation,
                  pseudonym=pseudonym, buttons=button, priority=Priority.URGENT)  # fmt: skip
        self._page(alert, paged, body, button)
        if level >= 2:
            alert.add(self._platform, Audience.STAFF_LOBBY, body, priority=Priority.URGENT)
        if level == 0 and paged.gap:
            coordinators = await self._directory.at_level(2) if self._directory else Paged(())
            names = ", ".join(m.name for m in coordinators.members) or texts.staff(texts.COORDINATORS)
            gap = texts.staff(texts.NO_ON_CALL, pseudonym=pseudonym or texts.staff(texts.A_PERSON), coordinators=names)
            alert.add(self._platform, Audience.STAFF_LOBBY, gap, priority=Priority.URGENT)
        return alert

    @staticmethod
    def _why(esc: Escalation) -> str:
        if esc.raised_by is not None:
            return f"raised by staff ({esc.raised_by}), not by the detector"
        return plain_words(esc.phrase_ids)

    def _timeout(self, esc: Escalation) -> float:
        return self._policy.review_timeout if esc.review else self._policy.ack_timeout

    def _first_alert(self, esc: Escalation, pseudonym: str | None) -> str:
        at = dt.datetime.fromtimestamp(esc.raised_at, dt.UTC).strftime("%H:%M:%S")
        template = texts.REVIEW_ALERT if esc.review else texts.ESCALATION_ALERT
        return texts.staff(
            template,
            tier=esc.tier.label.upper(),
            category=esc.category or texts.staff(texts.UNSPECIFIED),
            pseudonym=pseudonym or texts.staff(texts.UNKNOWN_PERSON),
            conversation=esc.conversation,
            phrases=self._why(esc),
            at=at,
            escalation=esc.id,
            minutes=int(self._policy.review_timeout // 60),
        )

    def _re_alert(self, esc: Escalation, pseudonym: str | None, level: int, paged: Paged) -> str:
        who = ""
        if paged.members:
            who = texts.staff(texts.PAGED_DIRECTLY, names=", ".join(m.name for m in paged.members))
        else:
            if self._policy.backups:
                who += texts.staff(texts.BACKUP_ON_CALL, names=", ".join(self._policy.backups))
            if level >= 2 and self._policy.coordinators:
                who += texts.staff(texts.COORDINATORS_NAMED, names=", ".join(self._policy.coordinators))
        return texts.staff(
            texts.RE_ESCALATION,
            level=level,
            timeout=int(self._timeout(esc)),
            tier=esc.tier.label.upper(),
            pseudonym=pseudonym or texts.staff(texts.UNKNOWN_PERSON),
            conversation=esc.conversation,
            who=who,
            escalation=esc.id,
        )

    async def run_deadlines(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Re-escalate every escalation whose deadline passed; deadlines live in Redis, so a restart keeps them."""
        await every(interval, stop, self._climb, "escalation deadlines")

    async def _climb(self) -> None:
        for esc, level in await self._store.claim_due(last_level=self._policy.levels):
            log.warning("escalation %s not acknowledged in time: level %d", esc, level)

    async def get(self, esc_id: EscalationId) -> Escalation | None:
        return await self._store.get(esc_id)

    async def conversation_of(self, esc_id: EscalationId) -> ConversationId | None:
        esc = await self._store.get(esc_id)
        return esc.conversation if esc else None

    async def mark_false_alarm(self, esc_id: EscalationId) -> None:
        """The alert was wrong (a joke, a quote): kept as its outcome."""
        await self._store.mark_false_alarm(esc_id)

    async def acknowledge(
        self, esc_id: EscalationId, by: VolunteerId, name: str, out: Outbox, *, taking_over: bool = False
    ) -> str:
        """Acknowledge an escalation: the escalation chat is told, the alert itself shows who and when (its
        buttons gone), and the volunteer's topic hears that a professional is on it. Returns what was said;
        `taking_over`: the take-over announces itself, so an alert acknowledged already needs no answer."""
        esc = await self._store.get(esc_id)
        if esc is None:
            text = texts.staff(texts.ESCALATION_UNKNOWN, escalation=esc_id)
        elif await self._store.acknowledge(esc_id, by):
            await self._writer.audit("escalation_acknowledged", escalation=esc_id, by=by)
            await self._cases.add(esc.conversation, CaseEvent.ESCALATION_ACKNOWLEDGED, by=by, escalation=esc_id)
            at = dt.datetime.now(dt.UTC).strftime("%H:%M")
            text = texts.staff(texts.ESCALATION_ACKNOWLEDGED, escalation=esc_id, name=name, at=at)
            conversation = await self._conversations.get(esc.conversation)
            pseudonym = conversation.pseudonym if conversation else None
            if not esc.review:  # the first alert, updated in place: nobody acts on a stale one
                card = texts.staff(texts.ALERT_ACKNOWLEDGED, name=name, at=at, alert=self._first_alert(esc, pseudonym))
                out.add(self._platform, Audience.ESCALATION, card, kind=OutboundKind.UPSERT_CARD,
                        conversation=esc.conversation, pseudonym=pseudonym, priority=Priority.URGENT)  # fmt: skip
            if conversation is not None and conversation.state == ConversationState.ACTIVE:
                out.add(self._platform, Audience.STAFF_THREAD, texts.staff(texts.ACKNOWLEDGED_NOTE, name=name, at=at),
                        conversation=esc.conversation, pseudonym=pseudonym, priority=Priority.URGENT)  # fmt: skip
        elif taking_over:
            return ""
        else:
            name = esc.acknowledged_by or texts.staff(texts.SOMEONE)
            text = texts.staff(texts.ESCALATION_ALREADY_ACKNOWLEDGED, escalation=esc_id, name=name)
        out.add(self._platform, Audience.ESCALATION, text, priority=Priority.URGENT)
        return text


def _answers(esc: EscalationId) -> tuple[Button, ...]:
    return (
        Button(texts.staff(texts.BUTTON_ACKNOWLEDGE), f"ack {esc}"),
        Button(texts.staff(texts.BUTTON_TAKE_OVER), f"takeover {esc}"),
        Button(texts.staff(texts.BUTTON_FALSE_ALARM), f"falsealarm {esc}"),
    )


def plain_words(phrase_ids: tuple[str, ...]) -> str:
    """What the detector saw, in words a clinician reads at a glance, from the ids of what matched
    ("en.means.pills", "en.rule.high_with_time" -> "means: pills · high with time"), most telling first (rules
    combine several signs), each once, with the ids after it for whoever tunes the phrase files."""
    words: list[str] = []
    for phrase in sorted(phrase_ids, key=lambda p: ".rule." not in p):
        _lang, _, rest = phrase.partition(".")
        group, _, name = rest.partition(".")
        said = name.replace("_", " ") if group == "rule" else f"{group.replace('_', ' ')}: {name.replace('_', ' ')}"
        if said not in words:
            words.append(said)
    return f"{' · '.join(words)} ({', '.join(phrase_ids)})" if words else "-"
