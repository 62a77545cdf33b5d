"""REST v10: the middleware every call passes (call log, programmed faults, auth, rate limits, JSON errors)
and the account routes (/users/@me, applications, gateway discovery, opening DMs).
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from sandboxes.discord import errors
from sandboxes.discord.core import (
    API_PREFIX,
    BOT_KEY,
    GATEWAY_PATH,
    SandboxCore,
    bot_of,
    core_of,
    error_response,
    json_response,
    snowflake,
)
from sandboxes.discord.drafts import read_json
from sandboxes.discord.limits import Fault, rate_limited_body
from sandboxes.discord.model import ActionKind, BotAccount, CallRecord, Snowflake
from sandboxes.discord.payloads import user_payload

_log = logging.getLogger(__name__)

# Interaction callbacks and webhook routes authenticate by the token in their path, not a bot token.
_TOKEN_IN_PATH = ("/interactions/", "/webhooks/")
_NO_AUTH = (*_TOKEN_IN_PATH, "/gateway")
_MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "interaction_id")


def route_key(request: web.Request) -> str:
    """The route template a request matched, e.g. "POST /channels/{channel_id}/messages"."""
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else request.path
    return f"{request.method} {template.removeprefix(API_PREFIX)}"


@web.middleware
async def rest_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Wraps every REST call; other paths (gateway, attachments, control API) pass straight through."""
    if not request.path.startswith(API_PREFIX + "/"):
        return await handler(request)
    core = core_of(request)
    route = route_key(request)
    arrived = core.now()
    bot = _authenticate(core, request)
    response = await _answer(core, request, handler, route, bot)
    path = request.path.removeprefix(API_PREFIX)
    core.calls.add(CallRecord(route, request.method, path, response.status, arrived, bot.id if bot else None))
    if response.status >= 400:
        _log.info("rest: %s answered %s", route, response.status)
    return response


async def _answer(
    core: SandboxCore, request: web.Request, handler: Handler, route: str, bot: BotAccount | None
) -> web.StreamResponse:
    fault = core.faults.take(route)
    if fault is not None:
        return fault_response(fault)
    path = route.split(" ", 1)[1]
    if bot is None and not path.startswith(_NO_AUTH):
        return error_response(errors.unauthorized())
    owner = str(bot.id) if bot is not None else "token"
    verdict = core.limiter.check(owner, route, _major(request), core.now(), count_global=bot is not None)
    if not verdict.allowed:
        body = rate_limited_body(verdict.retry_after, verdict.is_global)
        return json_response(body, 429, {**verdict.headers, "Via": "1.1 google"})
    try:
        response = await handler(request)
    except errors.ApiError as error:
        response = error_response(error)
    except web.HTTPException as exc:
        known = {404: errors.not_found(), 405: errors.method_not_allowed()}
        response = error_response(known.get(exc.status, errors.ApiError(exc.status, 0, exc.reason)))
    response.headers.update(verdict.headers)
    return response


def _authenticate(core: SandboxCore, request: web.Request) -> BotAccount | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bot "):
        return None
    bot = core.state.bot_by_token(header.removeprefix("Bot "))
    if bot is not None:
        request[BOT_KEY] = bot
    return bot


def _major(request: web.Request) -> str:
    info = request.match_info
    for name in _MAJOR_PARAMETERS:
        if name in info:
            return f"{name}={info[name]}"
    return ""


def fault_response(fault: Fault) -> web.Response:
    """The answer to a call that a programmed fault intercepts."""
    if fault.status == 429:
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(int(fault.retry_after + 0.999), 1)),
            "X-RateLimit-Scope": "global" if fault.is_global else "user",
        }
        if fault.is_global:
            headers["X-RateLimit-Global"] = "true"
        return json_response(rate_limited_body(fault.retry_after, fault.is_global), 429, headers)
    if fault.status in (502, 504):
        # Cloudflare answers these with an HTML page, not JSON.
        return web.Response(
            status=fault.status, text=f"<html><body>{fault.status}</body></html>", content_type="text/html"
        )
    return json_response({"message": f"{fault.status}: Internal Server Error", "code": 0}, fault.status)


# --- account routes ------------------------------------------------------------------------------------------


async def get_me(request: web.Request) -> web.Response:
    """GET /users/@me."""
    bot = bot_of(request)
    return json_response({**user_payload(bot.user), "verified": True, "mfa_enabled": False, "locale": "en-US"})


async def get_user(request: web.Request) -> web.Response:
    """GET /users/{user_id}."""
    return json_response(user_payload(core_of(request).state.user(snowflake(request, "user_id"))))


async def get_application(request: web.Request) -> web.Response:
    """GET /oauth2/applications/@me and /applications/@me."""
    return json_response(core_of(request).payloads.application(bot_of(request)))


async def get_gateway(request: web.Request) -> web.Response:
    """GET /gateway."""
    return json_response({"url": core_of(request).ws_url + GATEWAY_PATH})


async def get_gateway_bot(request: web.Request) -> web.Response:
    """GET /gateway/bot (needs the bot token)."""
    core = core_of(request)
    if BOT_KEY not in request:
        raise errors.unauthorized()
    limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
    return json_response({"url": core.ws_url + GATEWAY_PATH, "shards": 1, "session_start_limit": limit})


async def open_dm(request: web.Request) -> web.Response:
    """POST /users/@me/channels: the DM channel with a user (opening it is allowed even if DMs are closed)."""
    core, bot = core_of(request), bot_of(request)
    body = await read_json(request)
    raw = body.get("recipient_id") if isinstance(body, dict) else None
    if not str(raw).isdigit():
        raise errors.invalid_form("recipient_id", "BASE_TYPE_REQUIRED", "This field is required")
    user = core.state.user(Snowflake(int(str(raw))))
    channel = core.state.dm_channel(bot.id, user.id)
    core.activity.record(ActionKind.DM_OPEN, bot.id, channel.id)
    return json_response(core.payloads.channel(channel))


def account_routes() -> list[web.RouteDef]:
    """Routes of this module (the @me routes before the {user_id} one, which would swallow them)."""
    return [
        web.get(API_PREFIX + "/users/@me", get_me),
        web.post(API_PREFIX + "/users/@me/channels", open_dm),
        web.get(API_PREFIX + "/users/{user_id}", get_user),
        web.get(API_PREFIX + "/oauth2/applications/@me", get_application),
        web.get(API_PREFIX + "/applications/@me", get_application),
        web.get(API_PREFIX + "/gateway", get_gateway),
        web.get(API_PREFIX + "/gateway/bot", get_gateway_bot),
    ]
