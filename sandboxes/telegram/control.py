"""The control API over HTTP (`/_sandbox/...`), so a browser page or another process can drive the sandbox.

Bodies and answers are JSON; answers use the Bot API shape `{"ok": true, "result": ...}`, errors
`{"ok": false, "description": ...}` with 400 (or 404 for unknown ids). Messages are rendered as
`{"bot_id", "version", "message": <Bot API Message>}`. Routes (each mirrors a `TelegramSandbox` method):

    GET  /_sandbox/bots                                   registered bots
    GET  /_sandbox/users | POST {first_name, username?, id?}
    POST /_sandbox/users/{user_id}/block                  {bot_id?, blocked?=true}
    POST /_sandbox/chats                                  {type: forum|supergroup|group|channel, title, members?, bots?}
    POST /_sandbox/chats/{chat_id}/members                {user_ids}
    GET  /_sandbox/chats/{chat_id}/topics | POST {name, by?, icon_color?}
    DELETE /_sandbox/chats/{chat_id}/topics/{thread_id}
    GET  /_sandbox/chats/{chat_id}/messages               ?thread_id&bot_id: the chat's current messages
    POST /_sandbox/messages     {user_id, text?, chat_id?, thread_id?, bot_id?, caption?, reply_to?,
                                 attachment?: {kind, data_base64, file_name?, mime_type?, duration?, emoji?}}
    POST /_sandbox/edits        {chat_id, message_id, bot_id?, text}
    POST /_sandbox/callbacks    {user_id, chat_id, message_id, bot_id?, data} -> {callback_query_id}
    GET  /_sandbox/callbacks/{query_id}                   the bot's answer
    POST /_sandbox/faults       {method, times?, status?, retry_after?, description?, bot_id?, delay?}; DELETE clears
    GET  /_sandbox/sent         ?chat_id&thread_id&bot_id&since&timeout: bot output (long poll with timeout)
    GET  /_sandbox/calls        ?method&bot_id: Bot API calls and counts per method
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandboxes.telegram.control_port import ControlledSandbox
from sandboxes.telegram.errors import ApiError, SandboxError
from sandboxes.telegram.inbound import Attachment
from sandboxes.telegram.model import JsonObject, MediaKind, Message, User
from sandboxes.telegram.wire import chat_wire, message_wire, topic_wire, user_wire

Route = Callable[[web.Request], Awaitable[web.Response]]


def message_view(message: Message) -> JsonObject:
    """A message as the control API shows it."""
    return {"bot_id": message.bot_id, "version": message.version, "message": message_wire(message)}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _guarded(route: Route) -> Route:
    async def guarded(request: web.Request) -> web.Response:
        try:
            return await route(request)
        except KeyError as error:
            return web.json_response({"ok": False, "description": f"unknown {error.args[0]}"}, status=404)
        except (SandboxError, ApiError, ValueError, TypeError) as error:
            return web.json_response({"ok": False, "description": str(error)}, status=400)

    return guarded


async def _body(request: web.Request) -> JsonObject:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise SandboxError("the body must be a JSON object")
    return body


def _attachment(raw: JsonObject) -> Attachment:
    try:
        data = base64.b64decode(raw.get("data_base64", ""), validate=True)
    except binascii.Error:
        raise SandboxError("data_base64 is not base64") from None
    kind = MediaKind(raw.get("kind", ""))
    if kind is MediaKind.PHOTO:
        return Attachment.photo(data, raw.get("width"), raw.get("height"))
    if kind is MediaKind.DOCUMENT:
        return Attachment.document(data, raw.get("file_name", "file.bin"), raw.get("mime_type"))
    if kind is MediaKind.VOICE:
        return Attachment.voice(data, int(raw.get("duration", 1)))
    return Attachment.sticker(data or b"RIFF\x00\x00\x00\x00WEBP", raw.get("emoji", "🙂"))


class ControlApi:
    """The `/_sandbox` handlers; each maps to one `TelegramSandbox` method."""

    def __init__(self, sandbox: ControlledSandbox) -> None:
        self.sandbox = sandbox

    def _user(self, user_id: Any) -> User:
        user = self.sandbox.world.users.get(int(user_id))
        if user is None:
            raise KeyError("user")
        return user

    def _message(self, body: JsonObject) -> Message:
        chat_id = int(body["chat_id"])
        bot_id = body.get("bot_id")
        found = [m for m in self.sandbox.transcript(chat_id, bot=bot_id) if m.message_id == int(body["message_id"])]
        if not found:
            raise KeyError("message")
        return found[0]

    async def bots(self, request: web.Request) -> web.Response:
        return _ok([user_wire(bot.user) for bot in self.sandbox.world.bots.values()])

    async def users(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            return _ok([user_wire(u) for u in self.sandbox.world.users.values() if not u.is_bot])
        body = await _body(request)
        user = self.sandbox.create_user(str(body["first_name"]), username=body.get("username"), user_id=body.get("id"))
        return _ok(user_wire(user))

    async def chats(self, request: web.Request) -> web.Response:
        body = await _body(request)
        kind, title = body.get("type", "forum"), str(body["title"])
        members = [self._user(i) for i in body.get("members", [])]
        bots = body.get("bots")
        if kind == "forum":
            chat = self.sandbox.create_forum_group(title, members=members, bots=bots)
        elif kind == "channel":
            chat = self.sandbox.create_channel(title, members=members, bots=bots, username=body.get("username", ""))
        elif kind in ("group", "supergroup"):
            chat = self.sandbox.create_group(title, members=members, bots=bots, supergroup=kind == "supergroup")
        else:
            raise SandboxError("type is one of forum, supergroup, group, channel")
        return _ok(chat_wire(chat))

    async def members(self, request: web.Request) -> web.Response:
        body = await _body(request)
        users = [self._user(i) for i in body.get("user_ids", [])]
        self.sandbox.add_members(int(request.match_info["chat_id"]), *users)
        return _ok(True)

    async def topics(self, request: web.Request) -> web.Response:
        chat_id = int(request.match_info["chat_id"])
        if request.method == "GET":
            return _ok([topic_wire(t) | {"closed": t.closed} for t in self.sandbox.topics(chat_id)])
        body = await _body(request)
        by = self._user(body["by"]) if "by" in body else None
        topic = self.sandbox.create_topic(chat_id, str(body["name"]), by=by, icon_color=body.get("icon_color"))
        return _ok(topic_wire(topic))

    async def delete_topic(self, request: web.Request) -> web.Response:
        self.sandbox.delete_topic(int(request.match_info["chat_id"]), int(request.match_info["thread_id"]))
        return _ok(True)

    async def messages(self, request: web.Request) -> web.Response:
        body = await _body(request)
        message = self.sandbox.send_user_message(
            self._user(body["user_id"]),
            str(body.get("text", "")),
            chat=body.get("chat_id"),
            thread=body.get("thread_id"),
            bot=body.get("bot_id"),
            attachment=_attachment(body["attachment"]) if "attachment" in body else None,
            caption=str(body.get("caption", "")),
            reply_to=body.get("reply_to"),
        )
        return _ok(message_view(message))

    async def edits(self, request: web.Request) -> web.Response:
        body = await _body(request)
        return _ok(message_view(self.sandbox.edit_user_message(self._message(body), str(body["text"]))))

    async def callbacks(self, request: web.Request) -> web.Response:
        body = await _body(request)
        query = self.sandbox.press_button(self._user(body["user_id"]), self._message(body), str(body["data"]))
        return _ok({"callback_query_id": query.id})

    async def callback(self, request: web.Request) -> web.Response:
        query = self.sandbox.world.callbacks.get(request.match_info["query_id"])
        if query is None:
            raise KeyError("callback query")
        return _ok({"answered": query.answered, "text": query.answer_text, "show_alert": query.show_alert})

    async def block(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self._user(request.match_info["user_id"])
        self.sandbox.block_bot(user, body.get("bot_id"), blocked=bool(body.get("blocked", True)))
        return _ok(True)

    async def faults(self, request: web.Request) -> web.Response:
        if request.method == "DELETE":
            self.sandbox.faults.clear()
            return _ok(True)
        body = await _body(request)
        self.sandbox.fail_next(
            str(body["method"]),
            times=int(body.get("times", 1)),
            status=int(body.get("status", 429)),
            retry_after=int(body.get("retry_after", 1)),
            description=body.get("description"),
            bot=body.get("bot_id"),
            delay=float(body.get("delay", 0.0)),
        )
        return _ok(True)

    async def sent(self, request: web.Request) -> web.Response:
        query = request.query
        since = int(query.get("since", 0))
        timeout = float(query.get("timeout", 0))
        if timeout > 0:  # long poll: wait until anything newer than `since` exists
            await self.sandbox.world.bot_activity.wait_until(
                lambda: True if self.sandbox.mark() > since else None, min(timeout, 60.0)
            )
        chat, thread = query.get("chat_id"), query.get("thread_id")
        found = self.sandbox.sent(
            int(chat) if chat else None,
            int(thread) if thread else None,
            bot=_int_or_none(query.get("bot_id")),
            since=since,
        )
        return _ok({"messages": [message_view(m) for m in found], "next": self.sandbox.mark()})

    async def transcript(self, request: web.Request) -> web.Response:
        thread, bot = request.query.get("thread_id"), request.query.get("bot_id")
        found = self.sandbox.transcript(
            int(request.match_info["chat_id"]), int(thread) if thread else None, bot=_int_or_none(bot)
        )
        return _ok([message_view(m) for m in found])

    async def calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        found = self.sandbox.calls(method, bot=_int_or_none(request.query.get("bot_id")))
        rows = [
            {"bot_id": c.bot_id, "method": c.method, "at": c.at, "chat_id": c.chat_id, "status": c.status}
            for c in found
        ]
        return _ok({"counts": self.sandbox.call_counts(), "calls": rows})


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value else None


def control_routes(sandbox: ControlledSandbox) -> list[web.RouteDef]:
    """The `/_sandbox` routes for one sandbox."""
    api = ControlApi(sandbox)
    table: list[tuple[str, str, Route]] = [
        ("GET", "/_sandbox/bots", api.bots),
        ("GET", "/_sandbox/users", api.users),
        ("POST", "/_sandbox/users", api.users),
        ("POST", "/_sandbox/users/{user_id}/block", api.block),
        ("POST", "/_sandbox/chats", api.chats),
        ("POST", "/_sandbox/chats/{chat_id}/members", api.members),
        ("GET", "/_sandbox/chats/{chat_id}/topics", api.topics),
        ("POST", "/_sandbox/chats/{chat_id}/topics", api.topics),
        ("DELETE", "/_sandbox/chats/{chat_id}/topics/{thread_id}", api.delete_topic),
        ("GET", "/_sandbox/chats/{chat_id}/messages", api.transcript),
        ("POST", "/_sandbox/messages", api.messages),
        ("POST", "/_sandbox/edits", api.edits),
        ("POST", "/_sandbox/callbacks", api.callbacks),
        ("GET", "/_sandbox/callbacks/{query_id}", api.callback),
        ("POST", "/_sandbox/faults", api.faults),
        ("DELETE", "/_sandbox/faults", api.faults),
        ("GET", "/_sandbox/sent", api.sent),
        ("GET", "/_sandbox/calls", api.calls),
    ]
    return [web.route(method, path, _guarded(handler)) for method, path, handler in table]
