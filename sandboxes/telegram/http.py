"""The Bot API over HTTP: `/bot<token>/<method>` and file downloads at `/file/bot<token>/<file_path>`.

Answers have Telegram's shape: `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N,
"description": "...", "parameters": {...}}`. A malformed token or an unknown method answers 404 `Not Found`,
an unknown well-formed token 401 `Unauthorized`, as https://core.telegram.org/bots/api#making-requests does.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import time
from typing import Any

from aiohttp import web

from sandboxes.telegram.api_bot import BOT_METHODS
from sandboxes.telegram.api_common import Handler, MethodContext
from sandboxes.telegram.api_messages import MESSAGE_METHODS
from sandboxes.telegram.errors import ApiError
from sandboxes.telegram.faults import ApiCall, CallLog, FaultPlan
from sandboxes.telegram.flood import FloodControl
from sandboxes.telegram.members import MEMBER_METHODS
from sandboxes.telegram.params import Params, Upload
from sandboxes.telegram.topics import TOPIC_METHODS
from sandboxes.telegram.webhook import WebhookDispatcher
from sandboxes.telegram.world import BotAccount, World, bot_id_of

_LOG = logging.getLogger(__name__)
METHODS: dict[str, Handler] = {**BOT_METHODS, **MESSAGE_METHODS, **TOPIC_METHODS, **MEMBER_METHODS}
_BY_LOWER_NAME = {name.lower(): name for name in METHODS}  # Telegram method names are case-insensitive
MAX_REQUEST_BYTES = 52 * 1024 * 1024  # bots may upload up to 50 MB


def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


NOT_FOUND = ApiError(404, "Not Found")
UNAUTHORIZED = ApiError(401, "Unauthorized")


async def read_params(request: web.Request) -> Params:
    """Query string plus form, multipart or JSON body."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            values.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                uploads[name] = Upload(value.filename, value.content_type, value.file.read())
            else:
                values[name] = value
    return Params(values, uploads)


def _chat_of(params: Params) -> int | str | None:
    """The chat a call is about, for the call log (never raises)."""
    raw = params.text("chat_id")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return raw


class BotApiServer:
    """Routes Bot API requests to method handlers, applying flood control and programmed faults, logging calls."""

    def __init__(
        self, world: World, webhooks: WebhookDispatcher, faults: FaultPlan, calls: CallLog, flood: FloodControl
    ) -> None:
        self._world = world
        self._webhooks = webhooks
        self._faults = faults
        self._calls = calls
        self._flood = flood

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes of the Bot API."""
        return [
            web.route("*", "/bot{token}/{method}", self.handle_method),
            web.get("/file/bot{token}/{path:.+}", self.handle_file),
        ]

    def _bot(self, token: str) -> BotAccount:
        try:
            bot_id_of(token)
        except ValueError:
            raise NOT_FOUND from None
        bot = self._world.bot_by_token(token)
        if bot is None:
            raise UNAUTHORIZED
        return bot

    async def handle_method(self, request: web.Request) -> web.Response:
        """One Bot API call."""
        try:
            bot = self._bot(request.match_info["token"])
            method = _BY_LOWER_NAME.get(request.match_info["method"].lower())
            if method is None:
                raise NOT_FOUND
        except ApiError as error:
            return _answer(error.to_wire(), error.status)
        arrived = time.monotonic()
        params = await read_params(request)
        chat = _chat_of(params)
        status, body = await self._run(method, chat, MethodContext(self._world, bot, params, self._webhooks))
        self._calls.record(ApiCall(bot.id, method, arrived, chat, status))
        return _answer(body, status)

    async def _run(self, method: str, chat: int | str | None, ctx: MethodContext) -> tuple[int, dict[str, Any]]:
        try:
            fault = self._faults.take(ctx.bot.id, method)
            if fault is not None:
                await asyncio.sleep(fault.delay)
                error = fault.error()
                if error is not None:
                    raise error
            arrived = time.monotonic()
            flooded = self._flood.admit(ctx.bot.id, method, chat, arrived)
            if flooded is not None:
                raise flooded
            result = await METHODS[method](ctx)
            self._flood.count(ctx.bot.id, method, chat, arrived)  # only what the API carried out uses budget
            return 200, {"ok": True, "result": result}
        except ApiError as error:
            return error.status, error.to_wire()
        except Exception:
            # The one place that catches per call: log the method only (never parameters: they hold text).
            _LOG.exception("sandbox method %s failed", method)
            return 500, ApiError(500, "Internal Server Error").to_wire()

    async def handle_file(self, request: web.Request) -> web.Response:
        """A file download, as `File.download_*` fetches it."""
        try:
            self._bot(request.match_info["token"])
        except ApiError as error:
            return _answer(NOT_FOUND.to_wire() if error.status == 401 else error.to_wire(), 404)
        path = request.match_info["path"]
        data = self._world.files.read(path)
        if data is None:
            return _answer(NOT_FOUND.to_wire(), 404)
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return web.Response(body=data, content_type=content_type)
