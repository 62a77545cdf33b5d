"""The demo page's own small web server (127.0.0.1 only): the page, its static files and a JSON API.

It runs on its own port, apart from the bridge's web server, so `peerbridge run` never serves a sandbox
forwarder. Every state-changing call is JSON (a cross-site form cannot send that without a CORS preflight,
which this server never grants), a foreign `Origin` is refused, and so is any `Host` but the loopback one
(against DNS rebinding). Message text passes through but is never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.dashboard.html import esc, security_headers
from bot.demo_page.forwarder import (
    MAX_BUTTON_DATA,
    DemoChats,
    DiscordPhone,
    NotAllowed,
    Pane,
    SandboxForwarder,
    SandboxRefused,
    pane_named,
    role_named,
)

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
FORWARDER = web.AppKey("forwarder", SandboxForwarder)
DISCORD = web.AppKey("discord", DiscordPhone)
MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class DemoNames:
    """Who the newcomer plays, shown on the page."""

    person: str
    volunteer: str
    professional: str
    scenario: str = ""
    supervisor: str = ""  # with a supervisor and a coordinator, the workspace offers a role switch
    coordinator: str = ""


_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>peerbridge demo</title>
<link rel="stylesheet" href="/demo/static/demo.css">
</head>
<body>
<header class="top"><strong>peerbridge demo</strong>
<span class="muted">everything runs on this machine: platform sandboxes, the real bot libraries, the bridge</span>
<span id="status" class="status">connecting…</span></header>
<main>
<p class="hint">You play <b>$person</b> on the phone, <b>$volunteer</b> in the volunteers' workspace and
<b>$professional</b> on call. Write as $person, press <b>Take</b> on the queue card (or send <code>/next</code>),
reply in the conversation's topic. Try a risk phrase such as <q>I want to kill myself</q>: crisis resources
reach the phone and an alert reaches the on-call chat, where you can press <b>Acknowledge</b>.$apps_hint$scenario</p>
<div class="demo">
<section class="phone" aria-label="$person's phone">
$apps<h2 id="phone-title">$person's phone · Telegram</h2>
<div class="app-pane" id="telegram-app">
<div class="chat" id="phone-chat" aria-live="polite"></div>
<form class="composer" id="phone-form" data-pane="phone">
<input id="phone-input" autocomplete="off" maxlength="4096" placeholder="Write as $person on Telegram"
 aria-label="Message as $person on Telegram">
<button type="submit" id="phone-send">Send</button></form>
</div>$discord_app
</section>
<section class="workspace" aria-label="Volunteers' workspace">
<h2>Volunteers' workspace · forum group</h2>$roles
<nav class="topics" id="topics" aria-label="Topics"></nav>
<div class="chat" id="staff-chat" aria-live="polite"></div>
<form class="composer" id="staff-form" data-pane="staff">
<input id="staff-input" autocomplete="off" maxlength="4096" placeholder="Write as $volunteer (try /next)"
 aria-label="Message as $volunteer">
<button type="submit" id="staff-send">Send</button></form>
<h2>On-call chat · escalations</h2>
<div class="chat short" id="alerts-chat" aria-live="polite"></div>
<form class="composer" id="alerts-form" data-pane="alerts">
<input id="alerts-input" autocomplete="off" maxlength="4096" placeholder="Write as $professional (e.g. /ack e-1)"
 aria-label="Message as $professional">
<button type="submit" id="alerts-send">Send</button></form>
<details><summary>The bot's private messages to staff (sign-in links, pages)</summary>
<div class="chat short" id="direct-chat"></div></details>
</section>
</div>
</main>
<script src="/demo/static/demo.js" defer></script>
</body>
</html>
""")


