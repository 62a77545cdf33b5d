"""`peerbridge chat-ids`: while setting up, answer `/chatid` in the bot's groups, before the staff chats are set.

`peerbridge run` needs the volunteers' and the escalation chat's ids, and those are what a coordinator does not
know yet (docs/go-live.md, step 7). This needs only the token: it reads the bot's updates, answers `/chatid` in
any group with the group's id and the writer's user id (as the running bridge does), prints each group's id
here, and stops on Ctrl-C. Nothing is stored, and a person writing to the bot meanwhile gets no answer.
"""

from __future__ import annotations

import asyncio
import contextlib

import telegram
from telegram.constants import ChatType

from adapters.telegram.gateway import chat_id_answer
from adapters.telegram.http import AiohttpRequest
from bot.settings import Settings

POLL_SECONDS = 10


async def answer_chat_ids(settings: Settings, stop: asyncio.Event) -> None:
    """Answer `/chatid` in groups until `stop` is set."""
    token = settings.telegram.token.get_secret_value() if settings.telegram.token else ""
    api = settings.telegram.api_url.rstrip("/")
    request = AiohttpRequest(4, connect_timeout=5, read_timeout=POLL_SECONDS + 5, write_timeout=10)
    bot = telegram.Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot", request=request)
    try:
        await bot.initialize()
        print(f"@{bot.bot.username} answers /chatid in its groups now; write /chatid in each group. Ctrl-C stops.")
        poller = asyncio.create_task(_poll(bot))
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({poller, stopped}, return_when=asyncio.FIRST_COMPLETED)
        poller.cancel()
        stopped.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller  # re-raises what failed in it (a refused token, say)
    finally:
        await bot.shutdown()
        await request.shutdown()


async def _poll(bot: telegram.Bot) -> None:
    offset: int | None = None
    while True:
        try:
            updates = await bot.get_updates(offset, timeout=POLL_SECONDS, allowed_updates=["message"])
        except telegram.error.NetworkError:
            await asyncio.sleep(2)  # Telegram unreachable for a moment: ask again
            continue
        for update in updates:
            offset = update.update_id + 1
            message = update.message
            if message is None or message.from_user is None or not (message.text or "").startswith("/chatid"):
                continue
            if message.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
                continue  # a private chat: the person's own id is not printed here
            thread = message.message_thread_id if message.is_topic_message else None
            await bot.send_message(
                message.chat.id, chat_id_answer(message.chat.id, message.from_user.id), message_thread_id=thread
            )
            # The id only: the answer in the group itself says which group it is (a title may name someone).
            print(f"group id {message.chat.id}", flush=True)
