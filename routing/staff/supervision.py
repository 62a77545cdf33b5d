"""Safety from the staff side: /escalate by hand (anyone on staff, from the thread or a queue card), /ack and
/falsealarm on an alert, and /takeover by a professional or supervisor. The escalation chain itself is
`routing/escalation.py`; this module is what staff say to it."""

from __future__ import annotations

import dataclasses

from routing import texts
from routing.escalation import EscalationDesk
from routing.model import (
    Audience,
    ConversationId,
    ConversationState,
    EscalationId,
    InboundMessage,
    Origin,
    Priority,
    RiskCategory,
    RiskTier,
    Role,
)
from routing.outbox import Outbox
from routing.risk.assessment import Assessment
from routing.roster import StaffMember
from routing.staff.assignment import Assignments
from routing.staff.ending import Endings
from routing.staff.teaching import Teaching
from routing.staff.voice import StaffVoice
from routing.store.case_records import CaseEvent, CaseRecords
from routing.store.conversations import Conversation, ConversationStore
from routing.store.streams import StreamWriter

OVERSEERS = (Role.SUPERVISOR, Role.COORDINATOR, Role.PROFESSIONAL)
OVERRIDE_CAPACITY = 1000  # a professional taking over a crisis is never refused for capacity


def oversees(member: StaffMember) -> bool:
    """Supervisors, coordinators and professionals: they may act on any conversation, not only their own."""
    return any(member.has(role) for role in OVERSEERS)