_ROLES = Template("""
<p class="roles"><label for="staff-role">Write as</label>
<select id="staff-role" aria-label="Whom you play in the workspace">
<option value="volunteer" data-name="$volunteer">$volunteer · volunteer</option>
<option value="supervisor" data-name="$supervisor">$supervisor · supervisor</option>
<option value="coordinator" data-name="$coordinator">$coordinator · coordinator</option>
</select> <span class="muted">a supervisor sees every conversation; a coordinator also runs the rota
(try <code>/dashboard</code> as each)</span></p>""")

_APPS = """<div class="apps" role="group" aria-label="Messaging app on the phone">
<button type="button" class="app current" id="app-telegram" data-app="telegram" aria-pressed="true">Telegram</button>
<button type="button" class="app" id="app-discord" data-app="discord" aria-pressed="false">Discord</button></div>
"""

_DISCORD_APP = Template("""
<div class="app-pane" id="discord-app" hidden>
<div class="chat" id="discord-chat" aria-live="polite"></div>
<form class="composer" id="discord-form" data-pane="discord">
<input id="discord-input" autocomplete="off" maxlength="4096" placeholder="Write as $person on Discord"
 aria-label="Message as $person on Discord">
<button type="submit" id="discord-send">Send</button></form>
</div>""")


def render_page(names: DemoNames, discord: bool = False) -> str:
    scenario = f" A scripted scenario is playing: <b>{esc(names.scenario)}</b>." if names.scenario else ""
    hint = (
        f" On the phone, choose <b>Telegram</b> or <b>Discord</b>: the same volunteers serve people on both. "
        f"To the bridge, {esc(names.person)} on Discord is a different person (a new conversation)."
    )
    return _PAGE.substitute(
        person=esc(names.person), volunteer=esc(names.volunteer), professional=esc(names.professional),
        scenario=scenario, apps=_APPS if discord else "", apps_hint=hint if discord else "",
        discord_app=_DISCORD_APP.substitute(person=esc(names.person)) if discord else "",
        roles=_ROLES.substitute(
            volunteer=esc(names.volunteer), supervisor=esc(names.supervisor), coordinator=esc(names.coordinator)
        ) if names.supervisor and names.coordinator else "",
    )  # fmt: skip


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers=security_headers())


