"""The sandbox's parts wired together, and the small HTTP helpers every route module shares."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandboxes.discord import errors
from sandboxes.discord.activity import BotActivity
from sandboxes.discord.fanout import EventFanout
from sandboxes.discord.limits import CallLog, FaultPlan, RateLimiter, RateLimits
from sandboxes.discord.model import BotAccount, Snowflake
from sandboxes.discord.payloads import PayloadBuilder
from sandboxes.discord.state import SandboxState
from sandboxes.discord.traffic import MessageTraffic

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"
RESUME_PATH = "/gateway/resume"


@dataclass(frozen=True)
class SandboxSettings:
    """Behaviour knobs of a sandbox."""

    rate_limits: RateLimits = field(default_factory=RateLimits)
    heartbeat_interval_ms: int = 41_250
    interaction_deadline_s: float = 3.0  # Discord's window for the initial interaction response
    interaction_token_ttl_s: float = 15 * 60


class SandboxCore:
    """State plus the services that change it; shared by the REST, gateway and control layers."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.base_url = "http://127.0.0.1"
        self.state = SandboxState()
        self.payloads = PayloadBuilder(self.state, lambda: self.base_url)
        self.fanout = EventFanout(
            self.state,
            self.payloads,
            lambda: self.ws_url + RESUME_PATH,
            heartbeat_interval_ms=settings.heartbeat_interval_ms,
        )
        self.hub = self.fanout.hub
        self.activity = BotActivity(self.now)
        self.traffic = MessageTraffic(self.state, self.fanout, self.activity)
        self.limiter = RateLimiter(settings.rate_limits)
        self.faults = FaultPlan()
        self.calls = CallLog()

    @property
    def ws_url(self) -> str:
        """The websocket origin (ws://host:port)."""
        return "ws" + self.base_url.removeprefix("http")

    @staticmethod
    def now() -> float:
        """The clock for call and action timestamps (monotonic seconds)."""
        return time.monotonic()


CORE_KEY = web.AppKey("sandbox_core", SandboxCore)
BOT_KEY = web.RequestKey("sandbox_bot", BotAccount)


def core_of(request: web.Request) -> SandboxCore:
    """The sandbox a request belongs to."""
    return request.app[CORE_KEY]


def bot_of(request: web.Request) -> BotAccount:
    """The authenticated bot (the middleware has already refused unauthenticated calls)."""
    return request[BOT_KEY]


def snowflake(request: web.Request, name: str) -> Snowflake:
    """A snowflake path parameter; a malformed one is Discord's 50035."""
    raw = request.match_info[name]
    if not raw.isdigit():
        raise errors.invalid_form(name, "NUMBER_TYPE_COERCE", f'Value "{raw[:20]}" is not snowflake.')
    return Snowflake(int(raw))


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response with Content-Type exactly `application/json` (discord.py parses nothing else)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def no_content() -> web.Response:
    """204 No Content."""
    return web.Response(status=204)


def error_response(error: errors.ApiError) -> web.Response:
    """Discord's JSON error body."""
    return json_response(error.body(), status=error.status)
