"""How a conversation ends and what its volunteer gets after: /end (after high risk, not before a professional
has the alert, unless the volunteer says why), closing one the person left in silence, and, however a hard
conversation ended, the volunteer's wellbeing: a cool-down, a check-in and a debrief request to supervisors."""

from __future__ import annotations

import logging

from routing import texts
from routing.escalation import EscalationDesk
from routing.intake import feedback_buttons
from routing.live_roster import LiveRoster
from routing.model import Audience, InboundMessage, Priority, RiskTier, Role
from routing.outbox import Outbox
from routing.roster import StaffMember
from routing.staff.assignment import Assignments
from routing.staff.voice import StaffVoice
from routing.store.case_records import CaseEvent, CaseRecords
from routing.store.conversations import Conversation, ConversationStore
from routing.store.duty import DutyRoster
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)


class Endings:
    """Ends conversations and looks after the volunteer afterwards."""

    def __init__(
        self,
        voice: StaffVoice,
        conversations: ConversationStore,
        writer: StreamWriter,
        escalations: EscalationDesk,
        roster: LiveRoster,
        assignments: Assignments,
        duty: DutyRoster | None = None,
        *,
        cases: CaseRecords,
        cooldown_minutes: float = 15.0,
    ) -> None:
        self._voice = voice
        self._cases = cases
        self._store = conversations
        self._writer = writer
        self._escalations = escalations
        self._roster = roster
        self._assignments = assignments
        self._duty = duty
        self._cooldown_minutes = cooldown_minutes

    async def end(
        self, argument: str, member: StaffMember, message: InboundMessage, conversation: Conversation, out: Outbox
    ) -> None:
        """/end: the person is thanked and asked for feedback, the thread closes."""
        high = conversation.tier >= RiskTier.HIGH
        if high and not member.has(Role.PROFESSIONAL):
            # Care around the end: not before a professional has the alert, unless the volunteer says why.
            word, _, why = argument.partition(" ")
            if not await self._escalations.acknowledged(conversation.id) and not (word == "confirm" and why.strip()):
                text = texts.staff(texts.END_NEEDS_ACK, tier=conversation.tier.label)
                self._voice.answer(message, conversation.id, text, out)
                return
            if word == "confirm":
                await self._writer.audit("ended_before_acknowledgement", conversation=conversation.id, by=member.id)
        await self._store.close(conversation.id)
        self._voice.say_to_person(conversation, texts.ENDED_BY_VOLUNTEER, out=out)
        question = texts.FEEDBACK_QUESTION_CARE if high else texts.FEEDBACK_QUESTION
        buttons = feedback_buttons(conversation.id, conversation.language, care=high)
        self._voice.say_to_person(conversation, question, buttons=buttons, priority=Priority.BACKGROUND, out=out)
        self._voice.in_thread(conversation, texts.staff(texts.CLOSED_NOTE, who=member.name), out)
        self._voice.close_thread(conversation, out)
        await self._writer.audit("closed", conversation=conversation.id, by=member.id)
        await self._cases.add(conversation.id, CaseEvent.CLOSED, by=member.id)
        log.info("conversation %s ended by volunteer %s", conversation.id, member.id)
        if high:
            await self._after_hard_conversation(member, conversation, out)
        else:  # after a hard one: the cool-down first
            await self._assignments.assign_if_automatic(out)

    async def close_for_silence(self, conversation: Conversation, hours: float, out: Outbox) -> None:
        """The person has not written for `hours`: the conversation ends kindly, the door left open."""
        if not await self._store.close(conversation.id):
            return
        self._voice.say_to_person(conversation, texts.SILENCE_CLOSED, out=out)
        self._voice.in_thread(conversation, texts.staff(texts.SILENCE_CLOSED_NOTE, hours=f"{hours:g}"), out)
        self._voice.close_thread(conversation, out)
        await self._writer.audit("closed", conversation=conversation.id, by="silence")
        await self._cases.add(conversation.id, CaseEvent.CLOSED, by="silence")
        await self.after_ending(conversation, out)

    async def after_ending(self, conversation: Conversation, out: Outbox) -> None:
        """However a conversation that reached high risk ended (the person left, became unreachable, was
        blocked or fell silent, a professional took over), its volunteer gets the cool-down and the debrief;
        and capacity that freed up goes to the next person when assignment is automatic."""
        roster = await self._roster.current()
        holder = roster.by_id(conversation.volunteer) if conversation.volunteer else None
        if holder is not None and conversation.tier >= RiskTier.HIGH:
            await self._after_hard_conversation(holder, conversation, out)
        await self._assignments.assign_if_automatic(out)

    async def _after_hard_conversation(self, member: StaffMember, conversation: Conversation, out: Outbox) -> None:
        """Wellbeing: a cool-down with no new assignments, a check-in, and a debrief request to supervisors."""
        if self._duty is not None:
            await self._duty.cool_down(member.id, self._cooldown_minutes)
        minutes = int(self._cooldown_minutes)
        self._voice.in_thread(conversation, texts.staff(texts.CHECK_IN, minutes=minutes), out)
        supervisors = await self._roster.supervisors_on_duty()
        who = texts.staff(texts.SUPERVISORS_NAMED, names=", ".join(supervisors)) if supervisors else ""
        request = texts.staff(
            texts.DEBRIEF_REQUEST,
            volunteer=member.name,
            tier=conversation.tier.label,
            conversation=conversation.id,
            who=who,
        )
        out.add(self._voice.platform, Audience.STAFF_LOBBY, request, priority=Priority.STAFF)
        await self._writer.audit("cool_down", volunteer=member.id, minutes=str(minutes))
