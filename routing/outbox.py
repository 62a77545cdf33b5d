"""Collects what handling one inbound entry says, with idempotency keys derived from the entry id.

If a router dies after emitting some of an entry's messages, the reclaimed entry is handled again and builds
the same keys in the same order, so the store's emit drops what was already sent.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from routing.model import (
    Attachment,
    Audience,
    Button,
    ChatId,
    ConversationId,
    OutboundKind,
    OutboundMessage,
    Platform,
    Priority,
    Pseudonym,
    ThreadId,
)

AfterEmit = Callable[[], Awaitable[None]]
NOTICE_MARK = "ⓘ "  # the service speaking in a conversation's topic/thread, not the person


@dataclass
class Outbox:
    """Outbound messages of one inbound entry, plus actions to run once they are safely emitted."""

    entry_id: str
    messages: list[OutboundMessage] = field(default_factory=list)
    after_emit: list[AfterEmit] = field(default_factory=list)
    emitted: int = 0  # messages[:emitted] were handed to the writer already (see `unsent`)

    def add(
        self,
        platform: Platform,
        audience: Audience,
        text: str = "",
        *,
        kind: OutboundKind = OutboundKind.SEND,
        chat: ChatId | None = None,
        conversation: ConversationId | None = None,
        pseudonym: Pseudonym | None = None,
        attachments: tuple[Attachment, ...] = (),
        source_platform: Platform | None = None,
        buttons: tuple[Button, ...] = (),
        priority: Priority = Priority.STAFF,
        notice: bool | None = None,
        thread: ThreadId | None = None,
    ) -> None:
        """`notice`: marks the service's own words in a conversation's topic/thread, so that volunteers tell
        them from the person's at a glance; by default every text there that is not a relay (`source_platform`)."""
        if notice is None:
            notice = audience == Audience.STAFF_THREAD and kind == OutboundKind.SEND and source_platform is None
        if notice and text and not text.startswith(NOTICE_MARK):
            text = NOTICE_MARK + text
        self.messages.append(
            OutboundMessage(
                platform=platform,
                audience=audience,
                key=f"{self.entry_id}:{len(self.messages)}",
                text=text,
                kind=kind,
                chat=chat,
                conversation=conversation,
                pseudonym=pseudonym,
                attachments=attachments,
                source_platform=source_platform,
                buttons=buttons,
                priority=priority,
                created_at=time.time(),
                thread=thread,
            )
        )

    def unsent(self) -> list[OutboundMessage]:
        """The messages not yet handed out, now counted as handed out: urgent ones can leave early, before the
        rest of the entry's handling, and the keys stay those of one pass in order."""
        fresh, self.emitted = self.messages[self.emitted :], len(self.messages)
        return fresh

    def include(self, other: Outbox) -> None:
        """Add `other`'s messages with their own keys: a message that another handler may emit as well, under
        the same key, so that it goes out once between them (see EscalationDesk.raise_)."""
        self.messages.extend(other.messages)

    def then(self, action: AfterEmit) -> None:
        """Run `action` after every message here has been emitted (e.g. clear what was just relayed)."""
        self.after_emit.append(action)
