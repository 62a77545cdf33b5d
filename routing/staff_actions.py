"""What staff can do from the workspace: take people, relay replies, end, release, transfer, note, ack."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from datetime import UTC, datetime

from routing import texts
from routing.codec import MalformedEntry, decode_inbound
from routing.commands import ParsedCommand, StaffCommand, parse_command, staff_command
from routing.escalation import EscalationDesk
from routing.intake import DEFAULT_MATCH_WAIT, Candidate, feedback_buttons, first_fit, pick_for
from routing.model import (
    Attachment,
    Audience,
    Button,
    ChatId,
    ConversationId,
    ConversationState,
    EscalationId,
    InboundKind,
    InboundMessage,
    Origin,
    OutboundKind,
    Platform,
    Priority,
    RiskCategory,
    RiskTier,
    Role,
    VolunteerId,
)
from routing.outbox import Outbox
from routing.risk.assessment import Assessment
from routing.roster import DEFAULT_MAX_CONCURRENT, Roster, StaffMember
from routing.rota import RotaError, on_shift
from routing.rota.changes import describe_change
from routing.rota.commands import CommandError, RotaCommand, is_change, parse_rota_arguments, refusal, render_view
from routing.store.availability import Availability
from routing.store.blocks import Block, BlockStore
from routing.store.conversations import Assignment, AssignOutcome, Conversation, ConversationStore
from routing.store.dashboard_access import SignInLinks
from routing.store.duty import DutyRoster
from routing.store.risk_labels import RiskLabels
from routing.store.rota_store import RotaStore
from routing.store.streams import StreamWriter
from routing.training import is_training_session
from routing.training.desk import TrainingDesk
from routing.workspace import DeskTarget, PrivateDesk

log = logging.getLogger(__name__)
WHISPER_NOTICE_SECONDS = 12 * 3600  # a whisper's author is told once per conversation (and shift)

_HELP = (
    "Staff commands: /next (take the most urgent person), /end, /release <handover note>, "
    "/transfer <volunteer>, /note <text> (staff only), /escalate [high|imminent|elevated] [category] [why] (page "
    "the on-call professional), /on and /off (available for automatic assignment), /ack <escalation id>, "
    "/falsealarm <escalation id> (professionals, supervisors, coordinators)."
)
_NEEDS_THREAD = {
    StaffCommand.END, StaffCommand.RELEASE, StaffCommand.TRANSFER, StaffCommand.NOTE, StaffCommand.ESCALATE,
    StaffCommand.BLOCK,
}  # fmt: skip
MAX_BLOCK_SECONDS = 90 * 24 * 3600
_OVERSEERS = (Role.SUPERVISOR, Role.COORDINATOR, Role.PROFESSIONAL)
ESCALATE_BUTTON = Button("Escalate", "escalate high")  # on a conversation's card in its topic, and risk notices
MATCH_FIRST_LOOK, MATCH_LOOK = 8, 50  # waiting people peer matching reads first, and at most
OVERRIDE_CAPACITY = 1000  # a professional taking over a crisis is never refused for capacity


class StaffActions:
    """Handles messages and commands written in the staff workspace or the escalation chat."""

    def __init__(
        self,
        platform: Platform,
        store: ConversationStore,
        writer: StreamWriter,
        roster: Roster,
        escalations: EscalationDesk,
        duty: DutyRoster | None = None,
        rotas: RotaStore | None = None,
        cooldown_minutes: float = 15.0,
        match_wait: float = DEFAULT_MATCH_WAIT,
        auto_assign: bool = False,
        links: SignInLinks | None = None,
        training: TrainingDesk | None = None,
        desk: PrivateDesk | None = None,
        blocks: BlockStore | None = None,
    ) -> None:
        self._blocks = blocks
        self._availability = Availability(store.redis_client)
        self._labels = RiskLabels(store.redis_client)
        self._auto_assign = auto_assign
        self._desk = desk
        self._links = links
        self._training = training
        self._match_wait = match_wait
        self._platform = platform
        self._duty = duty
        self._rotas = rotas
        self._cooldown_minutes = cooldown_minutes
        self._store = store
        self._writer = writer
        self._roster = roster
        self._escalations = escalations

    def use_roster(self, roster: Roster) -> None:
        """The live roster (from the rota in Redis) for the next message."""
        self._roster = roster

    async def from_desk(self, message: InboundMessage, target: DeskTarget, out: Outbox) -> None:
        """A staff member's message in their private chat with the bot (staff.workspace = "private"): like one
        in the conversation's topic. Words that could reach the wrong person are refused, never guessed."""
        parsed = parse_command(message.text) if message.kind == InboundKind.MESSAGE else None
        if parsed is not None and parsed.name == "start":  # Telegram's Start button, pressed once to open the chat
            self._say(message, None, texts.DESK_WELCOME, out)
            return
        plain = message.kind == InboundKind.MESSAGE and parsed is None
        if plain and target.conversation is None:
            if target.held:
                names = [c.pseudonym for c in [await self._store.get(conv) for conv in target.held] if c is not None]
                self._say(message, None, texts.DESK_WHICH.format(count=len(target.held), names=", ".join(names)), out)
            else:
                self._say(message, None, texts.DESK_NONE, out)
            return
        await self.handle(message, out, desk_conversation=target.conversation)

    async def handle(
        self, message: InboundMessage, out: Outbox, *, desk_conversation: ConversationId | None = None
    ) -> None:
        """A message or button in the staff workspace; `desk_conversation`: the one a private-chat message is for."""
        member = self._roster.member(message.platform, message.sender)
        if message.origin == Origin.PRIVATE:
            conv = desk_conversation
        elif message.thread:
            conv = await self._store.conversation_of_thread(message.platform, message.thread)
        else:
            conv = None
        if conv is not None and is_training_session(conv):  # a practice session's thread: never a real person
            if self._training is not None:
                await self._training.handle(message, member, conv, out)
            return
        parsed: ParsedCommand | None = None
        if message.kind == InboundKind.ACTION:
            parsed = _action(message)
        elif message.kind == InboundKind.MESSAGE:  # editing a message into "!end" must not end anything
            parsed = parse_command(message.text)
        if parsed is None:
            if conv is not None and message.kind == InboundKind.MESSAGE:
                await self._relay_to_person(conv, message, out)
            return
        rota_command = parse_rota_arguments(parsed.name, parsed.argument)
        if rota_command is not None:
            self._say(message, conv, await self._rota_command(rota_command, member), out)
            return
        command = staff_command(parsed)
        if command == StaffCommand.ESCALATE and conv is None and (named := _named_conversation(parsed.argument)):
            # The Escalate button on a queue card in the lobby names the person waiting: "escalate high c-12".
            conv, parsed = named, ParsedCommand(parsed.name, parsed.argument.rsplit(" ", 1)[0])
        if command is None:
            self._say(message, conv, texts.UNKNOWN_COMMAND.format(name=parsed.name), out)
        elif command in _NEEDS_THREAD and conv is None:
            where = texts.DESK_PICK if message.origin == Origin.PRIVATE else texts.NOT_IN_THREAD
            self._say(message, conv, where.format(command=command.value), out)
        else:
            await self._dispatch(command, parsed.argument, member, message, conv, out)

    async def _dispatch(
        self,
        command: StaffCommand,
        argument: str,
        member: StaffMember,
        message: InboundMessage,
        conv: ConversationId | None,
        out: Outbox,
    ) -> None:
        if command in (StaffCommand.NEXT, StaffCommand.TAKE):
            target = ConversationId(argument) if command == StaffCommand.TAKE and argument else None
            await self._take(member, target, message, conv, out)
        elif command == StaffCommand.ACK:
            await self._ack(argument, member, message, conv, out)
        elif command == StaffCommand.TAKEOVER:
            await self._take_over(argument, member, message, conv, out)
        elif command == StaffCommand.FALSE_ALARM:
            await self._false_alarm(argument, member, message, conv, out)
        elif command == StaffCommand.HELP:
            self._say(message, conv, _HELP, out)
        elif command in (StaffCommand.ON, StaffCommand.OFF):
            await self._store.set_on_duty(member.id, command == StaffCommand.ON)
            if self._duty is not None:
                await self._duty.end_break(member.id)
            state = "checked in and available" if command == StaffCommand.ON else "off duty"
            self._say(message, conv, f"{member.name} is now {state}.", out)
            if command == StaffCommand.ON and self._auto_assign:  # capacity appeared: someone may be waiting
                await self.auto_assign(out)
        elif command == StaffCommand.TRAIN:
            answer = await self._training.start(argument, member, self._roster, out) if self._training else None
            self._say(message, conv, answer or texts.TRAIN_OFF, out)
        elif command == StaffCommand.DASHBOARD:
            await self._dashboard_link(member, message, conv, out)
        elif command == StaffCommand.BLOCKS:
            self._say(message, conv, await self._list_blocks(member), out)
        elif command == StaffCommand.UNBLOCK and (argument or conv is None):
            self._say(
                message, conv, await self._unblock(member, ConversationId(argument.split()[0] if argument else "")), out
            )
        elif command == StaffCommand.BREAK:
            minutes = int(argument) if argument.isdigit() and 0 < int(argument) <= 240 else 15
            if self._duty is not None:
                await self._duty.take_break(member.id, minutes)
            self._say(message, conv, texts.ON_BREAK.format(name=member.name, minutes=minutes), out)
        elif conv is not None:
            await self._in_thread(command, argument, member, message, conv, out)

    async def _in_thread(
        self,
        command: StaffCommand,
        argument: str,
        member: StaffMember,
        message: InboundMessage,
        conv: ConversationId,
        out: Outbox,
    ) -> None:
        conversation = await self._store.get(conv)
        if conversation is None:
            self._say(message, conv, "This conversation has expired.", out)
        elif command == StaffCommand.NOTE:
            await self._note(argument, message, conversation, out)
        elif command == StaffCommand.ESCALATE:  # anyone on the staff side: safety is never the holder's alone
            await self._escalate(argument, member, message, conversation, out)
        elif command == StaffCommand.UNBLOCK:
            self._say(message, conv, await self._unblock(member, conversation.id, in_thread=True), out)
        elif conversation.state != ConversationState.ACTIVE:
            self._say(message, conv, f"This conversation is {conversation.state}; nothing was changed.", out)
        elif conversation.volunteer != member.id and not any(member.has(r) for r in _OVERSEERS):
            self._say(message, conv, texts.NOT_YOURS.format(volunteer=conversation.volunteer), out)
        elif command == StaffCommand.END:
            await self._end(member, conversation, out, argument=argument, message=message)
        elif command == StaffCommand.BLOCK:
            await self._block(argument, member, message, conversation, out)
        elif command == StaffCommand.RELEASE:
            await self._release(argument, member, message, conversation, out)
        else:
            await self._transfer(argument, message, conversation, out)

    async def _take(
        self,
        member: StaffMember,
        target: ConversationId | None,
        message: InboundMessage,
        conv: ConversationId | None,
        out: Outbox,
    ) -> None:
        cooling = await self._duty.cooling_down_for(member.id) if self._duty else 0
        if cooling:
            self._say(message, conv, texts.COOLING_DOWN.format(minutes=max(1, cooling // 60)), out)
            return
        result = await self._assign(member, target)
        if result.outcome == AssignOutcome.OK and result.conversation is not None:
            await self.connect(result.conversation, member, out)
        elif result.outcome == AssignOutcome.FULL:
            count = len(await self._store.active_of(member.id))
            self._say(message, conv, texts.AT_CAPACITY.format(count=count), out)
        elif result.outcome == AssignOutcome.EMPTY:
            self._say(message, conv, texts.NOBODY_WAITING, out)
        else:
            found = await self._store.get(result.conversation) if result.conversation else None
            pseudonym = found.pseudonym if found else "that person"
            self._say(message, conv, texts.ALREADY_TAKEN.format(pseudonym=pseudonym), out)

    async def _assign(self, member: StaffMember, target: ConversationId | None) -> Assignment:
        """Take `target`, or the person `member` fits best (peer matching); atomic in Redis either way."""
        if target is not None:
            return await self._store.assign(member.id, member.max_concurrent, target)
        for _attempt in range(3):  # another volunteer may take our pick between reading and assigning
            pick = await self._match(member)
            if pick is None:
                break
            result = await self._store.assign(member.id, member.max_concurrent, pick.conversation)
            if result.outcome != AssignOutcome.TAKEN:
                return result
        return await self._store.assign(member.id, member.max_concurrent)

    async def _match(self, member: StaffMember) -> Candidate | None:
        """Peer matching over the queue's head: usually the first few people settle it (the head fits, or is
        urgent); only when none of them does is the longer list read."""
        now = time.time()
        head = await self._store.candidates(MATCH_FIRST_LOOK)
        if len(head) < MATCH_FIRST_LOOK:
            return pick_for(member, head, now, self._match_wait)
        return first_fit(member, head, now, self._match_wait) or pick_for(
            member, await self._store.candidates(MATCH_LOOK), now, self._match_wait
        )

    async def connect(self, conv: ConversationId, member: StaffMember, out: Outbox) -> None:
        """Open the staff thread for a newly assigned conversation and catch the volunteer up."""
        conversation = await self._store.get(conv)
        if conversation is None:
            return
        header = texts.THREAD_OPENED.format(pseudonym=conversation.pseudonym, tier=conversation.tier.label)
        header += "\n" + texts.THREAD_ABOUT.format(
            platform=conversation.platform.value.capitalize(), language=conversation.language or "not given",
            topic=conversation.topic or "not chosen",
        )  # fmt: skip
        # The hand-over opens the volunteer's topic: it goes with the person's own messages (PERSON), ahead of
        # notices, else a busy staff group (Telegram: ~20 sends a minute) keeps a taken person waiting unseen.
        self._thread(conversation, header, out, priority=Priority.PERSON)
        kept, notes = await asyncio.gather(self._store.take_pending(conv), self._store.notes(conv))  # one round trip
        self._kept_to_thread(conversation, kept, out)
        for note in notes:
            self._thread(conversation, f"Handover note: {note}", out, priority=Priority.PERSON)
        # One tap returns the person to the queue: nobody should stay in a conversation they cannot carry.
        out.add(self._platform, Audience.STAFF_THREAD, texts.TAKEN.format(pseudonym=conversation.pseudonym),
                conversation=conversation.id, pseudonym=conversation.pseudonym, priority=Priority.PERSON,
                buttons=(Button("Hand off", "release handed off with one tap"), ESCALATE_BUTTON))  # fmt: skip
        self._to_person(conversation, texts.CONNECTED, out=out)
        self._card(conversation, texts.CARD_TAKEN.format(pseudonym=conversation.pseudonym, volunteer=member.name), out)
        out.then(lambda: self._finish_handover(conversation, [entry for entry, _raw in kept]))
        await self._writer.audit("assigned", conversation=conv, volunteer=member.id)
        log.info("conversation %s assigned to volunteer %s", conv, member.id)

    def _kept_to_thread(self, conversation: Conversation, kept: list[tuple[str, bytes]], out: Outbox) -> None:
        for _entry, raw in kept:
            try:
                earlier = decode_inbound(raw)
            except MalformedEntry:
                log.error("conversation %s: a kept message could not be decoded", conversation.id)
                continue
            self._thread(conversation, earlier.text, out, earlier, priority=Priority.PERSON)

    async def _finish_handover(self, conversation: Conversation, sent: list[str]) -> None:
        """After the kept messages are emitted: send what the person wrote meanwhile (it was kept too, so it
        stays behind them), until nothing is left and their messages are relayed directly again."""
        while late := await self._store.finish_pending(conversation.id, sent):
            more = Outbox(f"handover:{late[0][0]}")  # named after its first message: a retry emits it once
            self._kept_to_thread(conversation, late, more)
            await self._writer.emit_all(more.messages)
            sent = [entry for entry, _raw in late]

    async def auto_assign(self, out: Outbox, without: VolunteerId | None = None) -> None:
        """Push the most urgent waiting person to the on-duty volunteer with the most free capacity (on shift, not
        resting, not practising; `without`: who just handed someone back). Who that is is one question to Redis
        however many volunteers are on duty; the assignment is atomic, so one who filled up meanwhile is asked
        about again, never overfilled."""
        rota = await self._duty.rota() if self._duty else None
        shift = on_shift(rota, datetime.now(UTC)) if rota is not None else None
        capacities = {m.id: m.max_concurrent for m in self._roster.members}
        # A "full" answer means that volunteer filled up since they were named (a burst of arrivals asks at
        # once): ask again. Each such answer is a volunteer who is now full, so this ends; the bound covers
        # volunteers who free up and fill again meanwhile.
        for _attempt in range(len(capacities) + 3):
            volunteer = await self._availability.most_free(capacities, DEFAULT_MAX_CONCURRENT, shift, without)
            if volunteer is None:
                return
            member = self._roster.by_id(volunteer) or StaffMember(id=volunteer, name=volunteer)
            result = await self._assign(member, None)  # the person who fits them best (peer matching)
            if result.outcome == AssignOutcome.OK and result.conversation is not None:
                await self.connect(result.conversation, member, out)
                return
            if result.outcome == AssignOutcome.EMPTY:
                return

    async def _relay_to_person(self, conv: ConversationId, message: InboundMessage, out: Outbox) -> None:
        conversation = await self._store.get(conv)
        if conversation is None or conversation.state != ConversationState.ACTIVE:
            state = conversation.state if conversation else "expired"
            self._say(message, conv, f"This conversation is {state}; your message was not sent.", out)
            return
        member = self._roster.member(message.platform, message.sender)
        if member.id != conversation.volunteer:
            await self._whisper(member, conversation, message.text, out)
            return
        self._to_person(
            conversation, message.text, attachments=message.attachments, source_platform=message.platform, out=out
        )
        await self._store.staff_said(conv)  # the silence watch measures from here
        if conversation.first_reply_counted:
            return  # the record already says so: no round trip for every later reply
        waited = await self._store.first_reply(conv)  # once per assignment (atomic): "time to first reply" chart
        if waited is not None:
            await self._writer.audit("first_reply", conversation=conv, volunteer=conversation.volunteer or "",
                                     seconds=f"{waited:.3f}")  # fmt: skip

    async def _whisper(self, member: StaffMember, conversation: Conversation, words: str, out: Outbox) -> None:
        """Only the person's holder (their volunteer, or the professional or supervisor who took over) speaks to
        them. Anyone else's words in the thread stay with staff: a supervisor's "ask about sleep" must never
        reach a person in crisis. The author is told once per conversation; a holder who works in their private
        chat gets the words there (they are not reading the topic)."""
        await self._writer.audit("whisper", conversation=conversation.id, by=member.id)
        holder_chat = (
            await self._desk.chat_of(conversation.volunteer) if self._desk and conversation.volunteer else None
        )
        if holder_chat is not None and words:
            text = texts.DESK_WHISPER.format(author=member.name, text=words)
            out.add(self._platform, Audience.STAFF_DIRECT, texts.DESK_NOTICE.format(pseudonym=conversation.pseudonym,
                    text=text), chat=holder_chat, conversation=conversation.id)  # fmt: skip
        if await self._writer.first_notice(f"whisper:{conversation.id}:{member.id}", ttl=WHISPER_NOTICE_SECONDS):
            holder = self._roster.by_id(conversation.volunteer) if conversation.volunteer else None
            name = holder.name if holder else (conversation.volunteer or "their volunteer")
            self._thread(conversation, texts.WHISPER.format(author=member.name, holder=name), out)

    async def _end(
        self,
        member: StaffMember,
        conversation: Conversation,
        out: Outbox,
        *,
        argument: str = "",
        message: InboundMessage | None = None,
    ) -> None:
        high = conversation.tier >= RiskTier.HIGH
        if high and not member.has(Role.PROFESSIONAL) and message is not None:
            # Care around the end: not before a professional has the alert, unless the volunteer says why.
            word, _, why = argument.partition(" ")
            if not await self._escalations.acknowledged(conversation.id) and not (word == "confirm" and why.strip()):
                self._say(message, conversation.id, texts.END_NEEDS_ACK.format(tier=conversation.tier.label), out)
                return
            if word == "confirm":
                await self._writer.audit("ended_before_acknowledgement", conversation=conversation.id, by=member.id)
        await self._store.close(conversation.id)
        self._to_person(conversation, texts.ENDED_BY_VOLUNTEER, out=out)
        question = texts.FEEDBACK_QUESTION_CARE if high else texts.FEEDBACK_QUESTION
        self._to_person(conversation, question, buttons=feedback_buttons(conversation.id if high else None),
                        priority=Priority.BACKGROUND, out=out)  # fmt: skip
        self._thread(conversation, texts.CLOSED_NOTE.format(who=member.name), out)
        out.add(
            self._platform,
            Audience.STAFF_THREAD,
            kind=OutboundKind.CLOSE_THREAD,
            conversation=conversation.id,
            pseudonym=conversation.pseudonym,
        )
        await self._writer.audit("closed", conversation=conversation.id, by=member.id)
        log.info("conversation %s ended by volunteer %s", conversation.id, member.id)
        if conversation.tier >= RiskTier.HIGH:
            await self._after_hard_conversation(member, conversation, out)
        if self._auto_assign and conversation.tier < RiskTier.HIGH:  # after a hard one: the cool-down first
            await self.auto_assign(out)

    async def after_ending(self, conversation: Conversation, out: Outbox) -> None:
        """However a conversation that reached high risk ended (the person left, became unreachable, was
        blocked or fell silent, a professional took over), its volunteer gets the cool-down and the debrief;
        and capacity that freed up goes to the next person when assignment is automatic."""
        holder = self._roster.by_id(conversation.volunteer) if conversation.volunteer else None
        if holder is not None and conversation.tier >= RiskTier.HIGH:
            await self._after_hard_conversation(holder, conversation, out)
        if self._auto_assign:
            await self.auto_assign(out)

    async def nudge(self, conversation: Conversation, minutes: int, out: Outbox) -> None:
        """The person has waited `minutes` for their volunteer's reply."""
        text = texts.SILENCE_NUDGE.format(pseudonym=conversation.pseudonym, minutes=minutes)
        self._thread(conversation, text, out, priority=Priority.PERSON)
        await self._writer.audit("silence_nudged", conversation=conversation.id, volunteer=conversation.volunteer or "")

    async def release_for_silence(self, conversation: Conversation, minutes: int, out: Outbox) -> None:
        """Nobody answered the person for `minutes`: they go back to the front of the queue, with a note."""
        if conversation.volunteer is None or await self._store.release(conversation.id, conversation.volunteer) != "ok":
            return
        note = texts.SILENCE_NOTE.format(minutes=minutes)
        await self._store.add_note(conversation.id, note)
        self._thread(conversation, texts.SILENCE_RELEASED.format(minutes=minutes), out, priority=Priority.PERSON)
        self._to_person(conversation, texts.VOLUNTEER_LEFT, out=out)
        waiting = await self._store.get(conversation.id)
        if waiting is not None:
            self.queue_card(waiting, out)
        await self._writer.audit("released", conversation=conversation.id, by="silence")
        if self._auto_assign:
            await self.auto_assign(out, without=conversation.volunteer)

    async def close_for_silence(self, conversation: Conversation, hours: float, out: Outbox) -> None:
        """The person has not written for `hours`: the conversation ends kindly, the door left open."""
        if not await self._store.close(conversation.id):
            return
        self._to_person(conversation, texts.SILENCE_CLOSED, out=out)
        self._thread(conversation, texts.SILENCE_CLOSED_NOTE.format(hours=f"{hours:g}"), out)
        out.add(self._platform, Audience.STAFF_THREAD, kind=OutboundKind.CLOSE_THREAD, conversation=conversation.id,
                pseudonym=conversation.pseudonym)  # fmt: skip
        await self._writer.audit("closed", conversation=conversation.id, by="silence")
        await self.after_ending(conversation, out)

    async def _after_hard_conversation(self, member: StaffMember, conversation: Conversation, out: Outbox) -> None:
        """Wellbeing: a cool-down with no new assignments, a check-in, and a debrief request to supervisors."""
        if self._duty is not None:
            await self._duty.cool_down(member.id, self._cooldown_minutes)
        minutes = int(self._cooldown_minutes)
        self._thread(conversation, texts.CHECK_IN.format(minutes=minutes), out)
        supervisors = await self.supervisors_on_duty()
        who = f" Supervisors: {', '.join(supervisors)}." if supervisors else ""
        request = texts.DEBRIEF_REQUEST.format(
            volunteer=member.name, tier=conversation.tier.label, conversation=conversation.id, who=who
        )
        out.add(self._platform, Audience.STAFF_LOBBY, request, priority=Priority.STAFF)
        await self._writer.audit("cool_down", volunteer=member.id, minutes=str(minutes))

    async def _release(
        self, note: str, member: StaffMember, message: InboundMessage, conversation: Conversation, out: Outbox
    ) -> None:
        holder = conversation.volunteer or member.id
        if await self._store.release(conversation.id, holder) != "ok":
            self._thread(conversation, "This conversation could not be released; nothing was changed.", out)
            return
        if note:
            await self._store.add_note(conversation.id, note)
        released = texts.RELEASED_NOTE.format(volunteer=member.name, note=note or "(none)")
        self._thread(conversation, released, out)
        if message.origin == Origin.PRIVATE:  # no longer theirs, so the topic's copy no longer reaches them
            self._say(message, conversation.id, texts.DESK_NOTICE.format(pseudonym=conversation.pseudonym,
                      text=released), out)  # fmt: skip
        self._to_person(conversation, texts.VOLUNTEER_LEFT, out=out)
        waiting = await self._store.get(conversation.id)
        if waiting is not None:
            self.queue_card(waiting, out)
        await self._writer.audit("released", conversation=conversation.id, by=member.id)
        if self._auto_assign:  # someone else, never straight back to who handed them off
            await self.auto_assign(out, without=holder)

    async def _transfer(self, reference: str, message: InboundMessage, conversation: Conversation, out: Outbox) -> None:
        if not reference:
            text = texts.NEEDS_ARGUMENT.format(command="transfer", what="a volunteer", example="ana")
            self._say(message, conversation.id, text, out)
            return
        target = self._roster.resolve(reference)
        if target is None or conversation.volunteer is None:
            self._say(message, conversation.id, texts.UNKNOWN_VOLUNTEER.format(name=reference[:40]), out)
            return
        result = await self._store.transfer(conversation.id, conversation.volunteer, target.id, target.max_concurrent)
        if result == "full":
            self._say(message, conversation.id, texts.TRANSFER_FULL.format(name=target.name), out)
            return
        source = self._roster.by_id(conversation.volunteer)
        text = texts.TRANSFERRED_NOTE.format(
            source=source.name if source else conversation.volunteer, target=target.name
        )
        self._thread(conversation, text, out)
        if message.origin == Origin.PRIVATE:  # now the new holder's: the topic's copy goes to them
            self._say(message, conversation.id, texts.DESK_NOTICE.format(pseudonym=conversation.pseudonym,
                      text=text), out)  # fmt: skip
        await self._writer.audit("transferred", conversation=conversation.id, to=target.id)

    async def _escalate(
        self, argument: str, member: StaffMember, message: InboundMessage, conversation: Conversation, out: Outbox
    ) -> None:
        """A staff member escalates by hand: the person's words may carry no risk phrase at all, and the one
        reading them is the one who knows. The same chain as the detector's, marked as raised by staff; the
        person is sent nothing (the volunteer decides what to say)."""
        tier, category, reason = _escalation_words(argument)
        if tier < RiskTier.ELEVATED:
            self._say(message, conversation.id, texts.ESCALATE_USAGE, out)
            return
        if tier > conversation.tier:  # more than the detector saw: a miss it can learn from (counted, no text)
            await self._labels.missed(category.value if category else None, conversation.tier)
        if tier > conversation.tier:
            await self._store.raise_tier(conversation.id, tier)
        current = dataclasses.replace(conversation, tier=max(conversation.tier, tier))
        assessment = Assessment(tier, category)
        episode = await self._escalations.episode(conversation.id, out.entry_id) if tier >= RiskTier.HIGH else None
        if episode is not None:
            await self._escalations.update(episode, current, assessment, out, reason=reason, by=member.name)
        else:
            review = tier == RiskTier.ELEVATED
            await self._escalations.raise_(current, assessment, out, review=review, raised_by=member.id, reason=reason)
        said = texts.STAFF_ESCALATED.format(name=member.name, tier=tier.label)
        if conversation.state == ConversationState.WAITING:  # from the queue card: no topic yet, the card moves up
            out.add(self._platform, Audience.STAFF_LOBBY, f"{conversation.pseudonym}: {said}", priority=Priority.URGENT)
            self.queue_card(current, out)
        else:
            self._thread(conversation, said, out, priority=Priority.URGENT)
        if message.origin == Origin.PRIVATE and conversation.volunteer != member.id:
            self._say(message, conversation.id, said, out)
        await self._writer.audit("staff_escalated", conversation=conversation.id, by=member.id, tier=tier.label)

    async def _block(
        self, argument: str, member: StaffMember, message: InboundMessage, conversation: Conversation, out: Outbox
    ) -> None:
        """Pause an abusive person: the conversation ends, they are told kindly until when, and later messages
        are only screened for risk (a high-risk one still gets them help and pages the professional)."""
        words = argument.split(maxsplit=1)
        seconds = _duration(words[0]) if words else None
        reason = words[1].strip() if len(words) > 1 else ""
        if self._blocks is None or seconds is None or not reason:
            self._say(message, conversation.id, texts.BLOCK_USAGE, out)
            return
        if conversation.tier >= RiskTier.HIGH and not any(member.has(r) for r in _OVERSEERS):
            self._say(message, conversation.id, texts.BLOCK_NEEDS_OVERSEER, out)
            return
        person = await self._store.person_of(conversation.id)
        if person is None:
            self._say(message, conversation.id, "This conversation has expired.", out)
            return
        until = time.time() + seconds
        await self._blocks.add(Block(person, conversation.pseudonym, conversation.id, until, member.id, reason))
        await self._store.close(conversation.id)
        when = datetime.fromtimestamp(until, UTC).strftime("%d %b %H:%M")
        self._to_person(conversation, texts.BLOCKED_PERSON.format(until=when), out=out)
        note = texts.BLOCKED_NOTE.format(
            name=member.name, pseudonym=conversation.pseudonym, duration=words[0], reason=reason
        )
        self._thread(conversation, note, out)
        out.add(self._platform, Audience.STAFF_THREAD, kind=OutboundKind.CLOSE_THREAD, conversation=conversation.id,
                pseudonym=conversation.pseudonym)  # fmt: skip
        await self._writer.audit("blocked", conversation=conversation.id, by=member.id, seconds=str(seconds))
        await self.after_ending(conversation, out)

    async def _unblock(self, member: StaffMember, conv: ConversationId, *, in_thread: bool = False) -> str:
        """Lift a block: in the conversation's thread by anyone on staff, elsewhere by id for overseers."""
        if not in_thread and not any(member.has(r) for r in _OVERSEERS):
            return texts.TAKEOVER_REFUSED.replace("take over a conversation", "lift a block from here")
        person = await self._store.person_of(conv) if conv else None
        block = await self._blocks.of(person) if self._blocks and person else None
        if self._blocks is None or person is None or block is None:
            return texts.NOT_BLOCKED
        await self._blocks.lift(person)
        await self._writer.audit("unblocked", conversation=conv, by=member.id)
        return texts.UNBLOCKED.format(pseudonym=block.pseudonym)

    async def _list_blocks(self, member: StaffMember) -> str:
        if not any(member.has(r) for r in _OVERSEERS):
            return texts.TAKEOVER_REFUSED.replace("take over a conversation", "list blocks")
        blocks = await self._blocks.active() if self._blocks else []
        if not blocks:
            return texts.BLOCKS_NONE
        lines = [
            f"{b.pseudonym} ({b.conversation}) until {datetime.fromtimestamp(b.until, UTC):%d %b %H:%M} UTC, by {b.by}"
            for b in blocks
        ]
        return texts.BLOCKS_LIST.format(lines="\n".join(lines))

    async def _note(self, note: str, message: InboundMessage, conversation: Conversation, out: Outbox) -> None:
        if not note:
            text = texts.NEEDS_ARGUMENT.format(command="note", what="some text", example="prefers short messages")
            self._say(message, conversation.id, text, out)
            return
        await self._store.add_note(conversation.id, note)
        self._say(message, conversation.id, texts.NOTE_SAVED.format(note=note), out)

    async def _ack(
        self, argument: str, member: StaffMember, message: InboundMessage, conv: ConversationId | None, out: Outbox
    ) -> None:
        if not argument:
            self._say(
                message, conv, texts.NEEDS_ARGUMENT.format(command="ack", what="an escalation id", example="e-1"), out
            )
            return
        said = await self._escalations.acknowledge(EscalationId(argument.split()[0]), member.id, member.name, out)
        if message.origin == Origin.PRIVATE:  # from a private alert: answered there too
            self._say(message, conv, said, out)

    async def _false_alarm(
        self, argument: str, member: StaffMember, message: InboundMessage, conv: ConversationId | None, out: Outbox
    ) -> None:
        """A professional, supervisor or coordinator says the detector's alert was wrong (a joke, a quote, a
        lyric): it is acknowledged like any other (the chain stops, the record stays), and its category is
        counted so a coordinator sees what the detector gets wrong (docs/risk.md)."""
        if not any(member.has(r) for r in _OVERSEERS):
            self._say(message, conv, texts.FALSE_ALARM_REFUSED, out)
            return
        esc_id = EscalationId(argument.split()[0]) if argument else None
        esc = await self._escalations.get(esc_id) if esc_id else None
        if esc is None or esc_id is None:
            text = texts.NEEDS_ARGUMENT.format(command="falsealarm", what="an escalation id", example="e-1")
            self._say(message, conv, text, out)
            return
        said = await self._escalations.acknowledge(esc_id, member.id, member.name, out)
        if esc.raised_by is None and esc.acknowledged_by is None:  # the detector's, and not answered before
            await self._labels.false_alarm(esc.category.value if esc.category else None)
            await self._writer.audit("escalation_false_alarm", escalation=esc_id, by=member.id)
        if message.origin == Origin.PRIVATE:
            self._say(message, conv, said, out)

    async def _take_over(
        self, argument: str, member: StaffMember, message: InboundMessage, conv: ConversationId | None, out: Outbox
    ) -> None:
        """A professional (or supervisor) takes the conversation from the queue or from its volunteer."""
        if not (member.has(Role.PROFESSIONAL) or member.has(Role.SUPERVISOR)):
            self._say(message, conv, texts.TAKEOVER_REFUSED, out)
            return
        esc = EscalationId(argument.split()[0]) if argument else None
        target = conv or (await self._escalations.conversation_of(esc) if esc else None)
        conversation = await self._store.get(target) if target else None
        if conversation is None or conversation.state == ConversationState.CLOSED:
            self._say(message, conv, "There is no open conversation to take over.", out)
            return
        if esc is not None:
            await self._escalations.acknowledge(esc, member.id, member.name, out, taking_over=True)
        if conversation.state == ConversationState.WAITING:
            await self._store.assign(member.id, OVERRIDE_CAPACITY, conversation.id)
            await self.connect(conversation.id, member, out)
        elif conversation.volunteer and conversation.volunteer != member.id:
            await self._store.transfer(conversation.id, conversation.volunteer, member.id, OVERRIDE_CAPACITY)
            self._thread(conversation, texts.TAKEN_OVER.format(name=member.name), out)
            await self.after_ending(conversation, out)  # the volunteer's part ended: their cool-down
        self._to_person(conversation, texts.PROFESSIONAL_JOINED, priority=Priority.URGENT, out=out)
        await self._writer.audit("taken_over", conversation=conversation.id, by=member.id)

    async def _dashboard_link(
        self, member: StaffMember, message: InboundMessage, conv: ConversationId | None, out: Outbox
    ) -> None:
        """A one-time sign-in link, sent privately: a link must never appear in a group."""
        if self._links is None:
            self._say(message, conv, texts.DASHBOARD_OFF, out)
            return
        url = await self._links.issue(member.id, member.roles)
        link = texts.DASHBOARD_LINK.format(url=url)
        out.add(message.platform, Audience.STAFF_DIRECT, link, chat=ChatId(message.sender), priority=Priority.STAFF)
        self._say(message, conv, texts.DASHBOARD_SENT, out)

    async def supervisors_on_duty(self) -> list[str]:
        """Supervisors on shift now under the live rota; all supervisors when none is (or no rota exists)."""
        supervisors = [m for m in self._roster.members if m.has(Role.SUPERVISOR)]
        rota = await self._duty.rota() if self._duty else None
        if rota is not None:
            on = on_shift(rota, datetime.now(UTC))
            on_shift_now = [m for m in supervisors if m.id in on]
            supervisors = on_shift_now or supervisors
        return [m.name for m in supervisors]

    async def _rota_command(self, command: RotaCommand | CommandError, member: StaffMember) -> str:
        """Coordinator commands (/rota, /shift, /cover, /capacity, /oncall, /volunteer, /absence)."""
        if isinstance(command, CommandError):
            return command.message
        refused = refusal(member, command)
        if refused is not None:
            return refused
        if self._rotas is None:
            return "The rota is not available in this deployment."
        if not is_change(command):
            stored = await self._rotas.load()
            if stored is None:
                return "No rota has been imported yet: peerbridge rota import config/rota.toml"
            return render_view(stored.rota, command, datetime.now(UTC))  # type: ignore[arg-type]
        try:
            await self._rotas.apply(command, by=member.id)  # type: ignore[arg-type]
        except RotaError as exc:
            return f"Nothing was changed: {exc}"
        return describe_change(command)  # type: ignore[arg-type]

    def queue_card(self, conversation: Conversation, out: Outbox) -> None:
        """Create or refresh the queue card of a waiting conversation, with a Take button."""
        since = dt.datetime.fromtimestamp(conversation.arrival, dt.UTC).strftime("%H:%M UTC")
        text = texts.CARD.format(pseudonym=conversation.pseudonym, tier=conversation.tier.label, since=since)
        take = Button("Take", f"take {conversation.id}")
        self._card(conversation, text, out, buttons=(take, Button("Escalate", f"escalate high {conversation.id}")))

    def _to_person(
        self,
        conversation: Conversation,
        text: str,
        *,
        out: Outbox,
        priority: Priority = Priority.PERSON,
        attachments: tuple[Attachment, ...] = (),
        source_platform: Platform | None = None,
        buttons: tuple[Button, ...] = (),
    ) -> None:
        """Say something to the person of `conversation` in their private chat."""
        out.add(
            conversation.platform, Audience.SEEKER, text, chat=conversation.chat, conversation=conversation.id,
            attachments=attachments, source_platform=source_platform, buttons=buttons, priority=priority,
        )  # fmt: skip

    def _card(self, conversation: Conversation, text: str, out: Outbox, buttons: tuple[Button, ...] = ()) -> None:
        """Create or edit the conversation's queue card (no buttons: the card can no longer be taken)."""
        out.add(
            self._platform, Audience.STAFF_QUEUE, text, kind=OutboundKind.UPSERT_CARD, conversation=conversation.id,
            pseudonym=conversation.pseudonym, buttons=buttons, priority=Priority.BACKGROUND,
        )  # fmt: skip

    def _thread(
        self,
        conversation: Conversation,
        text: str,
        out: Outbox,
        relayed: InboundMessage | None = None,
        priority: Priority = Priority.STAFF,
    ) -> None:
        out.add(
            self._platform,
            Audience.STAFF_THREAD,
            text,
            conversation=conversation.id,
            pseudonym=conversation.pseudonym,
            attachments=relayed.attachments if relayed else (),
            source_platform=relayed.platform if relayed else None,
            priority=priority,
        )

    def _say(self, message: InboundMessage, conv: ConversationId | None, text: str, out: Outbox) -> None:
        """Answer staff where they wrote: their private chat, the escalation chat, the conversation's thread, or
        the lobby."""
        if message.origin == Origin.PRIVATE:
            out.add(self._platform, Audience.STAFF_DIRECT, text, chat=message.chat, conversation=conv)
        elif message.origin == Origin.ESCALATION:
            out.add(self._platform, Audience.ESCALATION, text, priority=Priority.URGENT)
        elif conv is not None:
            out.add(self._platform, Audience.STAFF_THREAD, text, conversation=conv)
        else:
            out.add(self._platform, Audience.STAFF_LOBBY, text)


def _named_conversation(argument: str) -> ConversationId | None:
    """The conversation id a command's last word names ("high c-12"), if it does."""
    last = argument.rsplit(" ", 1)[-1]
    return ConversationId(last) if last.startswith("c-") and last[2:].isdigit() else None


def _duration(word: str) -> int | None:
    """Seconds in "30m", "12h", "7d" (a bare number is hours); None when it is not a duration in range."""
    unit = word[-1:].lower()
    number = word[:-1] if unit in ("m", "h", "d") else word
    if not number.isdigit():
        return None
    seconds = int(number) * {"m": 60, "h": 3600, "d": 86400}.get(unit, 3600)
    return seconds if 0 < seconds <= MAX_BLOCK_SECONDS else None


def _action(message: InboundMessage) -> ParsedCommand | None:
    """A button's action data ("take c-12", "ack e-3") as a command."""
    name, _, argument = message.text.strip().partition(" ")
    return ParsedCommand(name=name.lower(), argument=argument.strip()) if name else None


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
