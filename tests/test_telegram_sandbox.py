"""The Telegram sandbox, exercised by the real python-telegram-bot as its client."""

from __future__ import annotations

import asyncio
import struct
import time
import zlib
from datetime import timedelta

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from sandboxes.telegram import Attachment, SandboxError, TelegramSandbox
from tests.telegram_fixtures import (  # the fixtures are imported so pytest finds them here
    BOT_TOKEN,
    OTHER_BOT_TOKEN,
    bot,
    make_bot,
    polling_app,
    ptb_timedelta,
    sandbox,
    webhook_receiver,
)

__all__ = ["bot", "ptb_timedelta", "sandbox"]  # fixtures used by name, not by reference
pytestmark = pytest.mark.timeout(10)


def tiny_png(width: int, height: int) -> bytes:
    """A valid, all-black grayscale PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x00" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# -- identity and errors -----------------------------------------------------------------------------------


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "sandbox123456_bot")


async def test_wrong_token_is_refused_like_telegram(sandbox: TelegramSandbox) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(sandbox, "123456:wrong-secret"):
            pass
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.bot_api_url}123456:wrong-secret/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.post(f"{sandbox.bot_api_url}not-a-token/getMe") as response:
            assert response.status == 404  # a malformed token is 404, as in Telegram


async def test_unknown_method_is_not_found(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})


async def test_chat_errors_match_telegram(sandbox: TelegramSandbox, bot: Bot) -> None:
    stranger = sandbox.create_user("Stranger")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(chat_id=999, text="hi")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(chat_id=stranger.id, text="hi")
    user = sandbox.create_user("Ana")
    sandbox.send_user_message(user, "hello")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(user.id, "Thanks. We'll be here.", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(user.id, "x" * 4097)
    assert sandbox.sent() == []


# -- polling and handlers ----------------------------------------------------------------------------------


async def test_user_text_reaches_handler_and_reply_is_visible(sandbox: TelegramSandbox) -> None:
    seen: list[str] = []

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        seen.append(update.message.text)
        await update.message.reply_text("You are in the queue.", do_quote=True)

    user = sandbox.create_user("Ana", username="ana")
    async with polling_app(sandbox, MessageHandler(filters.TEXT & ~filters.COMMAND, reply)):
        sandbox.send_user_message(user, "hi, is anyone there?")
        answer = await sandbox.wait_for(lambda m: m.chat_id == user.id and "queue" in m.text)
    assert seen == ["hi, is anyone there?"]
    assert answer.reply_to is not None and answer.reply_to.text == "hi, is anyone there?"
    assert [m.text for m in sandbox.sent(user.id)] == ["You are in the queue."]
    assert sandbox.pending_updates() == 0  # PTB confirmed the update on stop


async def test_start_command_reaches_command_handler(sandbox: TelegramSandbox) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, f"welcome, args={context.args}")

    user = sandbox.create_user("Ana")
    async with polling_app(sandbox, CommandHandler("start", start)):
        sandbox.send_user_message(user, "/start from-flyer")
        answer = await sandbox.wait_for(lambda m: m.chat_id == user.id)
    assert answer.text == "welcome, args=['from-flyer']"


async def test_button_press_reaches_callback_handler(sandbox: TelegramSandbox) -> None:
    async def offer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Take", callback_data="take c-1")]])
        await update.message.reply_text("New conversation c-1", reply_markup=keyboard)

    async def take(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data == "take c-1"
        await query.answer("Assigned to you")
        await query.edit_message_text("c-1 taken")

    volunteer = sandbox.create_user("Vol")
    async with polling_app(sandbox, CommandHandler("queue", offer), CallbackQueryHandler(take)):
        sandbox.send_user_message(volunteer, "/queue")
        offer_message = await sandbox.wait_for(lambda m: bool(m.buttons))
        assert offer_message.buttons == [("Take", "take c-1")]
        with pytest.raises(SandboxError):
            sandbox.press_button(volunteer, offer_message, "take c-2")  # no such button
        press = sandbox.press_button(volunteer, offer_message, "take c-1")
        answered = await sandbox.wait_for_answer(press)
        edited = await sandbox.wait_for(lambda m: m.version == 2)
    assert answered.answer_text == "Assigned to you"
    assert (edited.text, edited.buttons, edited.edit_date is not None) == ("c-1 taken", [], True)
    assert [m.version for m in sandbox.sent(volunteer.id)] == [1, 2]


async def test_user_edit_arrives_as_edited_message(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    original = sandbox.send_user_message(user, "I feel fine")
    sandbox.edit_user_message(original, "I don't feel fine")
    updates = await bot.get_updates(timeout=0)
    assert updates[0].message is not None and updates[0].message.text == "I feel fine"
    edited = updates[1].edited_message
    assert edited is not None
    assert (edited.message_id, edited.text) == (original.message_id, "I don't feel fine")
    assert edited.edit_date is not None


# -- long polling ------------------------------------------------------------------------------------------


async def test_long_poll_wakes_on_update_and_honours_offset(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    started = time.monotonic()
    assert await bot.get_updates(timeout=timedelta(seconds=0.2)) == ()
    assert time.monotonic() - started >= 0.15  # an empty long poll waits for `timeout`

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    sandbox.send_user_message(user, "one")
    first = await poll
    assert time.monotonic() - started < 1.0  # woke as soon as the update arrived
    assert [u.message.text for u in first if u.message] == ["one"]

    sandbox.send_user_message(user, "two")
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [first[0].update_id, first[0].update_id + 1]  # unconfirmed stay
    rest = await bot.get_updates(offset=first[0].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["two"]
    await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0)
    assert sandbox.pending_updates() == 0


async def test_second_poller_ends_the_first_with_conflict(sandbox: TelegramSandbox, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.05)
    async with make_bot(sandbox) as second:
        second_poll = asyncio.create_task(second.get_updates(timeout=timedelta(seconds=0.1)))
        with pytest.raises(Conflict, match="only one bot instance"):
            await first
        assert await second_poll == ()


async def test_each_bot_has_its_own_queue(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    sandbox.send_user_message(user, "to the bridge")
    sandbox.send_user_message(user, "to the echo bot", bot=OTHER_BOT_TOKEN)
    async with make_bot(sandbox, OTHER_BOT_TOKEN) as echo:
        echo_updates = await echo.get_updates(timeout=0)
        await echo.send_message(user.id, "echo")
    bridge_updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in bridge_updates if u.message] == ["to the bridge"]
    assert [u.message.text for u in echo_updates if u.message] == ["to the echo bot"]
    assert [m.text for m in sandbox.sent(user.id, bot=OTHER_BOT_TOKEN)] == ["echo"]
    assert sandbox.sent(user.id, bot=BOT_TOKEN) == []


# -- forum topics ------------------------------------------------------------------------------------------


async def test_forum_topic_lifecycle(sandbox: TelegramSandbox, bot: Bot) -> None:
    volunteer = sandbox.create_user("Vol")
    group = sandbox.create_forum_group("Volunteers", members=[volunteer])
    topic = await bot.create_forum_topic(group.id, "Conversation c-1")
    thread = topic.message_thread_id
    assert [t.name for t in sandbox.topics(group)] == ["Conversation c-1"]

    sandbox.send_user_message(volunteer, "hello from the team", chat=group, thread=thread)
    (update,) = await bot.get_updates(timeout=0)
    message = update.message
    assert message is not None and message.chat.is_forum
    assert (message.message_thread_id, message.is_topic_message, message.text) == (thread, True, "hello from the team")

    sent = await bot.send_message(group.id, "relayed", message_thread_id=thread)
    assert sent.message_thread_id == thread
    await bot.close_forum_topic(group.id, thread)
    await bot.reopen_forum_topic(group.id, thread)
    sandbox.delete_topic(group, thread)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(group.id, "too late", message_thread_id=thread)
    with pytest.raises(SandboxError):
        sandbox.send_user_message(volunteer, "too late", chat=group, thread=thread)


async def test_copy_message_relays_a_user_message_into_a_topic(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    group = sandbox.create_forum_group("Volunteers")
    topic = sandbox.create_topic(group, "c-1", by=sandbox.create_user("Admin"))
    original = sandbox.send_user_message(user, "I need to talk")
    copied = await bot.copy_message(
        group.id, from_chat_id=user.id, message_id=original.message_id, message_thread_id=topic.thread_id
    )
    relayed = sandbox.sent(group, topic)
    assert [(m.message_id, m.text) for m in relayed] == [(copied.message_id, "I need to talk")]


# -- blocking and programmed failures ----------------------------------------------------------------------


async def test_blocked_user_gives_forbidden(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    sandbox.send_user_message(user, "hi")
    await bot.send_message(user.id, "hello")
    sandbox.block_bot(user)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(user.id, "are you still there?")
    updates = await bot.get_updates(timeout=0)
    member_update = updates[-1].my_chat_member
    assert member_update is not None and member_update.new_chat_member.status == "kicked"
    sandbox.send_user_message(user, "sorry, I'm back")  # writing again restarts the bot, as in Telegram
    await bot.send_message(user.id, "welcome back")


async def test_programmed_failures_and_call_log(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    sandbox.send_user_message(user, "hi")
    sandbox.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(user.id, "first try")
    assert flood.value.retry_after == timedelta(seconds=7)
    sandbox.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(user.id, "second try")
    await bot.send_message(user.id, "third try")

    calls = sandbox.calls("sendMessage")
    assert [c.status for c in calls] == [429, 502, 200]
    assert all(c.chat_id == user.id for c in calls)
    assert calls[0].at <= calls[1].at <= calls[2].at
    assert sandbox.call_counts()["sendMessage"] == 3
    assert [m.text for m in sandbox.sent(user.id)] == ["third try"]


# -- webhook -----------------------------------------------------------------------------------------------


async def test_webhook_delivers_in_order_with_secret_and_retries(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    async with webhook_receiver(fail_first=1) as (url, received, two_accepted):
        assert await bot.set_webhook(url, secret_token="s3cret-token")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates(timeout=0)
        sandbox.send_user_message(user, "first")
        sandbox.send_user_message(user, "second")
        await asyncio.wait_for(two_accepted.wait(), timeout=3)
        info = await bot.get_webhook_info()
    assert all(secret == "s3cret-token" for secret, _ in received)
    texts = [body["message"]["text"] for _, body in received]
    assert texts == ["first", "first", "second"]  # the refused update is retried before the next one
    assert (info.url, info.pending_update_count) == (url, 0)
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


# -- files -------------------------------------------------------------------------------------------------


async def test_photo_upload_and_download_round_trip(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    sandbox.send_user_message(user, "hi")
    picture = tiny_png(64, 48)
    sent = await bot.send_photo(user.id, photo=picture, caption="a map")
    largest = sent.photo[-1]
    assert (largest.width, largest.height, largest.file_size, sent.caption) == (64, 48, len(picture), "a map")
    downloaded = await (await bot.get_file(largest.file_id)).download_as_bytearray()
    assert bytes(downloaded) == picture
    assert sandbox.sent(user.id)[-1].kind == "photo"


async def test_user_media_can_be_downloaded_and_resent(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    group = sandbox.create_forum_group("Volunteers")
    document = b"%PDF-1.4 letter"
    sandbox.send_user_message(user, attachment=Attachment.document(document, "letter.pdf"), caption="read this")
    sandbox.send_user_message(user, attachment=Attachment.voice(b"OggS-voice", duration=3))
    sandbox.send_user_message(user, attachment=Attachment.sticker(emoji="🌧"))
    doc_update, voice_update, sticker_update = await bot.get_updates(timeout=0)
    assert doc_update.message is not None and doc_update.message.document is not None
    assert (doc_update.message.document.file_name, doc_update.message.caption) == ("letter.pdf", "read this")
    assert doc_update.message.document.mime_type == "application/pdf"
    assert voice_update.message is not None and voice_update.message.voice is not None
    assert sticker_update.message is not None and sticker_update.message.sticker is not None
    assert sticker_update.message.sticker.emoji == "🌧"
    file = await bot.get_file(doc_update.message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == document
    relayed = await bot.send_document(group.id, document=doc_update.message.document.file_id)
    assert (
        relayed.document is not None and relayed.document.file_unique_id == doc_update.message.document.file_unique_id
    )
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type Document as Photo"):
        await bot.send_photo(group.id, photo=doc_update.message.document.file_id)


# -- commands and chat actions -----------------------------------------------------------------------------


async def test_commands_and_chat_actions(sandbox: TelegramSandbox, bot: Bot) -> None:
    user = sandbox.create_user("Ana")
    sandbox.send_user_message(user, "hi")
    await bot.set_my_commands([("start", "Talk to someone"), ("stop", "End the conversation")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "stop"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    await bot.send_chat_action(user.id, "typing")
    assert [(a.chat_id, a.action) for a in sandbox.chat_actions()] == [(user.id, "typing")]


# -- the HTTP control API ----------------------------------------------------------------------------------


async def test_http_control_api_drives_the_sandbox(sandbox: TelegramSandbox, bot: Bot) -> None:
    async with aiohttp.ClientSession(base_url=sandbox.url) as http:

        async def call(method: str, path: str, body: dict[str, object] | None = None) -> object:
            async with http.request(method, path, json=body) as response:
                payload = await response.json()
                assert payload["ok"], payload
                return payload["result"]

        user = await call("POST", "/_sandbox/users", {"first_name": "Ana"})
        assert isinstance(user, dict)
        injected = await call("POST", "/_sandbox/messages", {"user_id": user["id"], "text": "hi"})
        assert isinstance(injected, dict) and injected["message"]["text"] == "hi"
        (update,) = await bot.get_updates(timeout=0)
        assert update.message is not None and update.message.chat.id == user["id"]
        await call("POST", "/_sandbox/faults", {"method": "sendMessage", "retry_after": 3})
        with pytest.raises(RetryAfter):
            await bot.send_message(user["id"], "x")
        await bot.send_message(user["id"], "hello Ana")
        sent = await call("GET", f"/_sandbox/sent?chat_id={user['id']}")
        assert isinstance(sent, dict) and [m["message"]["text"] for m in sent["messages"]] == ["hello Ana"]
        calls = await call("GET", "/_sandbox/calls?method=sendMessage")
        assert isinstance(calls, dict) and calls["counts"]["sendMessage"] == 2
        async with http.post("/_sandbox/messages", json={"user_id": 1, "text": "x"}) as response:
            assert response.status == 404


async def test_delete_forum_topic_takes_its_messages_and_needs_the_right(sandbox: TelegramSandbox, bot: Bot) -> None:
    group = sandbox.create_forum_group("Volunteers")
    doomed = (await bot.create_forum_topic(group.id, "c-1")).message_thread_id
    kept = (await bot.create_forum_topic(group.id, "c-2")).message_thread_id
    await bot.send_message(group.id, "words that must not outlive the topic", message_thread_id=doomed)
    sandbox.set_admin(group, None, rights=["can_manage_topics"])  # no can_delete_messages
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to delete the topic"):
        await bot.delete_forum_topic(group.id, doomed)
    assert [t.thread_id for t in sandbox.topics(group)] == [doomed, kept]

    sandbox.set_admin(group, None)  # every right again
    assert await bot.delete_forum_topic(group.id, doomed)
    assert [t.thread_id for t in sandbox.topics(group)] == [kept]
    assert not sandbox.transcript(group, doomed)  # the topic's messages went with it
    assert all("must not outlive" not in m.body for m in sandbox.transcript(group))
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):  # already gone
        await bot.delete_forum_topic(group.id, doomed)
