"""Gateway v10 transport: websocket sessions, sequence numbers, heartbeats, RESUME with replay.

What the events *are* is decided elsewhere (`fanout`); this module only knows frames and sessions.
Frames go out as text (uncompressed JSON): discord.py asks for zlib-stream but reads text frames as plain JSON.
See https://discord.com/developers/docs/events/gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from aiohttp import WSMsgType, web

from sandboxes.discord.model import PRIVILEGED_INTENTS, Intent, JsonObject, Snowflake

_log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

REPLAY_LIMIT = 1000  # events kept per session for RESUME; a longer outage needs a fresh IDENTIFY
RESUME_WINDOW_S = 120.0


class GatewayHooks(Protocol):
    """What the transport needs from the world: who a token is, and what a new session is told."""

    def authenticate(self, token: str) -> Snowflake | None:
        """The bot id for a token, or None."""

    def enabled_intents(self, bot_id: Snowflake) -> Intent:
        """The privileged intents the bot's application may ask for."""

    def greet(self, session: GatewaySession) -> None:
        """Sends READY and one GUILD_CREATE per guild into a new session."""

    def members_chunk(self, session: GatewaySession, request: JsonObject) -> None:
        """Answers a REQUEST_GUILD_MEMBERS (op 8)."""


class GatewayConnection:
    """One websocket. A single writer task sends its frames in order."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.session: GatewaySession | None = None
        self._outbox: asyncio.Queue[JsonObject | None] = asyncio.Queue()

    def send(self, frame: JsonObject) -> None:
        """Queues a frame for the writer."""
        self._outbox.put_nowait(frame)

    async def pump(self) -> None:
        """Writes queued frames until stopped or the socket fails."""
        while (frame := await self._outbox.get()) is not None:
            try:
                await self.ws.send_str(json.dumps(frame))
            except ConnectionError:
                return

    def stop(self) -> None:
        """Ends the writer after the frames already queued."""
        self._outbox.put_nowait(None)

    async def close(self, code: int, reason: bytes = b"") -> None:
        """Closes the socket with a gateway close code."""
        self.stop()
        await self.ws.close(code=code, message=reason)


class GatewaySession:
    """A bot's gateway session: survives its websocket so a RESUME can replay what was missed."""

    def __init__(self, session_id: str, bot_id: Snowflake, intents: Intent) -> None:
        self.id = session_id
        self.bot_id = bot_id
        self.intents = intents
        self.seq = 0
        self.connection: GatewayConnection | None = None
        self.detached_at: float | None = None
        self._sent: deque[JsonObject] = deque(maxlen=REPLAY_LIMIT)

    def send_event(self, name: str, data: JsonObject) -> None:
        """Numbers a dispatch, keeps it for replay and sends it if a socket is attached."""
        self.seq += 1
        frame: JsonObject = {"op": OP_DISPATCH, "t": name, "s": self.seq, "d": data}
        self._sent.append(frame)
        if self.connection is not None:
            self.connection.send(frame)

    def missed_since(self, seq: int) -> list[JsonObject] | None:
        """Dispatches after `seq`, or None when some were already dropped (the session cannot resume)."""
        if seq > self.seq or seq < 0:
            return None
        missed = [f for f in self._sent if f["s"] > seq]
        if len(missed) < self.seq - seq:
            return None
        return missed

    def attach(self, connection: GatewayConnection) -> None:
        """Binds the session to a websocket."""
        self.connection = connection
        connection.session = self
        self.detached_at = None

    def detach(self, now: float) -> None:
        """Unbinds the websocket; events keep being numbered and kept."""
        self.connection = None
        self.detached_at = now


@dataclass
class GatewayStats:
    """Counters per bot, for tests that check a reconnect was a RESUME and not a new IDENTIFY."""

    connections: int = 0
    identifies: int = 0
    resumes: int = 0
    failed_resumes: int = 0


