"""Coordinator commands in the staff workspace: parsing into typed changes, and who may run them (pure).

```
/rota [YYYY-MM-DD]                                     today's and tomorrow's coverage with gaps
/shift add|remove <volunteer> <day> <HH:MM-HH:MM>      a weekly shift
/cover [remove] <volunteer> <YYYY-MM-DD> <HH:MM-HH:MM> one-off cover
/absence add|remove <volunteer> <YYYY-MM-DD>[..<YYYY-MM-DD>]
/capacity <volunteer> <n>                              conversations at once
/oncall [show]                                         who is on call, the week's blocks and gaps
/oncall set <professional> <day> <HH:MM-HH:MM> [backup]
/volunteer add <id> [name] | remove <id>
```
Parsing never raises: any text gives a command, a `CommandError` with a precise message, or None when the
text is not a rota command. Rules that need the rota (unknown volunteer, overlaps, roles) are checked by
`apply_change`. Only coordinators may change things (`refusal`); anyone on the staff side may look.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from routing.commands import parse_command
from routing.i18n import S_
from routing.model import VolunteerId
from routing.roster import MAX_CONCURRENT_LIMIT, StaffMember
from routing.rota.changes import (
    AddAbsence,
    AddCover,
    AddShift,
    AddVolunteer,
    RemoveAbsence,
    RemoveCover,
    RemoveShift,
    RemoveVolunteer,
    RotaChange,
    SetCapacity,
    SetOnCall,
)
from routing.rota.model import (
    Absence,
    Cover,
    OnCallBlock,
    Rota,
    RotaError,
    Shift,
    TimeRange,
    Weekday,
    can_change_rota,
    parse_date,
)
from routing.rota.render import render_oncall, render_rota
from routing.rota.words import say

MAX_NAME_LENGTH = 64
_VOLUNTEER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_SPACED_RANGE = re.compile(r"([0-9]{1,2}:[0-9]{2})\s*[-–]\s*([0-9]{1,2}:[0-9]{2})")
_NUMBER = re.compile(r"[0-9]{1,6}")

# How to write each command, in the staff language when said (`usage`); the commands and the words typed in them
# (add|remove, show, set, HH:MM, YYYY-MM-DD) stay as typed, the <parts> to fill in are translated.
USAGE = {
    "rota": S_("/rota [YYYY-MM-DD]"),
    "shift": S_("/shift add|remove <volunteer> <day> <HH:MM-HH:MM>, e.g. /shift add ana mon 09:00-17:00"),
    "cover": S_("/cover [remove] <volunteer> <YYYY-MM-DD> <HH:MM-HH:MM>, e.g. /cover ana 2025-03-31 18:00-22:00"),
    "absence": S_(
        "/absence add|remove <volunteer> <YYYY-MM-DD>[..<YYYY-MM-DD>], e.g. /absence add ana 2025-04-01..2025-04-07"
    ),
    "capacity": S_("/capacity <volunteer> <n>, n from 0 to {limit}, e.g. /capacity ana 2"),
    "oncall": S_("/oncall [show] or /oncall set <professional> <day> <HH:MM-HH:MM> [backup]"),
    "volunteer": S_("/volunteer add <id> [name] or /volunteer remove <id>"),
}
ROTA_COMMAND_NAMES = frozenset(USAGE)


def usage(name: str) -> str:
    """How to write the rota command `name` ("shift"), in the staff language."""
    return say(USAGE[name], limit=MAX_CONCURRENT_LIMIT)


@dataclass(frozen=True, slots=True)
class ShowRota:
    """`/rota`: coverage of `day` (default today) and the day after."""

    day: date | None = None


@dataclass(frozen=True, slots=True)
class ShowOnCall:
    """`/oncall` or `/oncall show`."""


@dataclass(frozen=True, slots=True)
class CommandError:
    """What was wrong with a command, ready to send back to the person who typed it."""

    message: str


RotaView = ShowRota | ShowOnCall
RotaCommand = RotaView | RotaChange


def parse_rota_command(text: str) -> RotaCommand | CommandError | None:
    """Parse a whole message ("/shift add ana mon 09:00-17:00"); None if it is not a rota command."""
    parsed = parse_command(text)
    if parsed is None:
        return None
    return parse_rota_arguments(parsed.name, parsed.argument)


def parse_rota_arguments(name: str, argument: str) -> RotaCommand | CommandError | None:
    """Parse a rota command already split into its word and the rest; None if `name` is not one."""
    if name not in ROTA_COMMAND_NAMES:
        return None
    words = _SPACED_RANGE.sub(r"\1-\2", argument).split()
    try:
        return _PARSERS[name](words)
    except RotaError as exc:
        return CommandError(say(S_("{problem} (usage: {usage})"), problem=exc, usage=usage(name)))


def is_change(command: RotaCommand) -> bool:
    return not isinstance(command, ShowRota | ShowOnCall)


def refusal(member: StaffMember, command: RotaCommand) -> str | None:
    """Why `member` may not run `command`, or None if they may: rota commands are for coordinators only."""
    if not can_change_rota(member):
        return say(S_("Only coordinators can use the rota commands; please ask a coordinator."))
    return None


def render_view(rota: Rota, command: RotaView, now: datetime) -> str:
    """The answer to `/rota` or `/oncall` (`now` aware)."""
    if isinstance(command, ShowOnCall):
        return render_oncall(rota, now)
    return render_rota(rota, now, command.day)


def _usage(name: str) -> RotaError:
    return RotaError(say(S_("the command is incomplete or has extra words; write it as {usage}"), usage=usage(name)))


def _rota(words: list[str]) -> RotaCommand:
    if not words:
        return ShowRota()
    if len(words) == 1:
        return ShowRota(parse_date(words[0]))
    raise _usage("rota")


def _shift(words: list[str]) -> RotaCommand:
    if len(words) != 4 or words[0].lower() not in ("add", "remove"):
        raise _usage("shift")
    shift = Shift(_volunteer(words[1]), Weekday.parse(words[2]), TimeRange.parse(words[3]))
    return AddShift(shift) if words[0].lower() == "add" else RemoveShift(shift)


def _cover(words: list[str]) -> RotaCommand:
    remove = len(words) == 4 and words[0].lower() == "remove"
    rest = words[1:] if remove else words
    if len(rest) != 3:
        raise _usage("cover")
    cover = Cover(_volunteer(rest[0]), parse_date(rest[1]), TimeRange.parse(rest[2]))
    return RemoveCover(cover) if remove else AddCover(cover)


def _absence(words: list[str]) -> RotaCommand:
    if len(words) not in (3, 4) or words[0].lower() not in ("add", "remove"):
        raise _usage("absence")
    first_text, _, last_text = words[2].partition("..")
    if len(words) == 4:
        if last_text:
            raise _usage("absence")
        last_text = words[3]
    first = parse_date(first_text)
    last = parse_date(last_text) if last_text else first
    if last < first:
        raise RotaError(say(S_("the absence ends ({last}) before it starts ({first})"), last=last, first=first))
    absence = Absence(_volunteer(words[1]), first, last)
    return AddAbsence(absence) if words[0].lower() == "add" else RemoveAbsence(absence)


def _capacity(words: list[str]) -> RotaCommand:
    if len(words) != 2:
        raise _usage("capacity")
    if not _NUMBER.fullmatch(words[1]) or int(words[1]) > MAX_CONCURRENT_LIMIT:
        raise RotaError(
            say(
                S_("{text!r} is not a capacity: it must be a whole number from 0 to {limit}"),
                text=words[1],
                limit=MAX_CONCURRENT_LIMIT,
            )
        )
    return SetCapacity(_volunteer(words[0]), int(words[1]))


def _oncall(words: list[str]) -> RotaCommand:
    if not words or (len(words) == 1 and words[0].lower() == "show"):
        return ShowOnCall()
    if words[0].lower() != "set" or len(words) not in (4, 5):
        raise _usage("oncall")
    backup = _volunteer(words[4]) if len(words) == 5 else None
    return SetOnCall(OnCallBlock(_volunteer(words[1]), Weekday.parse(words[2]), TimeRange.parse(words[3]), backup))


def _volunteer_command(words: list[str]) -> RotaCommand:
    action = words[0].lower() if words else ""
    if action == "remove" and len(words) == 2:
        return RemoveVolunteer(_volunteer(words[1]))
    if action != "add" or len(words) < 2:
        raise _usage("volunteer")
    if not _VOLUNTEER_ID.fullmatch(words[1]):
        raise RotaError(
            say(
                S_(
                    "{text!r} cannot be an id: use up to 32 letters, digits, dots, dashes or underscores, "
                    "starting with a letter or digit"
                ),
                text=words[1],
            )
        )
    name = " ".join(words[2:])
    if len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise RotaError(say(S_("the name must be printable and at most {limit} characters"), limit=MAX_NAME_LENGTH))
    return AddVolunteer(VolunteerId(words[1]), name or words[1])


def _volunteer(word: str) -> VolunteerId:
    """A reference to someone as typed; whether they exist is checked against the rota later."""
    cleaned = word.lstrip("@")
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise RotaError(say(S_("{text!r} is not a volunteer id"), text=word))
    return VolunteerId(cleaned)


_PARSERS = {
    "rota": _rota,
    "shift": _shift,
    "cover": _cover,
    "absence": _absence,
    "capacity": _capacity,
    "oncall": _oncall,
    "volunteer": _volunteer_command,
}
