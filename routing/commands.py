"""Parsing of chat commands, for people and for staff (pure).

Commands start with "/" (Telegram, Discord slash commands as normalised by the adapter) or "!" (Discord's text
fallback). Telegram appends "@botname" in groups ("/next@peerbridge_bot"); that suffix is dropped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

_PREFIXES = ("/", "!")
MAX_COMMAND_LENGTH = 32


class SeekerCommand(enum.StrEnum):
    """What a person can ask for in their private chat."""

    START = "start"
    STOP = "stop"
    PRIVACY = "privacy"
    FORGET = "forget"
    HELP = "help"
    LANGUAGE = "language"
    PLAN = "plan"  # build a safety plan with their volunteer (routing/plan_flow.py)
    MYPLAN = "myplan"  # their safety plan again


class StaffCommand(enum.StrEnum):
    """What staff can do in the workspace."""

    NEXT = "next"
    TAKE = "take"
    END = "end"
    RELEASE = "release"
    TRANSFER = "transfer"
    NOTE = "note"
    ACK = "ack"
    TAKEOVER = "takeover"
    FALSE_ALARM = "falsealarm"  # /falsealarm <escalation id>: overseers acknowledge an alert that was wrong
    ON = "on"
    OFF = "off"
    BREAK = "break"
    DASHBOARD = "dashboard"
    TRAIN = "train"  # coordinators: /train <volunteer> <scenario> starts a practice session
    ESCALATE = "escalate"  # /escalate [tier] [why]: page the on-call professional by hand
    BLOCK = "block"  # /block <duration> <reason>: pause an abusive person (never their safety)
    UNBLOCK = "unblock"  # in the thread, or /unblock <conversation id> for coordinators
    BLOCKS = "blocks"  # coordinators: the blocks in force
    SHARE = "share"  # /share [name]: a coping text for the person, previewed in the thread before it is sent
    HELP = "help"
    PLAN = "plan"  # offer the person a safety plan (the holder only)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """A command word and the rest of the line (stripped)."""

    name: str
    argument: str


def parse_command(text: str) -> ParsedCommand | None:
    """Return the command in `text`, or None when the text is not a command at all.

    A lone "/" or "!" or a prefix followed by a space is ordinary text ("! I need help" is not a command).
    """
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] not in _PREFIXES or not stripped[1].isalpha():
        return None
    parts = stripped[1:].split(maxsplit=1)  # any whitespace: "/next\tnow", "/note\nline two"
    word, rest = parts[0], parts[1] if len(parts) > 1 else ""
    word = word.split("@", 1)[0].lower()
    if len(word) > MAX_COMMAND_LENGTH:
        word = word[:MAX_COMMAND_LENGTH]
    return ParsedCommand(name=word, argument=rest.strip())


def seeker_command(parsed: ParsedCommand) -> SeekerCommand | None:
    """The person-side command, or None if the word is not one (it is then relayed as ordinary text)."""
    try:
        return SeekerCommand(parsed.name)
    except ValueError:
        return None


def staff_command(parsed: ParsedCommand) -> StaffCommand | None:
    """The staff-side command, or None if the word is unknown."""
    try:
        return StaffCommand(parsed.name)
    except ValueError:
        return None
