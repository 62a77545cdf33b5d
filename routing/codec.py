"""JSON encoding of the shared model for Redis streams (pure: no I/O).

Decoding is strict: anything that does not describe a valid message raises `MalformedEntry`, which the
stream worker turns into a dead-letter entry instead of a crash loop.
"""

from __future__ import annotations

import json
from typing import Any

from routing.model import (
    Attachment,
    AttachmentKind,
    Audience,
    Button,
    ChatId,
    ConversationId,
    InboundKind,
    InboundMessage,
    MessageId,
    Origin,
    OutboundKind,
    OutboundMessage,
    Platform,
    Priority,
    Pseudonym,
    ThreadId,
    UpdateId,
    UserId,
)


class MalformedEntry(ValueError):
    """A stream entry that cannot be decoded into a message. Carries no message content."""


def _attachment_to_dict(a: Attachment) -> dict[str, Any]:
    return {"kind": a.kind.value, "ref": a.ref, "filename": a.filename, "mime": a.mime_type, "size": a.size}


def _attachment_from_dict(d: dict[str, Any]) -> Attachment:
    return Attachment(
        kind=AttachmentKind(d["kind"]),
        ref=str(d["ref"]),
        filename=d.get("filename"),
        mime_type=d.get("mime"),
        size=d.get("size"),
    )


def encode_inbound(m: InboundMessage) -> bytes:
    """Serialise an inbound message."""
    data = {
        "platform": m.platform.value,
        "update_id": m.update_id,
        "origin": m.origin.value,
        "chat": m.chat,
        "sender": m.sender,
        "text": m.text,
        "sent_at": m.sent_at,
        "received_at": m.received_at,
        "kind": m.kind.value,
        "thread": m.thread,
        "message_id": m.message_id,
        "attachments": [_attachment_to_dict(a) for a in m.attachments],
        "sender_is_bot": m.sender_is_bot,
        "language": m.language,
        "reply_to": m.reply_to,
    }
    return json.dumps(data, separators=(",", ":")).encode()


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def decode_inbound(raw: bytes) -> InboundMessage:
    """Parse an inbound message; raises MalformedEntry on anything unexpected."""
    try:
        d = json.loads(raw)
        return InboundMessage(
            platform=Platform(d["platform"]),
            update_id=UpdateId(str(d["update_id"])),
            origin=Origin(d["origin"]),
            chat=ChatId(str(d["chat"])),
            sender=UserId(str(d["sender"])),
            text=str(d["text"]),
            sent_at=float(d["sent_at"]),
            received_at=float(d["received_at"]),
            kind=InboundKind(d.get("kind", "message")),
            thread=None if d.get("thread") is None else ThreadId(str(d["thread"])),
            message_id=None if d.get("message_id") is None else MessageId(str(d["message_id"])),
            attachments=tuple(_attachment_from_dict(a) for a in d.get("attachments", [])),
            sender_is_bot=bool(d.get("sender_is_bot", False)),
            language=_opt(d.get("language")),
            reply_to=None if d.get("reply_to") is None else MessageId(str(d["reply_to"])),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MalformedEntry(f"inbound entry is not a valid message ({type(exc).__name__})") from None


def encode_outbound(m: OutboundMessage) -> bytes:
    """Serialise an outbound message."""
    data = {
        "platform": m.platform.value,
        "audience": m.audience.value,
        "key": m.key,
        "text": m.text,
        "kind": m.kind.value,
        "chat": m.chat,
        "conversation": m.conversation,
        "pseudonym": m.pseudonym,
        "attachments": [_attachment_to_dict(a) for a in m.attachments],
        "source_platform": None if m.source_platform is None else m.source_platform.value,
        "buttons": [[b.label, b.action] for b in m.buttons],
        "priority": int(m.priority),
        "created_at": m.created_at,
        "thread": m.thread,
    }
    return json.dumps(data, separators=(",", ":")).encode()


def decode_outbound(raw: bytes) -> OutboundMessage:
    """Parse an outbound message; raises MalformedEntry on anything unexpected."""
    try:
        d = json.loads(raw)
        source = d.get("source_platform")
        return OutboundMessage(
            platform=Platform(d["platform"]),
            audience=Audience(d["audience"]),
            key=str(d["key"]),
            text=str(d.get("text", "")),
            kind=OutboundKind(d.get("kind", "send")),
            chat=None if d.get("chat") is None else ChatId(str(d["chat"])),
            conversation=None if d.get("conversation") is None else ConversationId(str(d["conversation"])),
            pseudonym=None if d.get("pseudonym") is None else Pseudonym(str(d["pseudonym"])),
            attachments=tuple(_attachment_from_dict(a) for a in d.get("attachments", [])),
            source_platform=None if source is None else Platform(source),
            buttons=tuple(Button(label=str(b[0]), action=str(b[1])) for b in d.get("buttons", [])),
            priority=Priority(int(d.get("priority", Priority.STAFF))),
            created_at=float(d.get("created_at", 0.0)),
            thread=None if d.get("thread") is None else ThreadId(str(d["thread"])),
        )
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise MalformedEntry(f"outbound entry is not a valid message ({type(exc).__name__})") from None