class Supervision:
    """Staff's part in the chain of care: raising, answering and taking over escalations."""

    def __init__(
        self,
        voice: StaffVoice,
        conversations: ConversationStore,
        writer: StreamWriter,
        escalations: EscalationDesk,
        teaching: Teaching,
        assignments: Assignments,
        endings: Endings,
        *,
        cases: CaseRecords,
    ) -> None:
        self._voice = voice
        self._cases = cases
        self._store = conversations
        self._writer = writer
        self._escalations = escalations
        self._teaching = teaching
        self._assignments = assignments
        self._endings = endings

    async def escalate(
        self, argument: str, member: StaffMember, message: InboundMessage, conversation: Conversation, out: Outbox
    ) -> None:
        """/escalate [tier] [category] [why]: a staff member escalates by hand: the person's words may carry no
        risk phrase at all, and the one reading them is the one who knows. The same chain as the detector's,
        marked as raised by staff; the person is sent nothing (the volunteer decides what to say)."""
        tier, category, reason = _escalation_words(argument)
        if tier < RiskTier.ELEVATED:
            self._voice.answer(message, conversation.id, texts.staff(texts.ESCALATE_USAGE), out)
            return
        if tier > conversation.tier:  # more than the detector saw: a miss it can learn from (docs/risk.md)
            await self._teaching.missed(conversation, tier, category, out.entry_id)
        if tier > conversation.tier:
            await self._store.raise_tier(conversation.id, tier)
            await self._cases.add(conversation.id, CaseEvent.TIER, by=member.id, tier=tier.label,
                                  before=conversation.tier.label)  # fmt: skip
        current = dataclasses.replace(conversation, tier=max(conversation.tier, tier))
        assessment = Assessment(tier, category)
        episode = await self._escalations.episode(conversation.id, out.entry_id) if tier >= RiskTier.HIGH else None
        if episode is not None:
            await self._escalations.update(episode, current, assessment, out, reason=reason, by=member.name)
        else:
            review = tier == RiskTier.ELEVATED
            await self._escalations.raise_(current, assessment, out, review=review, raised_by=member.id, reason=reason)
        said = texts.staff(texts.STAFF_ESCALATED, name=member.name, tier=tier.label)
        if conversation.state == ConversationState.WAITING:  # from the queue card: no topic yet, the card moves up
            lobby = f"{conversation.pseudonym}: {said}"
            out.add(self._voice.platform, Audience.STAFF_LOBBY, lobby, priority=Priority.URGENT)
            self._assignments.queue_card(current, out)
        else:
            self._voice.in_thread(conversation, said, out, priority=Priority.URGENT)
        if message.origin == Origin.PRIVATE and conversation.volunteer != member.id:
            self._voice.answer(message, conversation.id, said, out)
        await self._writer.audit("staff_escalated", conversation=conversation.id, by=member.id, tier=tier.label)

    async def acknowledge(
        self, argument: str, member: StaffMember, message: InboundMessage, conv: ConversationId | None, out: Outbox
    ) -> None:
        """/ack <escalation id> (and the Acknowledge button): the chain stops climbing."""
        if not argument:
            text = texts.staff(texts.NEEDS_ARGUMENT, command="ack", what="an escalation id", example="e-1")
            self._voice.answer(message, conv, text, out)
            return
        said = await self._escalations.acknowledge(EscalationId(argument.split()[0]), member.id, member.name, out)
        if message.origin == Origin.PRIVATE:  # from a private alert: answered there too
            self._voice.answer(message, conv, said, out)

    async def false_alarm(
        self, argument: str, member: StaffMember, message: InboundMessage, conv: ConversationId | None, out: Outbox
    ) -> None:
        """A professional, supervisor or coordinator says the detector's alert was wrong (a joke, a quote, a
        lyric): it is acknowledged like any other (the chain stops, the record stays), and the detector is taught
        (its category counted, and with the organisation's opt-in the message kept as an example; docs/risk.md)."""
        if not oversees(member):
            self._voice.answer(message, conv, texts.staff(texts.FALSE_ALARM_REFUSED), out)
            return
        esc_id = EscalationId(argument.split()[0]) if argument else None
        esc = await self._escalations.get(esc_id) if esc_id else None
        if esc is None or esc_id is None:
            text = texts.staff(texts.NEEDS_ARGUMENT, command="falsealarm", what="an escalation id", example="e-1")
            self._voice.answer(message, conv, text, out)
            return
        said = await self._escalations.acknowledge(esc_id, member.id, member.name, out)
        await self._escalations.mark_false_alarm(esc_id)
        if esc.raised_by is None and esc.acknowledged_by is None:  # the detector's, and not answered before
            await self._teaching.false_alarm(esc)
            await self._writer.audit("escalation_false_alarm", escalation=esc_id, by=member.id)
        await self._cases.add(esc.conversation, CaseEvent.FALSE_ALARM, by=member.id, escalation=esc_id)
        if message.origin == Origin.PRIVATE:
            self._voice.answer(message, conv, said, out)

    async def take_over(
        self, argument: str, member: StaffMember, message: InboundMessage, conv: ConversationId | None, out: Outbox
    ) -> None:
        """/takeover [escalation id]: a professional (or supervisor) takes the conversation from the queue or
        from its volunteer."""
        if not (member.has(Role.PROFESSIONAL) or member.has(Role.SUPERVISOR)):
            self._voice.answer(message, conv, texts.staff(texts.TAKEOVER_REFUSED), out)
            return
        esc = EscalationId(argument.split()[0]) if argument else None
        target = conv or (await self._escalations.conversation_of(esc) if esc else None)
        conversation = await self._store.get(target) if target else None
        if conversation is None or conversation.state == ConversationState.CLOSED:
            self._voice.answer(message, conv, "There is no open conversation to take over.", out)
            return
        if esc is not None:
            await self._escalations.acknowledge(esc, member.id, member.name, out, taking_over=True)
        if conversation.state == ConversationState.WAITING:
            await self._store.assign(member.id, OVERRIDE_CAPACITY, conversation.id)
            await self._assignments.connect(conversation.id, member, out)
        elif conversation.volunteer and conversation.volunteer != member.id:
            await self._store.transfer(conversation.id, conversation.volunteer, member.id, OVERRIDE_CAPACITY)
            self._voice.in_thread(conversation, texts.staff(texts.TAKEN_OVER, name=member.name), out)
            await self._endings.after_ending(conversation, out)  # the volunteer's part ended: their cool-down
        self._voice.say_to_person(conversation, texts.PROFESSIONAL_JOINED, priority=Priority.URGENT, out=out)
        await self._writer.audit("taken_over", conversation=conversation.id, by=member.id)
        await self._cases.add(conversation.id, CaseEvent.TAKEN_OVER, by=member.id)


def _escalation_words(argument: str) -> tuple[RiskTier, RiskCategory | None, str]:
    """`[tier] [category] [why]` of /escalate: the tier defaults to high; a category (suicide, self_harm,
    abuse, danger, harm_others, third_party; "self-harm" too) is optional."""
    words = argument.split()
    tier = RiskTier.HIGH
    if words:
        try:
            tier = RiskTier.parse(words[0])
            words = words[1:]
        except ValueError:
            pass
    category = None
    if words:
        try:
            category = RiskCategory(words[0].lower().replace("-", "_"))
            words = words[1:]
        except ValueError:
            pass
    return tier, category, " ".join(words)
