"""A local Telegram Bot API server for end-to-end tests, `peerbridge demo` and volunteer training.

The real python-telegram-bot talks to it unmodified::

    sandbox = TelegramSandbox(tokens=["123:ABC"])
    url = await sandbox.start()
    app = ApplicationBuilder().token("123:ABC").base_url(f"{url}/bot").base_file_url(f"{url}/file/bot").build()
    user = sandbox.create_user("Ana")
    sandbox.send_user_message(user, "hi")
    reply = await sandbox.wait_for(lambda m: m.chat_id == user.id)

The same control operations are served as JSON under `/_sandbox/...` (see `control`). The control
API has no authentication: bind to a loopback address only. The sandbox never logs message text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from types import TracebackType

from aiohttp import web

from sandboxes.telegram import inbound
from sandboxes.telegram.control import control_routes
from sandboxes.telegram.errors import SandboxError
from sandboxes.telegram.faults import ApiCall, CallLog, Fault, FaultPlan
from sandboxes.telegram.flood import FloodControl, FloodLimits
from sandboxes.telegram.http import MAX_REQUEST_BYTES, BotApiServer
from sandboxes.telegram.inbound import Attachment, Outgoing
from sandboxes.telegram.members import ALL_RIGHTS
from sandboxes.telegram.model import CallbackQuery, Chat, ChatAction, ChatType, Message, Topic, User
from sandboxes.telegram.topics import open_topic, remove_topic
from sandboxes.telegram.webhook import RetryPolicy, WebhookDispatcher
from sandboxes.telegram.world import BotAccount, Room, World

_LOG = logging.getLogger(__name__)
BotRef = User | int | str | None  # a bot's User, id or token; None means the first registered bot
ChatRef = Chat | int
ThreadRef = Topic | int | None


class TelegramSandbox:
    """A Bot API server plus the controls to play users, groups and failures against it."""

    def __init__(
        self,
        tokens: Iterable[str] = (),
        *,
        clock: Callable[[], float] = time.time,
        webhook_retry: RetryPolicy | None = None,
        flood_limits: FloodLimits | None = None,
    ) -> None:
        self.world = World(clock)
        self.faults = FaultPlan()
        self.flood = FloodControl(flood_limits or FloodLimits())  # Telegram's own, unless a caller says why not
        self.call_log = CallLog()
        self._webhooks = WebhookDispatcher(self.world, webhook_retry)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        for token in tokens:
            self.add_bot(token)

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port); returns the base url, e.g. `http://127.0.0.1:8081`."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already running")
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.add_routes(BotApiServer(self.world, self._webhooks, self.faults, self.call_log, self.flood).routes())
        app.add_routes(control_routes(self))
        # A short shutdown timeout: a long poll a client abandoned must not hold up `stop()`.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        for bot in self.world.bots.values():
            bot.updates.reopen()
        await self._webhooks.open()
        bound_port = runner.addresses[0][1]
        self._url = f"http://{host}:{bound_port}"
        _LOG.info("telegram sandbox listening on %s", self._url)
        return self._url

    async def stop(self) -> None:
        """End long polls and webhook deliveries, then stop serving."""
        for bot in self.world.bots.values():
            bot.updates.close()
        await self._webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramSandbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Base url of the running server."""
        if self._url is None:
            raise RuntimeError("the sandbox is not started")
        return self._url

    @property
    def bot_api_url(self) -> str:
        """What to pass to PTB's `base_url(...)`."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """What to pass to PTB's `base_file_url(...)`."""
        return f"{self.url}/file/bot"

    # -- bots, people, chats -------------------------------------------------------------------------------

    def add_bot(self, token: str, *, username: str | None = None, first_name: str | None = None) -> User:
        """Register a bot token (its id is the token's prefix); each bot has its own update queue."""
        return self.world.add_bot(token, username, first_name).user

    def bot(self, ref: BotRef = None) -> BotAccount:
        """A registered bot by User, id or token; None gives the first registered one."""
        if ref is None:
            if not self.world.bots:
                raise SandboxError("no bot is registered")
            return next(iter(self.world.bots.values()))
        if isinstance(ref, str):
            found = self.world.bot_by_token(ref)
        else:
            found = self.world.bots.get(ref.id if isinstance(ref, User) else ref)
        if found is None:
            raise SandboxError("no such bot")
        return found

    def create_user(
        self,
        first_name: str,
        *,
        username: str | None = None,
        user_id: int | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> User:
        """A person with a Telegram account (not yet in touch with any bot)."""
        extra = {"last_name": last_name, "language_code": language_code}
        return self.world.add_user(first_name, username, user_id, **extra)

    def create_forum_group(
        self, title: str, *, members: Iterable[User] = (), bots: Iterable[BotRef] | None = None
    ) -> Chat:
        """A supergroup with topics enabled; `bots` defaults to every registered bot (as admins)."""
        return self._create_chat(ChatType.SUPERGROUP, title, members, bots, is_forum=True)

    def create_group(
        self,
        title: str,
        *,
        members: Iterable[User] = (),
        bots: Iterable[BotRef] | None = None,
        supergroup: bool = True,
    ) -> Chat:
        """A group without topics (a supergroup unless `supergroup=False`)."""
        chat_type = ChatType.SUPERGROUP if supergroup else ChatType.GROUP
        return self._create_chat(chat_type, title, members, bots)

    def create_channel(
        self, title: str, *, members: Iterable[User] = (), bots: Iterable[BotRef] | None = None, username: str = ""
    ) -> Chat:
        """A channel; `members` are the people who may post in it."""
        return self._create_chat(ChatType.CHANNEL, title, members, bots, username=username or None)

    def _create_chat(
        self,
        chat_type: ChatType,
        title: str,
        members: Iterable[User],
        bots: Iterable[BotRef] | None,
        *,
        is_forum: bool = False,
        username: str | None = None,
    ) -> Chat:
        room = self.world.add_chat(chat_type, title, is_forum=is_forum, username=username)
        bot_ids = list(self.world.bots) if bots is None else [self.bot(ref).id for ref in bots]
        room.members.update(bot_ids)
        room.admins.update((bot_id, ALL_RIGHTS) for bot_id in bot_ids)  # as the go-live guide has them made
        self.add_members(room.chat, *members)
        return room.chat

    def room(self, chat: ChatRef) -> Room:
        """The group or channel state behind a chat."""
        room = self.world.groups.get(chat.id if isinstance(chat, Chat) else chat)
        if room is None:
            raise SandboxError("no such group or channel")
        return room

    def add_members(self, chat: ChatRef, *users: User) -> None:
        """Let people (or bots) into a group or channel."""
        room = self.room(chat)
        for user in users:
            if user.id not in self.world.users:
                raise SandboxError("unknown user")
            room.members.add(user.id)

    def set_admin(self, chat: ChatRef, who: User | BotRef, rights: Iterable[str] | None = ALL_RIGHTS) -> None:
        """Make a member (person or bot) an administrator with `rights`, or an ordinary member (`None`)."""
        room = self.room(chat)
        member_id = who.id if isinstance(who, User) else self.bot(who).id
        if member_id not in room.members:
            raise SandboxError("not a member of that chat")
        if rights is None:
            room.admins.pop(member_id, None)
        else:
            room.admins[member_id] = frozenset(rights)

    def set_forum(self, chat: ChatRef, enabled: bool) -> None:
        """Turn the group's Topics on or off, as its owner can in the group's settings."""
        room = self.room(chat)
        room.chat = replace(room.chat, is_forum=enabled)

    def create_topic(self, chat: ChatRef, name: str, *, by: User | None = None, icon_color: int | None = None) -> Topic:
        """Open a forum topic as an admin (`by`, default the first member); bots get the service message."""
        room = self.room(chat)
        actor = by or next((self.world.users[m] for m in room.members if not self.world.users[m].is_bot), None)
        if actor is None:
            raise SandboxError("the group has no human member to create the topic")
        message = open_topic(self.world, room, actor, name, icon_color)
        inbound.deliver(self.world, room, message)
        return room.topics[message.message_id]

    def delete_topic(self, chat: ChatRef, thread: ThreadRef) -> None:
        """Delete a topic and its messages, as an admin would; later sends there answer 400."""
        remove_topic(self.room(chat), _thread_id(thread))

    def topics(self, chat: ChatRef) -> list[Topic]:
        """The open and closed topics of a forum, oldest first."""
        return list(self.room(chat).topics.values())

    # -- what people do ------------------------------------------------------------------------------------

    def send_user_message(
        self,
        user: User,
        text: str = "",
        *,
        chat: ChatRef | None = None,
        thread: ThreadRef = None,
        bot: BotRef = None,
        attachment: Attachment | None = None,
        caption: str = "",
        reply_to: Message | int | None = None,
    ) -> Message:
        """`user` writes to `bot` in private (no `chat`), or into a group/channel and topic."""
        chat_id = chat.id if isinstance(chat, Chat) else chat
        reply_id = reply_to.message_id if isinstance(reply_to, Message) else reply_to
        what = Outgoing(text, attachment, caption, reply_id)
        return inbound.send(self.world, user, self.bot(bot), (chat_id, _thread_id(thread)), what)

    def edit_user_message(self, message: Message, text: str) -> Message:
        """The author edits an earlier message (its caption for media); bots get `edited_message`."""
        return inbound.edit(self.world, message, text)

    def press_button(self, user: User, message: Message, data: str) -> CallbackQuery:
        """`user` presses the inline button carrying `data` on a bot message; returns the query."""
        return inbound.press(self.world, user, message, data)

    def block_bot(self, user: User, bot: BotRef = None, *, blocked: bool = True) -> None:
        """`user` blocks (or, with `blocked=False`, unblocks) the bot: sends then answer 403."""
        inbound.set_blocked(self.world, self.bot(bot), user, blocked)

    # -- failures ------------------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        times: int = 1,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        bot: BotRef = None,
        delay: float = 0.0,
    ) -> None:
        """The next `times` calls of `method` ("*" for any) answer `status` (429 carries `retry_after`).

        `status=200` with a `delay` only slows the calls down. `bot=None` applies to every bot.
        """
        bot_id = None if bot is None else self.bot(bot).id
        self.faults.add(Fault(method, times, status, retry_after, description, bot_id, delay))

    # -- what the bot did ----------------------------------------------------------------------------------

    def sent(
        self, chat: ChatRef | None = None, thread: ThreadRef = None, *, bot: BotRef = None, since: int = 0
    ) -> list[Message]:
        """Every message version bots sent, in order (an edit appears as a later version)."""
        chat_id = chat.id if isinstance(chat, Chat) else chat
        thread_id = _thread_id(thread)
        bot_id = None if bot is None else self.bot(bot).id
        return [
            m
            for m in self.world.outbox[since:]
            if (chat_id is None or m.chat_id == chat_id)
            and (thread_id is None or m.thread_id == thread_id)
            and (bot_id is None or m.sender_id == bot_id)
        ]

    def mark(self) -> int:
        """A position in the bot output; pass it as `since` to look only at what comes after."""
        return len(self.world.outbox)

    def transcript(self, chat: ChatRef, thread: ThreadRef = None, *, bot: BotRef = None) -> list[Message]:
        """The current messages of a chat (both sides), oldest first; private chats need the bot."""
        chat_id = chat.id if isinstance(chat, Chat) else chat
        if chat_id in self.world.groups:
            room: Room | None = self.world.groups[chat_id]
        else:
            room = self.world.private.get((self.bot(bot).id, chat_id))
        messages = list(room.messages.values()) if room else []
        thread_id = _thread_id(thread)
        return [m for m in messages if thread_id is None or m.thread_id == thread_id]

    def latest(self, message: Message) -> Message | None:
        """The current version of a message (None once deleted)."""
        room = self.world.room_of(message)
        return room.messages.get(message.message_id) if room else None

    def callback(self, query: CallbackQuery | str) -> CallbackQuery:
        """A button press with the bot's answer, once given."""
        return self.world.callbacks[query.id if isinstance(query, CallbackQuery) else query]

    def chat_actions(self) -> list[ChatAction]:
        """Every `sendChatAction`, in order."""
        return list(self.world.chat_actions)

    def calls(self, method: str | None = None, *, bot: BotRef = None) -> list[ApiCall]:
        """Bot API calls with monotonic timestamps, optionally of one method."""
        return self.call_log.calls(method, None if bot is None else self.bot(bot).id)

    def call_counts(self, *, bot: BotRef = None) -> dict[str, int]:
        """Number of Bot API calls per method."""
        return self.call_log.counts(None if bot is None else self.bot(bot).id)

    def pending_updates(self, bot: BotRef = None) -> int:
        """Updates queued for a bot and not yet confirmed."""
        return len(self.bot(bot).updates)

    async def wait_for(
        self,
        predicate: Callable[[Message], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 (a test helper's deadline, like asyncio.wait_for's)
        *,
        since: int = 0,
    ) -> Message:
        """The first message version a bot sent (from position `since`) matching `predicate`.

        Raises TimeoutError if none arrives in time.
        """
        found = await self.world.bot_activity.wait_until(
            lambda: next((m for m in self.world.outbox[since:] if predicate(m)), None), timeout
        )
        if found is None:
            raise TimeoutError(f"no bot message matched within {timeout} s")
        return found

    async def wait_for_answer(
        self,
        query: CallbackQuery,
        timeout: float = 5.0,  # noqa: ASYNC109 (a test helper's deadline)
    ) -> CallbackQuery:
        """The button press once the bot answered it (`answerCallbackQuery`)."""
        answered = await self.world.bot_activity.wait_until(
            lambda: self.callback(query) if self.callback(query).answered else None, timeout
        )
        if answered is None:
            raise TimeoutError(f"the callback query was not answered within {timeout} s")
        return answered

    async def settle(self, seconds: float = 0.05) -> None:
        """Give the bot a moment to act (for asserting that it sent nothing)."""
        await asyncio.sleep(seconds)


def _thread_id(thread: ThreadRef) -> int | None:
    return thread.thread_id if isinstance(thread, Topic) else thread
