"""Errors of the Discord sandbox: Discord's own JSON errors, and misuse of the control API.

Codes and messages follow https://discord.com/developers/docs/topics/opcodes-and-status-codes#json.
"""

from __future__ import annotations

from typing import Any


class SandboxError(Exception):
    """A test or control client asked for something a Discord user could not do (e.g. press a missing button)."""


class ApiError(Exception):
    """An error the sandbox answers to the bot exactly as Discord would: HTTP status, code and message."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body Discord sends with this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def unauthorized() -> ApiError:
    """A missing or unknown bot token."""
    return ApiError(401, 0, "401: Unauthorized")


def not_found() -> ApiError:
    """No such route."""
    return ApiError(404, 0, "404: Not Found")


def method_not_allowed() -> ApiError:
    """A known route with a method it does not support."""
    return ApiError(405, 0, "405: Method Not Allowed")


def unknown_channel() -> ApiError:
    """The channel does not exist (or is not one the bot could know)."""
    return ApiError(404, 10003, "Unknown Channel")


def unknown_guild() -> ApiError:
    """The guild does not exist, or the bot is not in it (Discord answers both alike since 2023)."""
    return ApiError(404, 10004, "Unknown Guild")


def unknown_member() -> ApiError:
    """The user is not a member of the guild."""
    return ApiError(404, 10007, "Unknown Member")


def unknown_message() -> ApiError:
    """The message does not exist in that channel."""
    return ApiError(404, 10008, "Unknown Message")


def unknown_user() -> ApiError:
    """The user does not exist."""
    return ApiError(404, 10013, "Unknown User")


def unknown_webhook() -> ApiError:
    """The webhook (interaction token) does not exist."""
    return ApiError(404, 10015, "Unknown Webhook")


def unknown_interaction() -> ApiError:
    """The interaction is unknown or its 3-second response window has passed."""
    return ApiError(404, 10062, "Unknown interaction")


def unknown_command() -> ApiError:
    """The application command does not exist."""
    return ApiError(404, 10063, "Unknown application command")


def missing_access() -> ApiError:
    """The bot cannot see the channel at all."""
    return ApiError(403, 50001, "Missing Access")


def missing_permissions() -> ApiError:
    """The bot sees the channel but lacks a permission for the action."""
    return ApiError(403, 50013, "Missing Permissions")


def cannot_message_user() -> ApiError:
    """The user closed their DMs (or shares no server with the bot)."""
    return ApiError(403, 50007, "Cannot send messages to this user")


def not_author() -> ApiError:
    """Editing a message someone else wrote."""
    return ApiError(403, 50005, "Cannot edit a message authored by another user")


def empty_message() -> ApiError:
    """A message with no content, embeds, components or files."""
    return ApiError(400, 50006, "Cannot send an empty message")


def thread_archived() -> ApiError:
    """Sending into an archived thread that is locked."""
    return ApiError(400, 50083, "Thread is archived")


def already_acknowledged() -> ApiError:
    """A second initial response to one interaction."""
    return ApiError(400, 40060, "Interaction has already been acknowledged.")


def invalid_webhook_token() -> ApiError:
    """An interaction token older than 15 minutes."""
    return ApiError(401, 50027, "Invalid Webhook Token")


def invalid_form(field: str, code: str, message: str) -> ApiError:
    """Discord's 50035 "Invalid Form Body" with the nested error for one field."""
    errors = {field: {"_errors": [{"code": code, "message": message}]}}
    return ApiError(400, 50035, "Invalid Form Body", errors)