class GatewayHub:
    """Accepts gateway websockets and keeps the sessions of every bot."""

    def __init__(self, hooks: GatewayHooks, *, heartbeat_interval_ms: int = 41_250) -> None:
        self._hooks = hooks
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self._sessions: dict[str, GatewaySession] = {}
        self._connections: set[GatewayConnection] = set()
        self._holds: dict[Snowflake, asyncio.Event] = {}
        self._stats: dict[Snowflake, GatewayStats] = {}

    def sessions_of(self, bot_id: Snowflake) -> list[GatewaySession]:
        """The bot's live and resumable sessions."""
        return [s for s in self._sessions.values() if s.bot_id == bot_id]

    def stats(self, bot_id: Snowflake) -> GatewayStats:
        """Connection counters for a bot."""
        return self._stats.setdefault(bot_id, GatewayStats())

    def is_connected(self, bot_id: Snowflake) -> bool:
        """Whether the bot has a session with an open websocket."""
        return any(s.connection is not None for s in self.sessions_of(bot_id))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler for the gateway URL."""
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        connection = GatewayConnection(ws)
        self._connections.add(connection)
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(connection.pump())
                try:
                    await self._serve(connection, request)
                finally:
                    connection.stop()
        finally:
            self._connections.discard(connection)
            self._detach(connection)
        return ws

    async def _serve(self, connection: GatewayConnection, request: web.Request) -> None:
        if request.query.get("v", "10") != "10":
            await connection.close(4012, b"Invalid API version.")
            return
        hello = {"heartbeat_interval": self._heartbeat_interval_ms, "_trace": ["sandbox"]}
        connection.send({"op": OP_HELLO, "d": hello, "s": None, "t": None})
        async for message in connection.ws:
            if message.type is not WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(message.data)
            except ValueError:
                await connection.close(4002, b"Error while decoding payload.")
                return
            if not isinstance(frame, dict):
                await connection.close(4002, b"Error while decoding payload.")
                return
            await self._on_frame(connection, frame)

    async def _on_frame(self, connection: GatewayConnection, frame: JsonObject) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == OP_HEARTBEAT:
            connection.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY and isinstance(data, dict):
            await self._identify(connection, data)
        elif op == OP_RESUME and isinstance(data, dict):
            await self._resume(connection, data)
        elif connection.session is None:
            await connection.close(4003, b"Not authenticated.")
        elif op == OP_REQUEST_GUILD_MEMBERS and isinstance(data, dict):
            self._hooks.members_chunk(connection.session, data)
        elif op not in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE):
            await connection.close(4001, b"Unknown opcode.")

    async def _identify(self, connection: GatewayConnection, data: JsonObject) -> None:
        if connection.session is not None:
            await connection.close(4005, b"Already authenticated.")
            return
        bot_id = self._authenticate(data.get("token"))
        if bot_id is None:
            await connection.close(4004, b"Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await connection.close(4013, b"Invalid intent(s).")
            return
        if Intent(intents) & PRIVILEGED_INTENTS & ~self._hooks.enabled_intents(bot_id):
            _log.info("gateway: bot %s asked for a privileged intent its application has not enabled", bot_id)
            await connection.close(4014, b"Disallowed intent(s).")
            return
        await self._gate(bot_id)
        self._prune()
        session = GatewaySession(secrets.token_hex(16), bot_id, Intent(intents))
        self._sessions[session.id] = session
        stats = self.stats(bot_id)
        stats.connections += 1
        stats.identifies += 1
        session.attach(connection)
        _log.info("gateway: bot %s identified (session %s)", bot_id, session.id[:8])
        self._hooks.greet(session)

    async def _resume(self, connection: GatewayConnection, data: JsonObject) -> None:
        bot_id = self._authenticate(data.get("token"))
        if bot_id is not None:
            await self._gate(bot_id)
        session = self._sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        missed = None
        if session is not None and session.bot_id == bot_id and isinstance(seq, int):
            missed = session.missed_since(seq)
        if session is None or missed is None:
            if bot_id is not None:
                self.stats(bot_id).failed_resumes += 1
            connection.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        previous = session.connection
        session.attach(connection)
        if previous is not None:
            await previous.close(4000, b"Session resumed elsewhere.")
        for frame in missed:
            connection.send(frame)
        session.send_event("RESUMED", {"_trace": ["sandbox"]})
        stats = self.stats(session.bot_id)
        stats.connections += 1
        stats.resumes += 1
        _log.info("gateway: bot %s resumed, %d events replayed", session.bot_id, len(missed))

    def _authenticate(self, token: object) -> Snowflake | None:
        return self._hooks.authenticate(token) if isinstance(token, str) else None

    async def _gate(self, bot_id: Snowflake) -> None:
        # During a simulated outage new connections wait here, before they can identify or resume.
        hold = self._holds.get(bot_id)
        if hold is not None:
            await hold.wait()

    def _detach(self, connection: GatewayConnection) -> None:
        session = connection.session
        if session is not None and session.connection is connection:
            session.detach(asyncio.get_running_loop().time())

    def _prune(self) -> None:
        now = asyncio.get_running_loop().time()
        stale = [
            sid
            for sid, s in self._sessions.items()
            if s.detached_at is not None and now - s.detached_at > RESUME_WINDOW_S
        ]
        for sid in stale:
            del self._sessions[sid]

    async def disconnect(self, bot_id: Snowflake, *, code: int = 4000, resumable: bool = True) -> int:
        """Closes the bot's websockets; returns how many were open.

        With `resumable` the session survives and discord.py RESUMEs; without it a RESUME is refused
        (INVALID_SESSION) and the bot must IDENTIFY again.
        """
        closed = 0
        now = asyncio.get_running_loop().time()
        for session in self.sessions_of(bot_id):
            connection = session.connection
            session.detach(now)
            if not resumable:
                del self._sessions[session.id]
            if connection is not None:
                closed += 1
                await connection.close(code)
        return closed

    def hold(self, bot_id: Snowflake) -> None:
        """Makes the bot's next connections wait (before IDENTIFY/RESUME) until `release`."""
        self._holds.setdefault(bot_id, asyncio.Event())

    def release(self, bot_id: Snowflake) -> None:
        """Lets waiting connections of the bot proceed."""
        hold = self._holds.pop(bot_id, None)
        if hold is not None:
            hold.set()

    async def close(self) -> None:
        """Closes every websocket (server shutdown)."""
        for hold in self._holds.values():
            hold.set()
        self._holds.clear()
        for connection in list(self._connections):
            with contextlib.suppress(ConnectionError):
                await connection.close(1001, b"Sandbox stopping.")
