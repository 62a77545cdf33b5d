"""Where everything staff write arrives: a command, a button, or words in a conversation's thread (or, with
staff.workspace = "private", in their private chat). Each is handed to the part that owns it; `_dispatch`
and `_in_thread` are the map from a command to its handler."""

from __future__ import annotations

from routing import texts
from routing.commands import ParsedCommand, StaffCommand, parse_command, staff_command
from routing.live_roster import LiveRoster
from routing.model import (
    Audience,
    ChatId,
    ConversationId,
    ConversationState,
    InboundKind,
    InboundMessage,
    Origin,
    Priority,
)
from routing.outbox import Outbox
from routing.roster import StaffMember
from routing.staff import StaffActions
from routing.staff.supervision import oversees
from routing.staff.voice import StaffVoice
from routing.store.conversations import ConversationStore
from routing.store.dashboard_access import SignInLinks
from routing.training import is_training_session
from routing.training.desk import TrainingDesk
from routing.workspace import DeskTarget

_HELP = (
    "Staff commands: /next (take the most urgent person), /end, /release <handover note>, "
    "/transfer <volunteer>, /note <text> (staff only), /escalate [high|imminent|elevated] [category] [why] (page "
    "the on-call professional), /on and /off (available for automatic assignment), /ack <escalation id>, "
    "/falsealarm <escalation id> (professionals, supervisors, coordinators), /share [coping text] (a preview, then "
    "Send)."
)
_NEEDS_THREAD = {
    StaffCommand.END, StaffCommand.RELEASE, StaffCommand.TRANSFER, StaffCommand.NOTE, StaffCommand.ESCALATE,
    StaffCommand.BLOCK, StaffCommand.SHARE,
}  # fmt: skip


