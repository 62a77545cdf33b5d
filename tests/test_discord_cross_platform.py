"""Discord across platforms: both real clients (python-telegram-bot and discord.py) in one bridge process, and
the adapter's pieces for carrying files between platforms; plus what happens to Discord events while Redis is down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from adapters.discord.adapter import DiscordAdapter
from bot.discord_wiring import discord_file_fetcher, discord_options
from bot.embedded_redis import free_port
from bot.services import start_services
from bot.settings import RedisSettings, Settings, StaffSettings, TelegramSettings
from routing.delivery import MAX_FOREIGN_FILE_BYTES, DeliveryError
from routing.model import Attachment, AttachmentKind, Audience, ChatId, OutboundMessage, Platform
from routing.store.conversations import ConversationStore
from routing.store.streams import StreamWriter
from sandboxes.discord import Upload
from sandboxes.telegram import Attachment as TelegramAttachment
from sandboxes.telegram import TelegramSandbox
from tests.bridge_fixtures import running_bridge
from tests.discord_bridge_fixtures import (  # the fixtures are imported so pytest finds them here
    PHOTO,
    World,
    box,
    until_ready,
    world,
)
from tests.discord_fixtures import eventually

__all__ = ["box", "world"]  # fixtures used by name, not by reference
pytestmark = pytest.mark.timeout(30)

TELEGRAM_TOKEN = "123456:sandbox-test-token"


@pytest.fixture
async def telegram(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TelegramSandbox]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB's timedelta periods (else building RetryAfter warns)
    async with TelegramSandbox(tokens=[TELEGRAM_TOKEN]) as sandbox:
        yield sandbox


def telegram_settings(tg: TelegramSandbox) -> TelegramSettings:
    return TelegramSettings(enabled=True, token=SecretStr(TELEGRAM_TOKEN), api_url=tg.url)


async def test_a_person_on_telegram_is_served_in_the_discord_workspace(world: World, telegram: TelegramSandbox) -> None:
    w, box, tg = world, world.box, telegram
    person = tg.create_user("Alex", language_code="en")
    settings = w.settings.model_copy(update={"telegram": telegram_settings(tg)})
    async with running_bridge(settings):
        await until_ready(settings)
        tg.send_user_message(person, "hello from telegram")
        await tg.wait_for(lambda m: m.chat_id == person.id and "queue" in m.body, timeout=8)
        thread = await w.take_first_card()
        await w.seen(lambda m: m.channel_id == thread.id and m.content == "hello from telegram")
        box.send_message(w.volunteer, thread, "hello from discord")
        await tg.wait_for(lambda m: m.chat_id == person.id and m.body == "hello from discord", timeout=8)
        mark = w.mark()
        tg.send_user_message(
            person, "", attachment=TelegramAttachment.photo(PHOTO, width=2, height=2), caption="my room"
        )
        carried = await w.seen(lambda m: m.channel_id == thread.id and bool(m.attachments), since=mark)
        assert carried.content == "my room"
        assert carried.attachments[0].data == PHOTO  # downloaded from Telegram, uploaded to Discord


async def test_a_person_on_discord_is_served_in_the_telegram_workspace(world: World, telegram: TelegramSandbox) -> None:
    w, box, tg = world, world.box, telegram
    volunteer = tg.create_user("Vee")
    forum = tg.create_forum_group("Volunteers", members=[volunteer])
    on_call = tg.create_group("On call", members=[volunteer])
    staff = StaffSettings(platform=Platform.TELEGRAM, volunteer_chat=str(forum.id), escalation_chat=str(on_call.id))
    settings = w.settings.model_copy(update={"telegram": telegram_settings(tg), "staff": staff})
    async with running_bridge(settings):
        await until_ready(settings)
        box.send_dm(w.person, "hello from discord")
        await w.seen(w.in_dm("queue"))
        card = await tg.wait_for(lambda m: m.chat_id == forum.id and bool(m.buttons), timeout=8)
        tg.press_button(volunteer, card, card.buttons[0][1] or "")
        relayed = await tg.wait_for(lambda m: m.body == "hello from discord", timeout=8)
        assert relayed.chat_id == forum.id and relayed.thread_id is not None
        tg.send_user_message(volunteer, "hello from telegram", chat=forum, thread=relayed.thread_id)
        await w.seen(w.in_dm("hello from telegram"))
        box.send_dm(w.person, "my drawing", attachments=[Upload("drawing.png", PHOTO, "image/png")])
        drawing = await tg.wait_for(
            lambda m: m.thread_id == relayed.thread_id and m.kind in ("photo", "document"), timeout=8
        )
        assert drawing.caption == "my drawing"  # downloaded from Discord, uploaded to the Telegram topic
        tg.send_user_message(volunteer, "/end", chat=forum, thread=relayed.thread_id)
        await w.seen(w.in_dm("ended this conversation"))
    assert not [c for c in box.calls() if c.route.startswith("PUT /applications/{application_id}/guilds")]


# --- the pieces for cross-platform files (the composition root wires them across) ---------------------------


@contextlib.asynccontextmanager
async def standalone_adapter(settings: Settings) -> AsyncIterator[DiscordAdapter]:
    """The Discord adapter alone (no router), with a stand-in fetcher for files on another platform."""
    services = await asyncio.to_thread(start_services, settings)
    writer = StreamWriter(services.redis, services.cipher, services.pseudonyms)
    conversations = ConversationStore(services.redis, services.cipher)
    started = DiscordAdapter(discord_options(settings, False), writer, conversations, fetch_from_telegram)
    try:
        await started.start()
        yield started
    finally:
        await started.close()
        await services.close()


@pytest.fixture
async def adapter(world: World) -> AsyncIterator[DiscordAdapter]:
    async with standalone_adapter(world.settings) as started:
        yield started


async def fetch_from_telegram(attachment: Attachment, source: Platform) -> tuple[bytes, str]:
    """A stand-in for the Telegram side's fetcher: it keeps the port's promise about large files."""
    if (attachment.size or 0) > MAX_FOREIGN_FILE_BYTES:
        raise DeliveryError("file too large to carry over", retryable=False)
    return f"bytes of {attachment.ref} from {source}".encode(), "photo.jpg"


async def test_files_from_another_platform_are_uploaded_or_explained(world: World, adapter: DiscordAdapter) -> None:
    w, box = world, world.box
    box.send_dm(w.person, "hello")  # the person's DM channel exists once they wrote
    small = Attachment(AttachmentKind.PHOTO, "tg-file-1", size=2_000)
    huge = Attachment(AttachmentKind.VIDEO, "tg-file-2", size=MAX_FOREIGN_FILE_BYTES + 1)
    relay = OutboundMessage(
        Platform.DISCORD, Audience.SEEKER, "k-1", "from the volunteer", chat=ChatId(str(w.dm().id)),
        attachments=(small, huge), source_platform=Platform.TELEGRAM,
    )  # fmt: skip
    await adapter.deliverer.deliver(relay)
    sent = box.bot_messages(w.dm())[-1]
    assert sent.content == "from the volunteer\n(a video was sent but is too large to carry over (limit 8 MB))"
    assert [(a.filename, a.data) for a in sent.attachments] == [("photo.jpg", b"bytes of tg-file-1 from telegram")]


async def test_discord_files_are_downloaded_for_another_platform(world: World, adapter: DiscordAdapter) -> None:
    w, box = world, world.box
    photo = box.send_dm(w.person, "", attachments=[Upload("room.png", PHOTO, "image/png")])
    stored = photo.attachments[0]
    url = f"{box.url}/attachments/{photo.channel_id}/{stored.id}/room.png"  # where the sandbox serves it
    fetch = discord_file_fetcher(adapter)
    ours = Attachment(AttachmentKind.PHOTO, url, "room.png", "image/png", len(PHOTO))
    assert await fetch(ours, Platform.DISCORD) == (PHOTO, "room.png")
    too_large = Attachment(AttachmentKind.VIDEO, url, size=MAX_FOREIGN_FILE_BYTES + 1)
    elsewhere = Attachment(AttachmentKind.PHOTO, "http://files.example.invalid/room.png")
    for refused in (too_large, elsewhere):
        with pytest.raises(DeliveryError) as error:
            await fetch(refused, Platform.DISCORD)
        assert not error.value.retryable


async def test_with_redis_down_people_are_asked_to_resend_and_the_adapter_carries_on(world: World) -> None:
    w, box = world, world.box
    unreachable = RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    async with standalone_adapter(w.settings.model_copy(update={"redis": unreachable})) as lone:
        box.send_dm(w.person, "hello?")
        await eventually(lambda: lone.gateway.events_lost == 1)
        await w.seen(w.in_dm("Please send it again"))  # never silence: Discord will not redeliver it
        asked = box.invoke_slash(w.volunteer, w.volunteers, "next")
        told = await w.seen(lambda m: m.interaction_id == asked.id)
        assert told.ephemeral and "could not record" in told.content  # Discord will not send it again: retry
        assert lone.is_ready() and lone.gateway.events_ingested == 0
