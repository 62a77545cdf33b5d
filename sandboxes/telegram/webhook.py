"""Webhook delivery: each bot with a webhook gets its updates POSTed in order, retried until accepted.

Telegram POSTs every update as JSON with the `X-Telegram-Bot-Api-Secret-Token` header and retries on any
non-2xx answer, keeping later updates queued behind it (tdlib/telegram-bot-api). The sandbox retries after a
short exponential back-off so tests stay fast.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp

from sandboxes.telegram.updates import QueuedUpdate
from sandboxes.telegram.world import BotAccount, WebhookState, World

_LOG = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off between attempts: `first` seconds, doubling up to `longest`."""

    first: float = 0.05
    longest: float = 1.0
    request_timeout: float = 10.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after `failures` consecutive failed attempts."""
        return float(min(self.first * 2 ** max(failures - 1, 0), self.longest))


class WebhookDispatcher:
    """Owns one delivery task per bot with a webhook, and the HTTP session they share."""

    def __init__(self, world: World, policy: RetryPolicy | None = None) -> None:
        self._world = world
        self._policy = policy or RetryPolicy()
        self._session: aiohttp.ClientSession | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}

    async def open(self) -> None:
        """Create the HTTP session (inside the running loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Stop every delivery and close the session."""
        for bot_id in list(self._tasks):
            await self._cancel(bot_id)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def configure(self, bot: BotAccount, state: WebhookState | None) -> None:
        """Replace the bot's webhook (None deletes it); a running delivery is stopped first."""
        await self._cancel(bot.id)
        bot.webhook = state
        bot.updates.changed.notify()  # a waiting getUpdates now answers 409
        if state is not None and self._session is not None:
            task = asyncio.create_task(self._deliver(bot, state), name=f"sandbox-webhook-{bot.id}")
            task.add_done_callback(_report_failure)
            self._tasks[bot.id] = task

    async def _cancel(self, bot_id: int) -> None:
        task = self._tasks.pop(bot_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _deliver(self, bot: BotAccount, state: WebhookState) -> None:
        failures = 0
        queue = bot.updates
        while True:
            pending = await queue.changed.wait_until(lambda: queue.peek(1) or None, 3600.0)
            if not pending:
                continue
            error = await self._post(state, pending[0])
            if error is None:
                queue.drop_first(pending[0].update_id)
                failures = 0
                continue
            failures += 1
            state.last_error_date = self._world.now()
            state.last_error_message = error
            await asyncio.sleep(self._policy.delay(failures))

    async def _post(self, state: WebhookState, update: QueuedUpdate) -> str | None:
        """One attempt; returns the error `getWebhookInfo` would show, or None when accepted."""
        assert self._session is not None
        headers = {SECRET_HEADER: state.secret_token} if state.secret_token else {}
        timeout = aiohttp.ClientTimeout(total=self._policy.request_timeout)
        try:
            async with self._session.post(
                state.url, json=update.to_wire(), headers=headers, timeout=timeout
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientError:
            return "Connection refused"


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _LOG.error("webhook delivery loop %s failed", task.get_name(), exc_info=task.exception())
