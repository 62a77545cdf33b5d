"""Password-less sign-in to the dashboard: one-time signed links and browser sessions, both in Redis.

A link carries `nonce.signature` (HMAC-SHA256 of the nonce with a server key), so a forged or mangled token
is refused without touching Redis. Redis holds only a SHA-256 of the nonce (a dump of Redis gives nobody a
usable link or session) and who it is for; redeeming is one GETDEL, so a link works once, for 10 minutes.
Sessions are kept the same way: the cookie holds a random id, Redis its hash with the member and CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis

from routing.model import Role, VolunteerId
from routing.store import keys
from routing.store.replies import text

SIGNIN_TTL = 10 * 60
SESSION_TTL = 12 * 3600
SIGNIN_PATH = "/dashboard/signin"


@dataclass(frozen=True, slots=True)
class DashboardIdentity:
    """Who is signed in: our own staff id and roles (never a platform id or name)."""

    volunteer: VolunteerId
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class DashboardSession:
    """A signed-in browser: `token` goes in the cookie, `csrf` into every state-changing form."""

    token: str
    identity: DashboardIdentity
    csrf: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _signin_key(nonce: str) -> str:
    return f"{keys.PREFIX}dash:signin:{_digest(nonce)}"


def _session_key(token: str) -> str:
    return f"{keys.PREFIX}dash:session:{_digest(token)}"


def _roles(names: Iterable[str]) -> frozenset[Role]:
    return frozenset(Role(n) for n in names if n in Role.__members__.values())


class SignInLinks:
    """Issues and redeems one-time sign-in links."""

    def __init__(self, redis: Redis, key: bytes, base_url: str, *, ttl: int = SIGNIN_TTL) -> None:
        self._redis = redis
        self._key = key
        self._base = base_url.rstrip("/")
        self._ttl = ttl

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    async def issue(self, volunteer: VolunteerId, roles: Iterable[Role]) -> str:
        """A link for `volunteer` (send it to them privately); valid once, for `ttl` seconds."""
        nonce = secrets.token_urlsafe(24)
        record = json.dumps({"v": volunteer, "roles": sorted(r.value for r in roles)})
        await self._redis.set(_signin_key(nonce), record, ex=self._ttl)
        return f"{self._base}{SIGNIN_PATH}?token={nonce}.{self._sign(nonce)}"

    async def redeem(self, token: str) -> DashboardIdentity | None:
        """Who the link was for, or None if it is forged, used or expired. A link never works twice."""
        nonce, _, signature = token.partition(".")
        if not nonce or not hmac.compare_digest(signature.encode(), self._sign(nonce).encode()):
            return None
        raw = await self._redis.getdel(_signin_key(nonce))
        if raw is None:
            return None
        data = json.loads(raw)
        return DashboardIdentity(VolunteerId(str(data["v"])), _roles(data.get("roles", [])))


class DashboardSessions:
    """Browser sessions of signed-in staff."""

    def __init__(self, redis: Redis, *, ttl: int = SESSION_TTL) -> None:
        self._redis = redis
        self._ttl = ttl

    async def create(self, identity: DashboardIdentity) -> DashboardSession:
        session = DashboardSession(secrets.token_urlsafe(32), identity, secrets.token_urlsafe(24))
        mapping: dict[str | bytes, str | bytes] = {
            "v": identity.volunteer,
            "roles": ",".join(sorted(identity.roles)),
            "csrf": session.csrf,
        }
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(_session_key(session.token), mapping=mapping)  # type: ignore[arg-type]
        pipe.expire(_session_key(session.token), self._ttl)
        await pipe.execute()
        return session

    async def get(self, token: str) -> DashboardSession | None:
        if not token:
            return None
        raw = await self._redis.hgetall(_session_key(token))
        if not raw:
            return None
        d = {text(k): text(v) for k, v in raw.items()}
        identity = DashboardIdentity(VolunteerId(d["v"]), _roles(d.get("roles", "").split(",")))
        return DashboardSession(token, identity, d["csrf"])

    async def end(self, token: str) -> None:
        await self._redis.delete(_session_key(token))
