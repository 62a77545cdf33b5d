"""A staff member's own shift: /on and /off (available for automatic assignment), /break, and the coordinators'
rota commands (/rota, /shift, /cover, /capacity, /oncall, /volunteer, /absence)."""

from __future__ import annotations

from datetime import UTC, datetime

from routing import texts
from routing.commands import ParsedCommand
from routing.model import ConversationId, InboundMessage
from routing.outbox import Outbox
from routing.roster import StaffMember
from routing.rota import RotaError
from routing.rota.changes import describe_change
from routing.rota.commands import CommandError, RotaCommand, is_change, parse_rota_arguments, refusal, render_view
from routing.rota.words import NO_ROTA_YET, ROTA_UNAVAILABLE, say
from routing.staff.assignment import Assignments
from routing.staff.voice import StaffVoice
from routing.store.conversations import ConversationStore
from routing.store.duty import DutyRoster
from routing.store.rota_store import RotaStore


class Shifts:
    """Check-ins, breaks and the live rota, as staff change them from chat."""

    def __init__(
        self,
        voice: StaffVoice,
        conversations: ConversationStore,
        assignments: Assignments,
        duty: DutyRoster | None = None,
        rotas: RotaStore | None = None,
    ) -> None:
        self._voice = voice
        self._store = conversations
        self._assignments = assignments
        self._duty = duty
        self._rotas = rotas

    async def check_in(
        self, on: bool, member: StaffMember, message: InboundMessage, conv: ConversationId | None, out: Outbox
    ) -> None:
        """/on (`on`) or /off: on duty for automatic assignment, or not; either ends a break."""
        await self._store.set_on_duty(member.id, on)
        if self._duty is not None:
            await self._duty.end_break(member.id)
        answer = texts.staff(texts.CHECKED_IN if on else texts.OFF_DUTY, name=member.name)
        self._voice.answer(message, conv, answer, out)
        if on:  # capacity appeared: someone may be waiting
            await self._assignments.assign_if_automatic(out)

    async def take_break(
        self, argument: str, member: StaffMember, message: InboundMessage, conv: ConversationId | None, out: Outbox
    ) -> None:
        """/break [minutes]: no automatic assignment for a while (15 minutes unless said, at most 240)."""
        minutes = int(argument) if argument.isdigit() and 0 < int(argument) <= 240 else 15
        if self._duty is not None:
            await self._duty.take_break(member.id, minutes)
        self._voice.answer(message, conv, texts.staff(texts.ON_BREAK, name=member.name, minutes=minutes), out)

    async def rota_command(self, parsed: ParsedCommand, member: StaffMember) -> str | None:
        """The answer to a rota command, or None when `parsed` is not one."""
        command = parse_rota_arguments(parsed.name, parsed.argument)
        return None if command is None else await self._rota(command, member)

    async def _rota(self, command: RotaCommand | CommandError, member: StaffMember) -> str:
        if isinstance(command, CommandError):
            return command.message
        refused = refusal(member, command)
        if refused is not None:
            return refused
        if self._rotas is None:
            return say(ROTA_UNAVAILABLE)
        if not is_change(command):
            stored = await self._rotas.load()
            if stored is None:
                return say(NO_ROTA_YET, command="peerbridge rota import config/rota.toml")
            return render_view(stored.rota, command, datetime.now(UTC))  # type: ignore[arg-type]
        try:
            await self._rotas.apply(command, by=member.id)  # type: ignore[arg-type]
        except RotaError as exc:
            return texts.staff(texts.NOTHING_CHANGED, problem=exc)
        return describe_change(command)  # type: ignore[arg-type]
