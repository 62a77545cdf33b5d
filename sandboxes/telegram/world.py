"""The sandbox's mutable world: bots, users, chats (rooms) with their messages and topics, files.

A private chat exists once per (bot, user) pair, as in Telegram where each bot has its own chat with a user
(same chat id, separate message ids). Groups are shared by every bot that is a member.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sandboxes.telegram.errors import bad_request, forbidden
from sandboxes.telegram.files import FileStore
from sandboxes.telegram.model import CallbackQuery, Chat, ChatAction, ChatType, Message, Topic, User
from sandboxes.telegram.updates import Notifier, UpdateQueue

_TOKEN = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,64}$")
THREAD_NOT_FOUND = "message thread not found"


@dataclass
class Room:
    """A chat and everything in it."""

    chat: Chat
    bot_id: int | None = None  # set for private chats: the bot this copy of the chat belongs to
    members: set[int] = field(default_factory=set)
    admins: dict[int, frozenset[str]] = field(default_factory=dict)  # member id -> the admin rights granted
    messages: dict[int, Message] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    next_message_id: int = 1
    blocked: bool = False  # private chats: the user blocked the bot

    def allocate_id(self) -> int:
        """The next message id of this chat."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class WebhookState:
    """A bot's webhook as set by `setWebhook`, and the last delivery error `getWebhookInfo` reports."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class BotAccount:
    """A bot registered with the sandbox by its token."""

    token: str
    user: User
    updates: UpdateQueue = field(default_factory=UpdateQueue)
    webhook: WebhookState | None = None
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @property
    def id(self) -> int:
        """The bot's user id (the token's prefix)."""
        return self.user.id


def bot_id_of(token: str) -> int:
    """The bot id a token carries before its colon; ValueError for a token Telegram would not issue."""
    match = _TOKEN.match(token)
    if match is None:
        raise ValueError("a bot token looks like '123456:ABC-def' (digits, colon, secret)")
    return int(match.group(1))


class World:
    """Every registry of one sandbox. Not thread-safe: use it from the sandbox's event loop."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.bots: dict[int, BotAccount] = {}
        self.users: dict[int, User] = {}
        self.groups: dict[int, Room] = {}
        self.private: dict[tuple[int, int], Room] = {}
        self.files = FileStore()
        self.outbox: list[Message] = []
        self.bot_activity = Notifier()
        self.callbacks: dict[str, CallbackQuery] = {}
        self.chat_actions: list[ChatAction] = []
        self._next_user_id = 100_000_001
        self._next_channel_id = 1_000_000_001
        self._next_group_id = 4_000_000_001
        self._next_callback_id = 1

    def now(self) -> int:
        """Unix time for `date` fields."""
        return int(self.clock())

    def add_bot(self, token: str, username: str | None = None, first_name: str | None = None) -> BotAccount:
        """Register a bot token; its id is the token's prefix."""
        bot_id = bot_id_of(token)
        if bot_id in self.bots:
            raise ValueError("a bot with this id is already registered")
        user = User(bot_id, first_name or "Sandbox Bot", username or f"sandbox{bot_id}_bot", is_bot=True)
        account = BotAccount(token, user)
        self.bots[bot_id] = account
        self.users[bot_id] = user
        return account

    def bot_by_token(self, token: str) -> BotAccount | None:
        """The bot a token belongs to, if registered."""
        account = self.bots.get(bot_id_of(token)) if _TOKEN.match(token) else None
        return account if account is not None and account.token == token else None

    def add_user(self, first_name: str, username: str | None = None, user_id: int | None = None, **extra: Any) -> User:
        """Create a person's account."""
        if user_id is None:
            user_id = self._next_user_id
            self._next_user_id += 1
        if user_id in self.users:
            raise ValueError("a user with this id already exists")
        user = User(user_id, first_name, username, **extra)
        self.users[user_id] = user
        return user

    def add_chat(self, chat_type: ChatType, title: str, *, is_forum: bool = False, username: str | None = None) -> Room:
        """Create a group, supergroup or channel."""
        if chat_type is ChatType.GROUP:
            chat_id = -self._next_group_id
            self._next_group_id += 1
        else:
            chat_id = -(10**12 + self._next_channel_id)
            self._next_channel_id += 1
        room = Room(Chat(chat_id, chat_type, title=title, username=username, is_forum=is_forum))
        self.groups[chat_id] = room
        return room

    def private_room(self, bot_id: int, user: User, *, create: bool = False) -> Room | None:
        """The private chat between a bot and a user; created when the user first writes to the bot."""
        room = self.private.get((bot_id, user.id))
        if room is None and create:
            chat = Chat(user.id, ChatType.PRIVATE, first_name=user.first_name, last_name=user.last_name)
            room = Room(replace(chat, username=user.username), bot_id=bot_id, members={user.id, bot_id})
            self.private[(bot_id, user.id)] = room
        return room

    def room_for_bot(self, bot: BotAccount, chat_ref: int | str) -> Room:
        """Resolve a `chat_id` parameter as Telegram does for this bot, with Telegram's errors."""
        if isinstance(chat_ref, str):
            found = [r for r in self.groups.values() if r.chat.username and f"@{r.chat.username}" == chat_ref]
            chat_ref = found[0].chat.id if found else 0
        group = self.groups.get(chat_ref)
        if group is not None:
            if bot.id not in group.members:
                raise forbidden(f"bot is not a member of the {group.chat.type.value} chat")
            return group
        user = self.users.get(chat_ref)
        if user is None:
            raise bad_request("chat not found")
        if user.is_bot:
            raise forbidden("bot can't send messages to bots")
        room = self.private_room(bot.id, user)
        if room is None:
            raise forbidden("bot can't initiate conversation with a user")
        return room

    def writable_room(self, bot: BotAccount, chat_ref: int | str) -> Room:
        """A room the bot may send to or edit in: blocked private chats answer 403."""
        room = self.room_for_bot(bot, chat_ref)
        if room.blocked:
            raise forbidden("bot was blocked by the user")
        return room

    @staticmethod
    def thread_in(room: Room, thread_id: int | None) -> int | None:
        """Check a `message_thread_id` for a room; None means the General topic or a non-forum chat."""
        if thread_id is None or not room.chat.is_forum:
            return None
        if thread_id not in room.topics:
            raise bad_request(THREAD_NOT_FOUND)
        return thread_id

    @staticmethod
    def message_in(room: Room, message_id: int | None, error: str) -> Message:
        """A stored message of a room, or 400 with `error`."""
        message = room.messages.get(message_id or 0)
        if message is None:
            raise bad_request(error)
        return message

    def store(self, room: Room, message: Message) -> Message:
        """Keep a message (new or a new version); bot output also goes to the outbox and wakes waiters."""
        room.messages[message.message_id] = message
        if message.sender is not None and message.sender.is_bot:
            self.outbox.append(message)
            self.bot_activity.notify()
        return message

    def room_of(self, message: Message) -> Room | None:
        """The room a stored message belongs to (None once its chat or topic is gone)."""
        if message.bot_id is not None:
            return self.private.get((message.bot_id, message.chat_id))
        return self.groups.get(message.chat_id)

    def next_callback_id(self) -> str:
        """A fresh callback query id (Telegram's are long decimal strings)."""
        self._next_callback_id += 1
        return str(4_000_000_000_000_000 + self._next_callback_id)

    def bot_members(self, room: Room) -> list[BotAccount]:
        """The bots that receive updates from a room."""
        if room.bot_id is not None:
            return [self.bots[room.bot_id]]
        return [bot for bot_id, bot in self.bots.items() if bot_id in room.members]
