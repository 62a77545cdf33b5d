"""Shared fixtures for tests that run the real python-telegram-bot against the Telegram sandbox.

Use them from a test module with `pytest_plugins = ["tests.telegram_fixtures"]`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.ext import Application, ApplicationBuilder, BaseHandler, ContextTypes

from sandboxes.telegram import RetryPolicy, TelegramSandbox

BOT_TOKEN = "123456:sandbox-test-token"
OTHER_BOT_TOKEN = "654321:echo-bot-token"
Received = tuple[str | None, dict[str, Any]]  # (secret header, update JSON) of one webhook POST


@pytest.fixture
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods: otherwise building `RetryAfter` warns (an error under pytest)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def sandbox(ptb_timedelta: None) -> AsyncIterator[TelegramSandbox]:
    """A running sandbox with two bots registered, and fast webhook retries."""
    box = TelegramSandbox(tokens=[BOT_TOKEN, OTHER_BOT_TOKEN], webhook_retry=RetryPolicy(first=0.02, longest=0.1))
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


def make_bot(box: TelegramSandbox, token: str = BOT_TOKEN) -> Bot:
    """A PTB Bot pointed at the sandbox (use it with `async with`)."""
    return Bot(token, base_url=box.bot_api_url, base_file_url=box.file_url)


@pytest.fixture
async def bot(sandbox: TelegramSandbox) -> AsyncIterator[Bot]:
    """An initialised PTB Bot talking to the sandbox."""
    async with make_bot(sandbox) as client:
        yield client


class HandlerErrors(list[BaseException]):
    """Exceptions raised inside PTB handlers; PTB only logs them, tests want to see them."""

    async def record(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            self.append(context.error)


@asynccontextmanager
async def polling_app(
    box: TelegramSandbox,
    *handlers: BaseHandler[Any, Any, Any],
    token: str = BOT_TOKEN,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A PTB Application polling the sandbox inside the test's own loop (never `run_polling`).

    Raises the first handler error on exit, so a failing handler fails the test.
    """
    app = ApplicationBuilder().token(token).base_url(box.bot_api_url).base_file_url(box.file_url).build()
    for handler in handlers:
        app.add_handler(handler)
    errors = HandlerErrors()
    app.add_error_handler(errors.record)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=2)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
    if errors:
        raise errors[0]


@asynccontextmanager
async def webhook_receiver(fail_first: int) -> AsyncIterator[tuple[str, list[Received], asyncio.Event]]:
    """A tiny aiohttp app recording webhook POSTs (secret header, body); the first `fail_first` answer 500.

    Yields the hook url, the list of received POSTs and an event set once two were accepted.
    """
    received: list[Received] = []
    two_accepted = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        if len(received) <= fail_first:
            return web.Response(status=500)
        if len(received) - fail_first >= 2:
            two_accepted.set()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", received, two_accepted
    finally:
        await runner.cleanup()