def _guard(port_of: dict[str, int]) -> Any:
    """Loopback Host only; JSON and same-origin for anything that changes state."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        port = port_of.get("port", 0)
        if request.host not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return _json({"error": "unknown host"}, 421)
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("Origin")
            if origin is not None and origin != f"http://{request.host}":
                return _json({"error": "cross-origin requests are refused"}, 403)
            if request.content_type != "application/json":
                return _json({"error": "send JSON"}, 415)
        return await handler(request)

    return guard


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise NotAllowed("the body is not JSON") from None
    if not isinstance(body, dict):
        raise NotAllowed("the body must be a JSON object")
    return body


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise NotAllowed(f"{what} must be a whole number")
    try:
        return int(value)
    except ValueError:
        raise NotAllowed(f"{what} must be a whole number") from None


def _discord(request: web.Request) -> DiscordPhone:
    phone = request.app.get(DISCORD)
    if phone is None:
        raise NotAllowed("this demo runs without the Discord sandbox")
    return phone


def _routes(names: DemoNames, discord: bool) -> list[web.RouteDef]:
    page = render_page(names, discord)

    async def index(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/demo/")

    async def show(_request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", headers=security_headers())

    async def state(request: web.Request) -> web.Response:
        forwarder = request.app[FORWARDER]
        messages = await forwarder.history()
        if discord:
            messages += await _discord(request).history()
        return _json({"messages": messages, "topics": await forwarder.topics(), "discord": discord})

    async def updates(request: web.Request) -> web.Response:
        forwarder = request.app[FORWARDER]
        since = _int(request.query.get("since", "0"), "since")
        try:
            timeout = float(request.query.get("timeout", "20"))
        except ValueError:
            raise NotAllowed("timeout must be a number") from None
        after = _int(request.query.get("staff_after", "0"), "staff_after")
        messages, mark = await forwarder.updates(since, timeout, after)
        return _json({"messages": messages, "next": mark, "topics": await forwarder.topics()})

    async def discord_updates(request: web.Request) -> web.Response:
        after = _int(request.query.get("after", "0"), "after")
        try:
            timeout = float(request.query.get("timeout", "20"))
        except ValueError:
            raise NotAllowed("timeout must be a number") from None
        messages, mark = await _discord(request).updates(after, timeout)
        return _json({"messages": messages, "next": mark})

    async def say(request: web.Request) -> web.Response:
        body = await _body(request)
        pane = pane_named(body.get("pane"), writable=True)
        text = body.get("text")
        if not isinstance(text, str):
            raise NotAllowed("text must be a string")
        if pane is Pane.DISCORD:
            return _json({"ok": True, "message": await _discord(request).say(text)})
        thread = body.get("thread")
        thread_id = _int(thread, "thread") if thread is not None and pane is Pane.STAFF else None
        message = await request.app[FORWARDER].say(pane, text, thread_id, role_named(body.get("as")))
        return _json({"ok": True, "message": message})

    async def press(request: web.Request) -> web.Response:
        body = await _body(request)
        pane = pane_named(body.get("pane"), writable=True)
        data = body.get("data")
        if not isinstance(data, str) or not 0 < len(data) <= MAX_BUTTON_DATA:
            raise NotAllowed("data must be a button's callback data")
        message_id = _int(body.get("message_id"), "message_id")
        if pane is Pane.DISCORD:
            await _discord(request).press(message_id, data)
        else:
            await request.app[FORWARDER].press(pane, message_id, data, role_named(body.get("as")))
        return _json({"ok": True})

    return [
        web.get("/", index),
        web.get("/demo/", show),
        web.get("/demo/api/state", _refusals(state)),
        web.get("/demo/api/updates", _refusals(updates)),
        web.get("/demo/api/discord/updates", _refusals(discord_updates)),
        web.post("/demo/api/say", _refusals(say)),
        web.post("/demo/api/press", _refusals(press)),
    ]


def _refusals(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotAllowed as refused:
            return _json({"ok": False, "error": str(refused)}, 400)
        except SandboxRefused as refused:
            return _json({"ok": False, "error": str(refused)}, 409)
        except aiohttp.ClientError as exc:
            log.warning("demo page: the sandbox did not answer (%s)", type(exc).__name__)
            return _json({"ok": False, "error": "the sandbox did not answer"}, 502)

    return wrapped


class DemoPage:
    """The running page server; `url` is what to open in a browser."""

    def __init__(self, sandbox_url: str, chats: DemoChats, names: DemoNames, *, discord_url: str = "") -> None:
        """`discord_url`: the Discord sandbox, when the demo person may also write on Discord."""
        self._sandbox_url = sandbox_url
        self._discord_url = discord_url if chats.discord_person_id is not None else ""
        self._chats = chats
        self._names = names
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    def app(self, port_of: dict[str, int]) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[_guard(port_of)])
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=40))
        app[FORWARDER] = SandboxForwarder(self._sandbox_url, self._chats, self._session)
        if self._discord_url and self._chats.discord_person_id is not None:
            app[DISCORD] = DiscordPhone(self._discord_url, self._chats.discord_person_id, self._session)
        app.router.add_routes(_routes(self._names, bool(self._discord_url)))
        app.router.add_static("/demo/static/", STATIC, show_index=False)
        return app

    async def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1:port (0 picks a free port); returns the page's url."""
        port_of: dict[str, int] = {}
        # A short shutdown timeout: an open long poll must not hold up Ctrl-C.
        runner = web.AppRunner(self.app(port_of), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", port).start()
        except OSError:
            await runner.cleanup()
            await self._close_session()
            raise
        self._runner = runner
        port_of["port"] = int(runner.addresses[0][1])
        self.url = f"http://127.0.0.1:{port_of['port']}/demo/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._close_session()

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
