"""The shared message model: what every platform adapter translates to and from.

Nothing here knows a platform SDK. Adapters normalise updates into `InboundMessage` at the edge and render
`OutboundMessage` into API calls; the router only ever sees these frozen values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NewType

# Ids. Platform ids are kept as strings (Telegram's are 64-bit ints, Discord's snowflakes) so one type fits
# both. They never leave the adapters/store boundary in logs: staff and logs see `Pseudonym`s.
ChatId = NewType("ChatId", str)
UserId = NewType("UserId", str)
ThreadId = NewType("ThreadId", str)
MessageId = NewType("MessageId", str)
UpdateId = NewType("UpdateId", str)
ConversationId = NewType("ConversationId", str)
VolunteerId = NewType("VolunteerId", str)
EscalationId = NewType("EscalationId", str)
Pseudonym = NewType("Pseudonym", str)


class Platform(enum.StrEnum):
    """A messaging platform peerbridge speaks."""

    TELEGRAM = "telegram"
    DISCORD = "discord"


class Role(enum.StrEnum):
    """What someone is to the service."""

    SEEKER = "seeker"
    VOLUNTEER = "volunteer"
    SUPERVISOR = "supervisor"
    PROFESSIONAL = "professional"
    COORDINATOR = "coordinator"


class RiskTier(enum.IntEnum):
    """How urgent a message or conversation is; ordered, so `max()` and `>=` work."""

    NONE = 0
    REVIEW = 1
    ELEVATED = 2
    HIGH = 3
    IMMINENT = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> RiskTier:
        """Parse a tier name ("high") or number ("3"); raises ValueError with the allowed names."""
        text = value.strip().lower()
        if text.isdigit() and int(text) in {t.value for t in cls}:
            return cls(int(text))
        for tier in cls:
            if tier.label == text:
                return tier
        allowed = ", ".join(t.label for t in cls)
        raise ValueError(f"unknown risk tier {value!r}; expected one of: {allowed}")


class RiskCategory(enum.StrEnum):
    """What kind of risk a phrase points to."""

    SUICIDE = "suicide"
    SELF_HARM = "self_harm"
    HARM_OTHERS = "harm_others"
    ABUSE = "abuse"
    DANGER = "danger"
    THIRD_PARTY = "third_party"


class ConversationState(enum.StrEnum):
    """Lifecycle of one person's conversation: WAITING -> ACTIVE -> CLOSED, ACTIVE -> WAITING on release."""

    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"


_ALLOWED_TRANSITIONS: dict[ConversationState, frozenset[ConversationState]] = {
    ConversationState.WAITING: frozenset({ConversationState.ACTIVE, ConversationState.CLOSED}),
    ConversationState.ACTIVE: frozenset({ConversationState.WAITING, ConversationState.CLOSED}),
    ConversationState.CLOSED: frozenset(),
}


class IllegalTransition(Exception):
    """A state change the lifecycle does not allow (a bug or a race lost to another worker)."""


def transition(current: ConversationState, target: ConversationState) -> ConversationState:
    """Return `target` if the lifecycle allows moving there from `current`, else raise IllegalTransition."""
    if target not in _ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(f"conversation cannot go from {current} to {target}")
    return target


class Origin(enum.StrEnum):
    """Where an inbound message was written: decides who may do what with it."""

    PRIVATE = "private"  # a person's private chat/DM with the bot
    STAFF = "staff"  # the volunteers' workspace (forum group / staff channel and its threads)
    ESCALATION = "escalation"  # the on-call professionals' chat


class InboundKind(enum.StrEnum):
    """What an inbound event is."""

    MESSAGE = "message"
    EDIT = "edit"
    ACTION = "action"  # a button press; `text` holds the button's action data, e.g. "take c-123"
    UNSUPPORTED = "unsupported"  # media the bridge cannot carry; `text` names the kind ("location")
    UNDELIVERABLE = "undeliverable"  # the platform says this person can no longer be reached (blocked the bot)


class AttachmentKind(enum.StrEnum):
    """Media kinds the bridge can carry between platforms."""

    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"
    AUDIO = "audio"
    VIDEO = "video"
    STICKER = "sticker"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file by reference: the platform's file id or URL, never the bytes."""

    kind: AttachmentKind
    ref: str
    filename: str | None = None
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One normalised event from a platform.

    `update_id` is the platform's unique id for the delivery (Telegram update_id, Discord message or
    interaction id) and drives deduplication; `sender` and `chat` are raw platform ids and stay inside
    the bridge: never log them.
    """

    platform: Platform
    update_id: UpdateId
    origin: Origin
    chat: ChatId
    sender: UserId
    text: str
    sent_at: float
    received_at: float
    kind: InboundKind = InboundKind.MESSAGE
    thread: ThreadId | None = None
    message_id: MessageId | None = None
    attachments: tuple[Attachment, ...] = ()
    sender_is_bot: bool = False
    language: str | None = None
    # In a private chat: the bot's message this one answers (a reply, or the message a pressed button is on).
    # A volunteer working in their private chat with the bot picks a conversation by replying to it.
    reply_to: MessageId | None = None


class Audience(enum.StrEnum):
    """Who an outbound message is for; the adapter resolves the concrete chat/thread."""

    SEEKER = "seeker"  # the person's private chat
    STAFF_QUEUE = "staff_queue"  # a queue card in the volunteers' lobby (General topic / volunteer channel)
    STAFF_THREAD = "staff_thread"  # the conversation's own topic/thread, created on first use
    STAFF_LOBBY = "staff_lobby"  # a plain notice in the volunteers' lobby
    ESCALATION = "escalation"  # the on-call professionals' chat
    STAFF_DIRECT = "staff_direct"  # a private message to one staff member; `chat` is their platform user id


class OutboundKind(enum.StrEnum):
    """What the adapter should do."""

    SEND = "send"
    UPSERT_CARD = "upsert_card"  # create or edit the queue card of `conversation`
    CLOSE_THREAD = "close_thread"  # archive/close the conversation's topic/thread
    DELETE_THREAD = "delete_thread"  # delete the staff topic/thread `thread` with all its messages (retention, /forget)


class Priority(enum.IntEnum):
    """Delivery order under rate limits: lower goes first."""

    URGENT = 0  # escalations and crisis resources
    PERSON = 1  # anything a person in the queue or in a conversation reads
    STAFF = 2  # relays and notices for volunteers
    BACKGROUND = 3  # queue-card refreshes


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button; `action` comes back as an ACTION inbound's text."""

    label: str
    action: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One thing to say or do on a platform.

    `key` is an idempotency key unique per logical delivery: an adapter that sees a key again (after a crash
    between send and ack) does not send twice.
    """

    platform: Platform
    audience: Audience
    key: str
    text: str = ""
    kind: OutboundKind = OutboundKind.SEND
    chat: ChatId | None = None  # required for SEEKER; staff chats come from the adapter's settings
    conversation: ConversationId | None = None
    pseudonym: Pseudonym | None = None  # names the topic/thread and the queue card
    attachments: tuple[Attachment, ...] = ()
    source_platform: Platform | None = None  # where the attachments' refs are valid (cross-platform relay)
    buttons: tuple[Button, ...] = ()
    priority: Priority = Priority.STAFF
    created_at: float = field(default=0.0)
    # A staff topic/thread named by its platform id: for DELETE_THREAD, which outlives the conversation record.
    thread: ThreadId | None = None
