"""Errors of the Telegram sandbox: what the Bot API answers, and misuse of the control API."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API error answer, shaped like Telegram's: HTTP status, description, optional parameters.

    Raised by method handlers and turned into `{"ok": false, ...}` by the HTTP layer.
    """

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_wire(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 answer with Telegram's `Bad Request: ` prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """A 403 answer with Telegram's `Forbidden: ` prefix."""
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 flood-wait answer; PTB turns `parameters.retry_after` into `RetryAfter`."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


class SandboxError(ValueError):
    """The control API was asked for something impossible (unknown user, button that is not there...)."""
