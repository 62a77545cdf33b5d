"""A held conversation's words: the holder's reply relayed to the person, anyone else's kept with staff as a
whisper, /note for whoever holds the person next, and the nudge when a reply is overdue."""

from __future__ import annotations

from routing import texts
from routing.live_roster import LiveRoster
from routing.model import Audience, ConversationId, ConversationState, InboundMessage, Priority
from routing.outbox import Outbox
from routing.roster import StaffMember
from routing.staff.voice import StaffVoice
from routing.store.case_records import CaseEvent, CaseRecords
from routing.store.conversations import Conversation, ConversationStore
from routing.store.streams import StreamWriter
from routing.workspace import PrivateDesk

WHISPER_NOTICE_SECONDS = 12 * 3600  # a whisper's author is told once per conversation (and shift)


class Relay:
    """Carries staff's words in a conversation's thread to the person, or keeps them with staff."""

    def __init__(
        self,
        voice: StaffVoice,
        conversations: ConversationStore,
        writer: StreamWriter,
        roster: LiveRoster,
        desk: PrivateDesk | None = None,
        *,
        cases: CaseRecords,
    ) -> None:
        self._voice = voice
        self._cases = cases
        self._store = conversations
        self._writer = writer
        self._roster = roster
        self._desk = desk

    async def to_person(self, conv: ConversationId, member: StaffMember, message: InboundMessage, out: Outbox) -> None:
        """`member` wrote `message` (not a command) in the conversation's thread, or for it in their private chat."""
        conversation = await self._store.get(conv)
        if conversation is None or conversation.state != ConversationState.ACTIVE:
            state = conversation.state if conversation else "expired"
            self._voice.answer(message, conv, texts.staff(texts.NOT_SENT_STATE, state=state), out)
            return
        if member.id != conversation.volunteer:
            await self._whisper(member, conversation, message.text, out)
            return
        self._voice.to_person(
            conversation, message.text, attachments=message.attachments, source_platform=message.platform, out=out
        )
        await self._store.staff_said(conv)  # the silence watch measures from here
        await self._cases.add(
            conv, CaseEvent.REPLY, by=member.id, words=message.text, attachments=len(message.attachments)
        )
        if conversation.first_reply_counted:
            return  # the record already says so: no round trip for every later reply
        waited = await self._store.first_reply(conv)  # once per assignment (atomic): "time to first reply" chart
        if waited is not None:
            await self._writer.audit("first_reply", conversation=conv, volunteer=conversation.volunteer or "",
                                     seconds=f"{waited:.3f}", tier=conversation.tier.label)  # fmt: skip

    async def _whisper(self, member: StaffMember, conversation: Conversation, words: str, out: Outbox) -> None:
        """Only the person's holder (their volunteer, or the professional or supervisor who took over) speaks to
        them. Anyone else's words in the thread stay with staff: a supervisor's "ask about sleep" must never
        reach a person in crisis. The author is told once per conversation; a holder who works in their private
        chat gets the words there (they are not reading the topic)."""
        await self._writer.audit("whisper", conversation=conversation.id, by=member.id)
        await self._cases.add(conversation.id, CaseEvent.WHISPER, by=member.id, words=words)
        holder_chat = (
            await self._desk.chat_of(conversation.volunteer) if self._desk and conversation.volunteer else None
        )
        if holder_chat is not None and words:
            text = texts.staff(texts.DESK_WHISPER, author=member.name, text=words)
            notice = texts.DESK_NOTICE.format(pseudonym=conversation.pseudonym, text=text)
            out.add(self._voice.platform, Audience.STAFF_DIRECT, notice, chat=holder_chat, conversation=conversation.id)
        if await self._writer.first_notice(f"whisper:{conversation.id}:{member.id}", ttl=WHISPER_NOTICE_SECONDS):
            holder = (await self._roster.current()).by_id(conversation.volunteer) if conversation.volunteer else None
            name = holder.name if holder else (conversation.volunteer or "their volunteer")
            self._voice.in_thread(conversation, texts.staff(texts.WHISPER, author=member.name, holder=name), out)

    async def note(
        self, note: str, member: StaffMember, message: InboundMessage, conversation: Conversation, out: Outbox
    ) -> None:
        """/note <text>: kept for staff only, and shown to whoever holds the person next."""
        if not note:
            text = texts.staff(texts.NEEDS_ARGUMENT, command="note", what="some text", example="prefers short messages")
            self._voice.answer(message, conversation.id, text, out)
            return
        await self._store.add_note(conversation.id, note)
        await self._cases.add(conversation.id, CaseEvent.NOTE, by=member.id, words=note)
        self._voice.answer(message, conversation.id, texts.staff(texts.NOTE_SAVED, note=note), out)

    async def nudge(self, conversation: Conversation, minutes: int, out: Outbox) -> None:
        """The person has waited `minutes` for their volunteer's reply (the silence watch asks)."""
        text = texts.staff(texts.SILENCE_NUDGE, pseudonym=conversation.pseudonym, minutes=minutes)
        self._voice.in_thread(conversation, text, out, priority=Priority.PERSON)
        await self._writer.audit("silence_nudged", conversation=conversation.id, volunteer=conversation.volunteer or "")
