"""Rate limits, programmed failures and the call log of the REST layer.

Rate limits follow https://discord.com/developers/docs/topics/rate-limits: per-route buckets keyed by the
route's major parameter, announced in X-RateLimit-* headers, plus a global per-bot limit. discord.py retries a
429 only when it carries a `Via` header (otherwise it assumes a Cloudflare ban), so every 429 here has one.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from dataclasses import dataclass, field

from sandboxes.discord.model import CallRecord, JsonObject


@dataclass(frozen=True)
class RateLimit:
    """`limit` requests per window of `per` seconds."""

    limit: int
    per: float


@dataclass(frozen=True)
class RateLimits:
    """The limits the sandbox enforces. Defaults are Discord's observed ones."""

    default: RateLimit = RateLimit(50, 1.0)
    per_route: dict[str, RateLimit] = field(
        default_factory=lambda: {"POST /channels/{channel_id}/messages": RateLimit(5, 5.0)}
    )
    global_per_second: int = 50

    @classmethod
    def relaxed(cls) -> RateLimits:
        """Limits high enough never to slow a test down."""
        return cls(default=RateLimit(10_000, 1.0), per_route={}, global_per_second=10_000)

    def for_route(self, route: str) -> RateLimit:
        """The limit of one route."""
        return self.per_route.get(route, self.default)


@dataclass(frozen=True)
class Verdict:
    """The rate limiter's answer to one request."""

    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False


@dataclass
class _Window:
    started: float
    count: int = 0


class RateLimiter:
    """Fixed-window buckets per (bot, route, major parameter), and a global window per bot."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._windows: dict[tuple[str, ...], _Window] = {}

    def check(self, bot_key: str, route: str, major: str, now: float, *, count_global: bool = True) -> Verdict:
        """Counts the request and says whether it may proceed, with the headers to send either way."""
        if count_global:
            window = self._window(("global", bot_key), now, 1.0)
            window.count += 1
            if window.count > self.limits.global_per_second:
                retry = _round_up(window.started + 1.0 - now)
                headers = {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global", "Retry-After": _secs(retry)}
                return Verdict(False, headers, retry, is_global=True)
        limit = self.limits.for_route(route)
        window = self._window((bot_key, route, major), now, limit.per)
        window.count += 1
        reset_after = _round_up(window.started + limit.per - now)
        headers = {
            "X-RateLimit-Limit": str(limit.limit),
            "X-RateLimit-Remaining": str(max(limit.limit - window.count, 0)),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": _bucket_hash(route),
        }
        if window.count > limit.limit:
            headers.update({"X-RateLimit-Scope": "user", "Retry-After": _secs(reset_after)})
            return Verdict(False, headers, reset_after)
        return Verdict(True, headers)

    def _window(self, key: tuple[str, ...], now: float, per: float) -> _Window:
        window = self._windows.get(key)
        if window is None or now - window.started >= per:
            window = self._windows[key] = _Window(started=now)
        return window


def rate_limited_body(retry_after: float, is_global: bool) -> JsonObject:
    """Discord's 429 body."""
    return {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global, "code": 0}


def _bucket_hash(route: str) -> str:
    return hashlib.sha256(route.encode()).hexdigest()[:16]


def _round_up(seconds: float) -> float:
    return max(math.ceil(seconds * 1000) / 1000, 0.001)


def _secs(seconds: float) -> str:
    return str(max(math.ceil(seconds), 1))


@dataclass(frozen=True)
class Fault:
    """A programmed failure: the status to answer, and for a 429 how long to ask the client to wait."""

    status: int
    retry_after: float = 0.0
    is_global: bool = False


class FaultPlan:
    """Failures the next calls to a route will get, in order."""

    def __init__(self) -> None:
        self._queued: dict[str, deque[Fault]] = {}

    def add(self, route: str, fault: Fault, times: int) -> None:
        """Queues `times` copies of a fault for a route key like "POST /channels/{channel_id}/messages"."""
        self._queued.setdefault(route, deque()).extend([fault] * times)

    def take(self, route: str) -> Fault | None:
        """The next fault for a route, if any."""
        queued = self._queued.get(route)
        return queued.popleft() if queued else None

    def pending(self, route: str) -> int:
        """How many faults are still queued for a route."""
        return len(self._queued.get(route, ()))

    def clear(self) -> None:
        """Forgets every queued fault."""
        self._queued.clear()


class CallLog:
    """Every REST call the sandbox answered, in arrival order."""

    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    def add(self, record: CallRecord) -> None:
        """Appends a call."""
        self.records.append(record)

    def calls(self, route: str | None = None) -> list[CallRecord]:
        """Calls to one route key (or all)."""
        return [r for r in self.records if route is None or r.route == route]
