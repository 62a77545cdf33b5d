"""The Telegram adapter: one real python-telegram-bot `Bot`, our gateway (receive) and deliverer (send).

The bridge owns the event loop and the lifecycle: no `run_polling()`; `start()` initialises the bot and sets
up polling or the webhook, and the bridge runs `gateway.poll` and the outbound pump as its own tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import InvalidToken, NetworkError, TelegramError

from adapters.telegram.files import download
from adapters.telegram.gateway import ALLOWED_UPDATES, TelegramGateway
from adapters.telegram.http import AiohttpRequest
from adapters.telegram.normalise import StaffChats
from adapters.telegram.render import TelegramDeliverer
from routing import texts
from routing.i18n import LANGUAGES, SOURCE, translate
from routing.model import Attachment
from routing.press_answers import PressAnswers
from routing.store.conversations import ConversationStore
from routing.store.desk_messages import DeskMessages
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)


def person_commands(lang: str) -> list[BotCommand]:
    """The person's command menu in a language (Telegram shows the one matching the app's language)."""
    return [BotCommand(name, translate(lang, description)) for name, description in texts.PERSON_COMMANDS]


def staff_commands() -> list[BotCommand]:
    """The volunteers' group command menu, in the organisation's language."""
    return [BotCommand(name, texts.staff(description)) for name, description in texts.STAFF_COMMAND_HELP.items()]


class AdapterStartError(Exception):
    """The adapter cannot start for a reason a person must fix (the message says what)."""


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    """Plain values the adapter needs (never the whole settings object)."""

    token: str
    api_url: str
    chats: StaffChats
    mode: str = "polling"
    webhook_url: str = ""
    webhook_secret: str = ""
    poll_timeout: int = 25
    rate_limits: bool = True


class TelegramAdapter:
    """Owns the PTB Bot; exposes the gateway and the deliverer for the bridge to run."""

    def __init__(
        self,
        options: TelegramOptions,
        writer: StreamWriter,
        conversations: ConversationStore,
        desk: DeskMessages | None = None,
    ) -> None:
        self.options = options
        api = options.api_url.rstrip("/")
        self.bot = Bot(
            options.token,
            base_url=f"{api}/bot",
            base_file_url=f"{api}/file/bot",
            request=AiohttpRequest(32, connect_timeout=5, read_timeout=10, write_timeout=10),
            get_updates_request=AiohttpRequest(1, connect_timeout=5, read_timeout=options.poll_timeout + 10),
        )
        self.gateway = TelegramGateway(
            self.bot, options.chats, writer, poll_timeout=options.poll_timeout, answers=PressAnswers(conversations)
        )
        self.started = False  # Telegram answered, the menus and the update mode are set
        self.deliverer = TelegramDeliverer(
            self.bot, options.chats, conversations, rate_limits=options.rate_limits, desk=desk
        )

    async def start(self, stop: asyncio.Event | None = None, *, attempts: int | None = None) -> bool:
        """Check the token (getMe), publish the command menus, and set up polling or the webhook; True once done.

        While Telegram cannot be reached, keep trying with back-off (a network blip at start-up must not stop a
        crisis service) until `stop` is set or `attempts` ran out (then False); a rejected token is a
        configuration error and raises AdapterStartError at once.
        """
        delay, tried = 1.0, 0
        while True:
            try:
                await self.bot.initialize()
                break
            except InvalidToken:
                raise AdapterStartError(
                    "Telegram rejected the bot token: check PEERBRIDGE_TELEGRAM__TOKEN (from @BotFather)"
                ) from None
            except NetworkError as exc:
                tried += 1
                if attempts is not None and tried >= attempts:
                    log.warning("telegram unreachable at start-up (%s); retrying in the background", type(exc).__name__)
                    return False
                log.warning("telegram unreachable at start-up (%s); retrying in %.0f s", type(exc).__name__, delay)
                if stop is None:
                    await asyncio.sleep(delay)
                else:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await stop.wait()
                    if stop.is_set():
                        return False
                delay = min(delay * 2, 30.0)
        await self._publish_commands()
        if self.options.mode == "webhook":
            await self.bot.set_webhook(
                self.options.webhook_url, secret_token=self.options.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
        else:
            await self.bot.delete_webhook()
        self.started = True
        log.info("telegram adapter started (%s)", self.options.mode)
        return True

    async def _publish_commands(self) -> None:
        """Best effort: a missing command menu is cosmetic, not a reason to stop the bridge."""
        try:
            people = BotCommandScopeAllPrivateChats()
            await self.bot.set_my_commands(person_commands(SOURCE), scope=people)  # anyone whose language we lack
            for lang in LANGUAGES:
                if lang != SOURCE:
                    await self.bot.set_my_commands(person_commands(lang), scope=people, language_code=lang)
            volunteers = BotCommandScopeChat(int(self.options.chats.volunteer))
            await self.bot.set_my_commands(staff_commands(), scope=volunteers)
        except (TelegramError, ValueError) as exc:
            log.warning("could not publish the command menus: %s", type(exc).__name__)

    async def download(self, attachment: Attachment) -> tuple[bytes, str]:
        """A Telegram file's bytes and name (at most MAX_FOREIGN_FILE_BYTES), for another platform."""
        return await download(self.bot, attachment)

    async def close(self) -> None:
        await self.bot.shutdown()
