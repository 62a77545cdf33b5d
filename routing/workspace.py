"""Where volunteers work: their conversation's topic in the staff forum, or their private chat with the bot.

Telegram lets a bot send about 20 messages a minute into one group, shared by all its topics: one forum keeps up
with three to five people chatting. A private chat has its own limit (about one message a second), so with
`staff.workspace = "private"` each volunteer gets their people's messages in their private chat with the bot,
named by pseudonym, and answers there; a reply to one of the bot's messages picks the person when they hold
several. The forum keeps a copy of everything, sent when the group's budget allows: supervision and records.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from routing import texts
from routing.model import (
    Audience,
    ChatId,
    ConversationId,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    Platform,
    Priority,
    VolunteerId,
)
from routing.outbox import NOTICE_MARK
from routing.roster import Roster, StaffMember
from routing.store.conversations import ConversationStore
from routing.store.desk_messages import DeskMessages
from routing.training import is_training_session

DESK_KEY_SUFFIX = ":desk"


class Workspace(enum.StrEnum):
    """Where volunteers read and answer their conversations."""

    TOPICS = "topics"  # the conversation's topic/thread in the staff group
    PRIVATE = "private"  # the volunteer's private chat with the bot (Telegram), topics kept as the record


@dataclass(frozen=True, slots=True)
class DeskTarget:
    """The conversation a message in a volunteer's private chat is meant for, or why there is none."""

    conversation: ConversationId | None
    held: tuple[ConversationId, ...]  # what the volunteer holds now (several and no reply: ambiguous)


class PrivateDesk:
    """Copies conversation messages to the holder's private chat, and finds the conversation a private answer
    is for."""

    def __init__(
        self,
        platform: Platform,
        conversations: ConversationStore,
        messages: DeskMessages,
        roster: Callable[[], Awaitable[Roster]],
    ) -> None:
        self._platform = platform
        self._conversations = conversations
        self._messages = messages
        self._roster = roster

    async def target(self, member: StaffMember, message: InboundMessage) -> DeskTarget:
        held = tuple(sorted(await self._conversations.active_of(member.id)))
        if message.reply_to is not None:
            replied = await self._messages.conversation_of(message.platform, message.chat, message.reply_to)
            if replied is not None:
                return DeskTarget(replied, held)
        return DeskTarget(held[0] if len(held) == 1 else None, held)

    async def expand(self, messages: list[OutboundMessage]) -> list[OutboundMessage]:
        """Each message for a held conversation's topic, copied first to the holder's private chat; the topic's
        copy then waits behind ordinary traffic (urgent ones stay urgent: supervisors watch those)."""
        wanted = list(dict.fromkeys(m.conversation for m in messages if self._copied(m) and m.conversation))
        if not wanted:
            return messages
        roster = await self._roster()
        chats: dict[ConversationId, ChatId] = {}
        for conv, holder in zip(wanted, await self._conversations.holders(wanted), strict=True):
            member = roster.by_id(holder) if holder else None
            account = member.identities.get(self._platform) if member else None
            if account is not None:
                chats[conv] = ChatId(account)  # a private chat's id is the user's id
        result: list[OutboundMessage] = []
        for message in messages:
            desk = chats.get(message.conversation) if message.conversation and self._copied(message) else None
            if desk is None:
                result.append(message)
                continue
            result.append(_desk_copy(message, desk))
            later = message.priority if message.priority == Priority.URGENT else Priority.BACKGROUND
            result.append(dataclasses.replace(message, priority=later))
        return result

    def _copied(self, message: OutboundMessage) -> bool:
        return (
            message.platform == self._platform
            and message.audience == Audience.STAFF_THREAD
            and message.kind == OutboundKind.SEND
            and message.conversation is not None
            and not is_training_session(message.conversation)  # practice stays in its topic
        )

    async def chat_of(self, volunteer: VolunteerId) -> ChatId | None:
        """The private chat of a staff member on this platform, when the rota names their account."""
        member = (await self._roster()).by_id(volunteer)
        chat = member.identities.get(self._platform) if member else None
        return ChatId(chat) if chat is not None else None


def _desk_copy(message: OutboundMessage, chat: ChatId) -> OutboundMessage:
    who = message.pseudonym or message.conversation or ""
    relayed = message.source_platform is not None  # the person's own words, not a notice about them
    template = texts.DESK_RELAY if relayed else texts.DESK_NOTICE
    return dataclasses.replace(
        message,
        audience=Audience.STAFF_DIRECT,
        chat=chat,
        key=message.key + DESK_KEY_SUFFIX,
        text=template.format(pseudonym=who, text=message.text.removeprefix(NOTICE_MARK)).strip(),
    )
