"""Programmed failures and the record of Bot API calls (for flood-control and retry tests)."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from sandboxes.telegram.errors import ApiError, too_many_requests


@dataclass(frozen=True)
class ApiCall:
    """One Bot API call as the sandbox saw it; `at` is `time.monotonic()` seconds."""

    bot_id: int
    method: str
    at: float
    chat_id: int | str | None
    status: int


@dataclass
class Fault:
    """The next `remaining` calls of `method` ("*" for any) answer `status` (after `delay` seconds)."""

    method: str
    remaining: int
    status: int = 429
    retry_after: int = 1
    description: str | None = None
    bot_id: int | None = None
    delay: float = 0.0

    def error(self) -> ApiError | None:
        """The answer to give, or None for a delay-only fault."""
        if self.status == 200:
            return None
        if self.status == 429:
            return too_many_requests(self.retry_after)
        try:
            default = HTTPStatus(self.status).phrase
        except ValueError:
            default = "Error"
        return ApiError(self.status, self.description or default)


class FaultPlan:
    """Faults waiting to fire, in the order they were programmed."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Program a fault; method names are case-insensitive, as Telegram's are."""
        if fault.remaining < 1:
            raise ValueError("a fault must fire at least once")
        fault.method = fault.method.lower()
        self._faults.append(fault)

    def take(self, bot_id: int, method: str) -> Fault | None:
        """The fault this call triggers, if any (consuming one of its repetitions)."""
        for fault in self._faults:
            if fault.method in ("*", method.lower()) and fault.bot_id in (None, bot_id):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        """Forget all programmed faults."""
        self._faults.clear()


class CallLog:
    """Every Bot API call, in arrival order."""

    def __init__(self) -> None:
        self._calls: list[ApiCall] = []

    def record(self, call: ApiCall) -> None:
        """Append one call."""
        self._calls.append(call)

    def calls(self, method: str | None = None, bot_id: int | None = None) -> list[ApiCall]:
        """Calls, optionally of one method (case-insensitive) and/or one bot."""
        wanted = method.lower() if method else None
        return [
            call
            for call in self._calls
            if (wanted is None or call.method.lower() == wanted) and (bot_id is None or call.bot_id == bot_id)
        ]

    def counts(self, bot_id: int | None = None) -> dict[str, int]:
        """Number of calls per method name."""
        counts: dict[str, int] = {}
        for call in self.calls(bot_id=bot_id):
            counts[call.method] = counts.get(call.method, 0) + 1
        return counts