class StaffCommands:
    """Reads what staff wrote in the workspace or the escalation chat and hands it to `actions`."""

    def __init__(
        self,
        voice: StaffVoice,
        conversations: ConversationStore,
        roster: LiveRoster,
        actions: StaffActions,
        training: TrainingDesk | None = None,
        links: SignInLinks | None = None,
    ) -> None:
        self._voice = voice
        self._store = conversations
        self._roster = roster
        self._actions = actions
        self._training = training
        self._links = links

    async def from_desk(self, message: InboundMessage, target: DeskTarget, out: Outbox) -> None:
        """A staff member's message in their private chat with the bot (staff.workspace = "private"): like one
        in the conversation's topic. Words that could reach the wrong person are refused, never guessed."""
        parsed = parse_command(message.text) if message.kind == InboundKind.MESSAGE else None
        if parsed is not None and parsed.name == "start":  # Telegram's Start button, pressed once to open the chat
            self._voice.answer(message, None, texts.staff(texts.DESK_WELCOME), out)
            return
        plain = message.kind == InboundKind.MESSAGE and parsed is None
        if plain and target.conversation is None:
            if target.held:
                names = [c.pseudonym for c in [await self._store.get(conv) for conv in target.held] if c is not None]
                which = texts.staff(texts.DESK_WHICH, count=len(target.held), names=", ".join(names))
                self._voice.answer(message, None, which, out)
            else:
                self._voice.answer(message, None, texts.staff(texts.DESK_NONE), out)
            return
        await self.handle(message, out, desk_conversation=target.conversation)

    async def handle(
        self, message: InboundMessage, out: Outbox, *, desk_conversation: ConversationId | None = None
    ) -> None:
        """A message or button in the staff workspace; `desk_conversation`: the one a private-chat message is for."""
        roster = await self._roster.current()
        member = roster.member(message.platform, message.sender)
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
                await self._actions.relay.to_person(conv, member, message, out)
            return
        rota_answer = await self._actions.shifts.rota_command(parsed, member)
        if rota_answer is not None:
            self._voice.answer(message, conv, rota_answer, out)
            return
        command = staff_command(parsed)
        if command == StaffCommand.ESCALATE and conv is None and (named := _named_conversation(parsed.argument)):
            # The Escalate button on a queue card in the lobby names the person waiting: "escalate high c-12".
            conv, parsed = named, ParsedCommand(parsed.name, parsed.argument.rsplit(" ", 1)[0])
        if command is None:
            self._voice.answer(message, conv, texts.staff(texts.UNKNOWN_COMMAND, name=parsed.name), out)
        elif command in _NEEDS_THREAD and conv is None:
            where = texts.DESK_PICK if message.origin == Origin.PRIVATE else texts.NOT_IN_THREAD
            self._voice.answer(message, conv, texts.staff(where, command=command.value), out)
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
        """Commands that work anywhere; those about one conversation go on to `_in_thread`."""
        act = self._actions
        if command in (StaffCommand.NEXT, StaffCommand.TAKE):
            target = ConversationId(argument) if command == StaffCommand.TAKE and argument else None
            await act.assignments.take(member, target, message, conv, out)
        elif command == StaffCommand.ACK:
            await act.supervision.acknowledge(argument, member, message, conv, out)
        elif command == StaffCommand.TAKEOVER:
            await act.supervision.take_over(argument, member, message, conv, out)
        elif command == StaffCommand.FALSE_ALARM:
            await act.supervision.false_alarm(argument, member, message, conv, out)
        elif command == StaffCommand.HELP:
            self._voice.answer(message, conv, _HELP, out)
        elif command in (StaffCommand.ON, StaffCommand.OFF):
            await act.shifts.check_in(command == StaffCommand.ON, member, message, conv, out)
        elif command == StaffCommand.TRAIN:
            roster = await self._roster.current()
            answer = await self._training.start(argument, member, roster, out) if self._training else None
            self._voice.answer(message, conv, answer or texts.staff(texts.TRAIN_OFF), out)
        elif command == StaffCommand.DASHBOARD:
            await self._dashboard_link(member, message, conv, out)
        elif command == StaffCommand.BLOCKS:
            self._voice.answer(message, conv, await act.blocks.in_force(member), out)
        elif command == StaffCommand.UNBLOCK and (argument or conv is None):
            named = ConversationId(argument.split()[0] if argument else "")
            self._voice.answer(message, conv, await act.blocks.unblock(member, named), out)
        elif command == StaffCommand.BREAK:
            await act.shifts.take_break(argument, member, message, conv, out)
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
        """Commands about the conversation of the thread (or of the private-chat message)."""
        act = self._actions
        conversation = await self._store.get(conv)
        if conversation is None:
            self._voice.answer(message, conv, "This conversation has expired.", out)
        elif command == StaffCommand.NOTE:
            await act.relay.note(argument, member, message, conversation, out)
        elif command == StaffCommand.ESCALATE:  # anyone on the staff side: safety is never the holder's alone
            await act.supervision.escalate(argument, member, message, conversation, out)
        elif command == StaffCommand.UNBLOCK:
            self._voice.answer(message, conv, await act.blocks.unblock(member, conversation.id, in_thread=True), out)
        elif command == StaffCommand.SHARE:  # anyone may preview; only the holder's Send reaches the person
            await act.sharing.share(argument, member, message, conversation, out)
        elif conversation.state != ConversationState.ACTIVE:
            self._voice.answer(message, conv, texts.staff(texts.NOT_CHANGED_STATE, state=conversation.state), out)
        elif conversation.volunteer != member.id and not oversees(member):
            self._voice.answer(message, conv, texts.staff(texts.NOT_YOURS, volunteer=conversation.volunteer), out)
        elif command == StaffCommand.PLAN:
            if conversation.volunteer != member.id or act.plans is None:  # words to the person: only their own
                self._voice.answer(message, conv, texts.staff(texts.PLAN_NOT_YOURS), out)
            else:
                await act.plans.offer(conversation, out)
        elif command == StaffCommand.END:
            await act.endings.end(argument, member, message, conversation, out)
        elif command == StaffCommand.BLOCK:
            await act.blocks.block(argument, member, message, conversation, out)
        elif command == StaffCommand.RELEASE:
            await act.assignments.release(argument, member, message, conversation, out)
        else:
            await act.assignments.transfer(argument, message, conversation, out)

    async def _dashboard_link(
        self, member: StaffMember, message: InboundMessage, conv: ConversationId | None, out: Outbox
    ) -> None:
        """/dashboard: a one-time sign-in link, sent privately: a link must never appear in a group."""
        if self._links is None:
            self._voice.answer(message, conv, texts.staff(texts.DASHBOARD_OFF), out)
            return
        url = await self._links.issue(member.id, member.roles)
        link = texts.staff(texts.DASHBOARD_LINK, url=url)
        out.add(message.platform, Audience.STAFF_DIRECT, link, chat=ChatId(message.sender), priority=Priority.STAFF)
        self._voice.answer(message, conv, texts.staff(texts.DASHBOARD_SENT), out)


def _named_conversation(argument: str) -> ConversationId | None:
    """The conversation id a command's last word names ("high c-12"), if it does."""
    last = argument.rsplit(" ", 1)[-1]
    return ConversationId(last) if last.startswith("c-") and last[2:].isdigit() else None


def _action(message: InboundMessage) -> ParsedCommand | None:
    """A button's action data ("take c-12", "ack e-3") as a command."""
    name, _, argument = message.text.strip().partition(" ")
    return ParsedCommand(name=name.lower(), argument=argument.strip()) if name else None
