"""How the staff side speaks: to the person, in the conversation's thread, on its queue card, and back to the
staff member where they wrote. Every part of `routing/staff/` says things through here."""

from __future__ import annotations

from dataclasses import dataclass

from routing import texts
from routing.model import (
    Attachment,
    Audience,
    Button,
    ConversationId,
    InboundMessage,
    Origin,
    OutboundKind,
    Platform,
    Priority,
)
from routing.outbox import Outbox
from routing.store.conversations import Conversation


def escalate_button() -> Button:
    """On a conversation's card in its topic, and on risk notices: escalate at high with one tap."""
    return Button(texts.staff(texts.BUTTON_ESCALATE), "escalate high")


@dataclass(frozen=True, slots=True)
class StaffVoice:
    """Addresses messages on the staff platform (`platform`) and to the person of a conversation."""

    platform: Platform

    def to_person(
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

    def say_to_person(
        self,
        conversation: Conversation,
        text: str,
        *,
        out: Outbox,
        priority: Priority = Priority.PERSON,
        buttons: tuple[Button, ...] = (),
        **params: object,
    ) -> None:
        """Say one of the service's texts (routing/texts.py) to the person, in their language."""
        said = texts.say(conversation.language, text, **params)
        self.to_person(conversation, said, out=out, priority=priority, buttons=buttons)

    def in_thread(
        self,
        conversation: Conversation,
        text: str,
        out: Outbox,
        relayed: InboundMessage | None = None,
        priority: Priority = Priority.STAFF,
        buttons: tuple[Button, ...] = (),
    ) -> None:
        """Post in the conversation's topic/thread; `relayed`: the person's message whose attachments go with it."""
        out.add(
            self.platform,
            Audience.STAFF_THREAD,
            text,
            conversation=conversation.id,
            pseudonym=conversation.pseudonym,
            attachments=relayed.attachments if relayed else (),
            source_platform=relayed.platform if relayed else None,
            buttons=buttons,
            priority=priority,
        )

    def close_thread(self, conversation: Conversation, out: Outbox) -> None:
        """Close the conversation's topic/thread (it ended)."""
        out.add(self.platform, Audience.STAFF_THREAD, kind=OutboundKind.CLOSE_THREAD, conversation=conversation.id,
                pseudonym=conversation.pseudonym)  # fmt: skip

    def card(self, conversation: Conversation, text: str, out: Outbox, buttons: tuple[Button, ...] = ()) -> None:
        """Create or edit the conversation's queue card (no buttons: the card can no longer be taken)."""
        out.add(
            self.platform, Audience.STAFF_QUEUE, text, kind=OutboundKind.UPSERT_CARD, conversation=conversation.id,
            pseudonym=conversation.pseudonym, buttons=buttons, priority=Priority.BACKGROUND,
        )  # fmt: skip

    def answer(
        self,
        message: InboundMessage,
        conv: ConversationId | None,
        text: str,
        out: Outbox,
        buttons: tuple[Button, ...] = (),
    ) -> None:
        """Answer staff where they wrote: their private chat, the escalation chat, the conversation's thread, or
        the lobby."""
        if message.origin == Origin.PRIVATE:
            out.add(self.platform, Audience.STAFF_DIRECT, text, chat=message.chat, conversation=conv, buttons=buttons)
        elif message.origin == Origin.ESCALATION:
            out.add(self.platform, Audience.ESCALATION, text, priority=Priority.URGENT, buttons=buttons)
        elif conv is not None:
            out.add(self.platform, Audience.STAFF_THREAD, text, conversation=conv, buttons=buttons)
        else:
            out.add(self.platform, Audience.STAFF_LOBBY, text, buttons=buttons)
