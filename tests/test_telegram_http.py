"""The bridge's python-telegram-bot backend on aiohttp, through the real PTB against the Telegram sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from adapters.telegram.http import AiohttpRequest
from bot.embedded_redis import free_port
from sandboxes.telegram import Attachment, TelegramSandbox
from tests.telegram_fixtures import BOT_TOKEN, ptb_timedelta, sandbox
from tests.test_telegram_sandbox import tiny_png

__all__ = ["ptb_timedelta", "sandbox"]  # fixtures used by name, not by reference
pytestmark = pytest.mark.timeout(10)


def aiohttp_bot(base: str, file_base: str, *, read_timeout: float = 5.0) -> Bot:
    return Bot(
        BOT_TOKEN,
        base_url=base,
        base_file_url=file_base,
        request=AiohttpRequest(4, connect_timeout=1, read_timeout=read_timeout),
        get_updates_request=AiohttpRequest(1, connect_timeout=1, read_timeout=read_timeout + 2),
    )


@pytest.fixture
async def bot(sandbox: TelegramSandbox) -> AsyncIterator[Bot]:
    async with aiohttp_bot(sandbox.bot_api_url, sandbox.file_url) as client:
        yield client


async def test_messages_and_long_polls_go_through(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    sandbox.send_user_message(user, "hi there")
    (update,) = await bot.get_updates(timeout=1)
    assert update.message is not None and update.message.text == "hi there"
    await bot.send_message(user.id, "Hello — ünïcode & spaces + plus")
    assert sandbox.sent(user.id)[-1].text == "Hello — ünïcode & spaces + plus"
    assert await bot.get_updates(offset=update.update_id + 1, timeout=1) == ()  # a long poll that times out


async def test_files_upload_as_multipart_and_download(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    sandbox.send_user_message(user, "hi")
    picture = tiny_png(32, 16)
    sent = await bot.send_photo(user.id, photo=picture, caption="a map")
    assert (sent.photo[-1].width, sent.photo[-1].file_size, sent.caption) == (32, len(picture), "a map")
    assert bytes(await (await bot.get_file(sent.photo[-1].file_id)).download_as_bytearray()) == picture
    sandbox.send_user_message(user, attachment=Attachment.document(b"%PDF-1.4 letter", "letter.pdf"))
    updates = await bot.get_updates(timeout=0)
    document = updates[-1].message.document if updates[-1].message else None
    assert document is not None
    assert bytes(await (await bot.get_file(document.file_id)).download_as_bytearray()) == b"%PDF-1.4 letter"


async def test_api_errors_reach_ptb_as_its_own_exceptions(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    sandbox.send_user_message(user, "hi")
    sandbox.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(user.id, "x")
    assert limited.value.retry_after.total_seconds() == 7
    with pytest.raises(BadRequest):
        await bot.send_message(user.id, "")  # Telegram: message text is empty
    await bot.send_message(user.id, "still works")
    assert [m.text for m in sandbox.sent(user.id)] == ["still works"]


async def test_a_slow_answer_times_out_and_a_dead_server_is_a_network_error(sandbox: TelegramSandbox) -> None:
    async with aiohttp_bot(sandbox.bot_api_url, sandbox.file_url, read_timeout=0.3) as bot:
        user = sandbox.create_user("Ana")
        sandbox.send_user_message(user, "hi")
        sandbox.fail_next("sendMessage", status=200, delay=1.0)
        with pytest.raises(TimedOut):
            await bot.send_message(user.id, "late")
    nowhere = f"http://127.0.0.1:{free_port()}"
    request = AiohttpRequest(connect_timeout=1)
    async with request:
        with pytest.raises(NetworkError) as failed:
            await request.post(f"{nowhere}/bot{BOT_TOKEN}/getMe")
    assert BOT_TOKEN not in str(failed.value)  # the URL carries the token: never in our message
