"""/share: a volunteer passes on a text from the coping library (`routing/coping/`) to the person they talk with.

`/share <name>` shows a preview in the conversation's thread: the exact words the person will read, in their
language when the library has it (else English, and staff are told), with Send and Cancel. Only Send by the
person's own volunteer relays it: a supervisor watching, or anyone who asked for the preview, cannot send it by
accident. `/share` alone lists the library as buttons. Each preview is sent at most once, and only if the text
still reads as previewed (a coordinator may edit it meanwhile on the dashboard).
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from routing import texts
from routing.coping import CopingLibrary, Shared
from routing.i18n import staff_language
from routing.live_roster import LiveRoster
from routing.model import Button, ConversationState, InboundKind, InboundMessage, VolunteerId
from routing.outbox import Outbox
from routing.roster import StaffMember
from routing.staff.voice import StaffVoice
from routing.store.conversations import Conversation, ConversationStore
from routing.store.coping_counts import CopingCounts
from routing.store.coping_edits import CopingEdits
from routing.store.coping_previews import Preview, SharePreviews
from routing.store.streams import StreamWriter

SEND, CANCEL = "send", "cancel"  # the preview's buttons: "share send 3", "share cancel 3"


class Sharing:
    """Previews, sends and counts coping texts in a conversation's thread."""

    def __init__(
        self,
        voice: StaffVoice,
        conversations: ConversationStore,
        writer: StreamWriter,
        roster: LiveRoster,
        library: CopingLibrary,
        edits: CopingEdits,
        previews: SharePreviews,
        counts: CopingCounts,
    ) -> None:
        self._voice = voice
        self._store = conversations
        self._writer = writer
        self._roster = roster
        self._library = library
        self._edits = edits
        self._previews = previews
        self._counts = counts

    async def share(
        self, argument: str, member: StaffMember, message: InboundMessage, conv: Conversation, out: Outbox
    ) -> None:
        """/share, /share <name>, or a press of a preview's Send or Cancel (buttons only: typed, they are names)."""
        if conv.state != ConversationState.ACTIVE:
            self._voice.answer(message, conv.id, texts.staff(texts.NOT_SENT_STATE, state=conv.state), out)
            return
        word, _, number = argument.partition(" ")
        if message.kind == InboundKind.ACTION and word in (SEND, CANCEL):
            await self._press(word == SEND, number.strip(), member, message, conv, out)
            return
        library = await self._current()
        if not argument:
            self._list(library, message, conv, texts.staff(texts.COPING_LIST, names=", ".join(library.names)), out)
            return
        shared = library.for_person(argument.casefold(), conv.language)
        if shared is None:
            text = texts.staff(texts.COPING_UNKNOWN, name=argument, names=", ".join(library.names))
            self._list(library, message, conv, text, out)
            return
        await self._preview(shared, member.id, message, conv, out)

    async def _current(self) -> CopingLibrary:
        """The library as people read it now: the files, with the coordinators' edits in their place."""
        return self._library.with_edits(await self._edits.texts())

    def _list(
        self, library: CopingLibrary, message: InboundMessage, conv: Conversation, text: str, out: Outbox
    ) -> None:
        if not library.names:
            self._voice.answer(message, conv.id, texts.staff(texts.COPING_EMPTY), out)
            return
        english = [library.get("en", name) for name in library.names]
        buttons = tuple(Button(t.title, f"share {t.name}") for t in english if t is not None)
        self._voice.answer(message, conv.id, text, out, buttons=buttons)

    async def _preview(
        self, shared: Shared, by: VolunteerId, message: InboundMessage, conv: Conversation, out: Outbox
    ) -> None:
        coping = shared.text
        preview = await self._previews.open(conv.id, coping.name, coping.lang, coping.digest, by)
        holder = await self._holder_name(conv)
        text = texts.staff(
            texts.COPING_PREVIEW, title=coping.title, pseudonym=conv.pseudonym, volunteer=holder, message=coping.message
        )
        if not shared.in_their_language:
            note = texts.staff(texts.COPING_NOT_THEIR_LANGUAGE, language=_language_name(conv.language))
            text = f"{note}\n\n{text}"
        buttons = (
            Button(texts.staff(texts.BUTTON_SEND), f"share {SEND} {preview.number}"),
            Button(texts.staff(texts.BUTTON_CANCEL), f"share {CANCEL} {preview.number}"),
        )
        self._voice.answer(message, conv.id, text, out, buttons=buttons)

    async def _press(
        self, send: bool, number: str, member: StaffMember, message: InboundMessage, conv: Conversation, out: Outbox
    ) -> None:
        if send and member.id != conv.volunteer:  # never by accident: not even an overseer (who may /takeover)
            holder = await self._holder_name(conv)
            self._voice.answer(message, conv.id, texts.staff(texts.COPING_ONLY_HOLDER, volunteer=holder), out)
            return
        preview = await self._previews.get(conv.id, number)
        if preview is None:
            self._voice.answer(message, conv.id, texts.staff(texts.COPING_CLOSED), out)
            return
        if not send:
            await self._cancel(preview, member, message, conv, out)
            return
        shared = (await self._current()).for_person(preview.name, conv.language)
        if shared is None or shared.text.digest != preview.digest:  # edited (or removed) since the preview
            await self._previews.close(conv.id, number)
            title = shared.text.title if shared else preview.name
            self._voice.answer(message, conv.id, texts.staff(texts.COPING_CHANGED, title=title), out)
            if shared is not None:
                await self._preview(shared, preview.by, message, conv, out)
            return
        if await self._previews.close(conv.id, number):  # the first Send wins; a double press sends once
            await self._send(shared, member, message, conv, out)
        else:
            self._voice.answer(message, conv.id, texts.staff(texts.COPING_CLOSED), out)

    async def _cancel(
        self, preview: Preview, member: StaffMember, message: InboundMessage, conv: Conversation, out: Outbox
    ) -> None:
        if await self._previews.close(conv.id, preview.number):
            title = coping.title if (coping := self._library.get(preview.lang, preview.name)) else preview.name
            self._voice.answer(message, conv.id, texts.staff(texts.COPING_CANCELLED, title=title), out)
        else:
            self._voice.answer(message, conv.id, texts.staff(texts.COPING_CLOSED), out)

    async def _send(
        self, shared: Shared, member: StaffMember, message: InboundMessage, conv: Conversation, out: Outbox
    ) -> None:
        coping = shared.text
        self._voice.to_person(conv, coping.message, out=out)
        await self._store.staff_said(conv.id)  # the silence watch measures from here, as for a reply
        await self._counts.count(coping.name)
        await self._writer.audit(
            "coping_shared", conversation=conv.id, volunteer=member.id, coping=coping.name, lang=coping.lang
        )
        self._voice.answer(
            message, conv.id, texts.staff(texts.COPING_SENT, pseudonym=conv.pseudonym, title=coping.title), out
        )

    async def _holder_name(self, conv: Conversation) -> str:
        holder = (await self._roster.current()).by_id(conv.volunteer) if conv.volunteer else None
        return holder.name if holder else (conv.volunteer or "")


def _language_name(code: str | None) -> str:
    """The person's language, named in the staff's ("French" for English-speaking staff)."""
    if not code:
        return "?"
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name(staff_language()) or code
    except (ValueError, UnknownLocaleError):
        return code
