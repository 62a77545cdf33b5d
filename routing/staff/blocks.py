"""Pausing an abusive person: /block ends the conversation and holds their messages back for a while (the
router still screens each one: a high-risk message gets them help and pages the professional), /unblock
lifts it, /blocks lists those in force."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from routing import texts
from routing.i18n import moment
from routing.model import ConversationId, InboundMessage, RiskTier
from routing.outbox import Outbox
from routing.roster import StaffMember
from routing.staff.ending import Endings
from routing.staff.supervision import oversees
from routing.staff.voice import StaffVoice
from routing.store.blocks import Block, BlockStore
from routing.store.case_records import CaseEvent, CaseRecords
from routing.store.conversations import Conversation, ConversationStore
from routing.store.streams import StreamWriter

MAX_BLOCK_SECONDS = 90 * 24 * 3600


class Blocks:
    """Places, lifts and lists blocks (stored in `BlockStore`, which the router reads for every person)."""

    def __init__(
        self,
        voice: StaffVoice,
        conversations: ConversationStore,
        writer: StreamWriter,
        blocks: BlockStore,
        endings: Endings,
        *,
        cases: CaseRecords,
    ) -> None:
        self._voice = voice
        self._cases = cases
        self._store = conversations
        self._writer = writer
        self._blocks = blocks
        self._endings = endings

    async def block(
        self, argument: str, member: StaffMember, message: InboundMessage, conversation: Conversation, out: Outbox
    ) -> None:
        """/block <duration> <reason>: the conversation ends and the person is told, kindly, until when."""
        words = argument.split(maxsplit=1)
        seconds = _duration(words[0]) if words else None
        reason = words[1].strip() if len(words) > 1 else ""
        if seconds is None or not reason:
            self._voice.answer(message, conversation.id, texts.staff(texts.BLOCK_USAGE), out)
            return
        if conversation.tier >= RiskTier.HIGH and not oversees(member):
            self._voice.answer(message, conversation.id, texts.staff(texts.BLOCK_NEEDS_OVERSEER), out)
            return
        person = await self._store.person_of(conversation.id)
        if person is None:
            self._voice.answer(message, conversation.id, "This conversation has expired.", out)
            return
        until = time.time() + seconds
        await self._blocks.add(Block(person, conversation.pseudonym, conversation.id, until, member.id, reason))
        await self._store.close(conversation.id)
        when = moment(conversation.language, datetime.fromtimestamp(until, UTC), "d MMM HH:mm")
        self._voice.say_to_person(conversation, texts.BLOCKED_PERSON, until=when, out=out)
        note = texts.staff(
            texts.BLOCKED_NOTE, name=member.name, pseudonym=conversation.pseudonym, duration=words[0], reason=reason
        )
        self._voice.in_thread(conversation, note, out)
        self._voice.close_thread(conversation, out)
        await self._writer.audit("blocked", conversation=conversation.id, by=member.id, seconds=str(seconds))
        await self._cases.add(conversation.id, CaseEvent.CLOSED, by=member.id, blocked=str(seconds))
        await self._endings.after_ending(conversation, out)

    async def unblock(self, member: StaffMember, conv: ConversationId, *, in_thread: bool = False) -> str:
        """Lift a block: in the conversation's thread by anyone on staff, elsewhere by id for overseers."""
        if not in_thread and not oversees(member):
            return texts.staff(texts.UNBLOCK_REFUSED)
        person = await self._store.person_of(conv) if conv else None
        block = await self._blocks.of(person) if person else None
        if person is None or block is None:
            return texts.staff(texts.NOT_BLOCKED)
        await self._blocks.lift(person)
        await self._writer.audit("unblocked", conversation=conv, by=member.id)
        return texts.staff(texts.UNBLOCKED, pseudonym=block.pseudonym)

    async def in_force(self, member: StaffMember) -> str:
        """/blocks: the blocks in force, for overseers."""
        if not oversees(member):
            return texts.staff(texts.BLOCKS_REFUSED)
        blocks = await self._blocks.active()
        if not blocks:
            return texts.staff(texts.BLOCKS_NONE)
        lines = [
            f"{b.pseudonym} ({b.conversation}) until {datetime.fromtimestamp(b.until, UTC):%d %b %H:%M} UTC, by {b.by}"
            for b in blocks
        ]
        return texts.staff(texts.BLOCKS_LIST, lines="\n".join(lines))


def _duration(word: str) -> int | None:
    """Seconds in "30m", "12h", "7d" (a bare number is hours); None when it is not a duration in range."""
    unit = word[-1:].lower()
    number = word[:-1] if unit in ("m", "h", "d") else word
    if not number.isdigit():
        return None
    seconds = int(number) * {"m": 60, "h": 3600, "d": 86400}.get(unit, 3600)
    return seconds if 0 < seconds <= MAX_BLOCK_SECONDS else None
