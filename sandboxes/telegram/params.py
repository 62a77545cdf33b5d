"""Reading Bot API method parameters the way Telegram does.

PTB sends form fields with every non-string value JSON-encoded (`chat_id=1001`, `reply_markup={...}`), and
uploads as multipart parts, either under the parameter's name or referenced by an `attach://name` value.
JSON bodies and query strings are accepted too, as Telegram accepts them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandboxes.telegram.errors import bad_request
from sandboxes.telegram.markup import utf16_len


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """Typed access to one request's parameters; a bad or missing value answers 400 as Telegram does."""

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, Upload] | None = None) -> None:
        self._values = dict(values)
        self._uploads = dict(uploads or {})

    def has(self, name: str) -> bool:
        """Whether the parameter was sent (files included)."""
        return name in self._values or name in self._uploads

    def text(self, name: str, default: str | None = None) -> str | None:
        """A string parameter."""
        value = self._values.get(name)
        return default if value is None else str(value)

    def require_text(self, name: str) -> str:
        """A string parameter that must be present and non-empty."""
        value = self.text(name)
        if not value:
            raise bad_request(f"{name} is empty")
        return value

    def integer(self, name: str) -> int | None:
        """An integer parameter (sent as a decimal string by PTB)."""
        value = self._values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def require_integer(self, name: str) -> int:
        """An integer parameter that must be present."""
        value = self.integer(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def number(self, name: str, default: float) -> float:
        """A numeric parameter such as `timeout`."""
        value = self._values.get(name)
        try:
            return default if value is None else float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        """A boolean parameter (`true`/`false`, JSON-encoded by PTB)."""
        value = self._values.get(name)
        return value is True or str(value).lower() in ("true", "1")

    def json(self, name: str) -> Any:
        """A JSON-encoded parameter (`reply_markup`, `allowed_updates`...); None when absent."""
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def chat_ref(self, name: str = "chat_id") -> int | str:
        """A chat id, or an `@username` for public groups and channels."""
        value = self.text(name)
        if not value:
            raise bad_request(f"{name} is empty")
        if value.startswith("@"):
            return value
        return self.require_integer(name)

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file, or a string (a file_id or URL) naming an existing one."""
        if name in self._uploads:
            return self._uploads[name]
        value = self.text(name)
        if value and value.startswith("attach://"):
            upload = self._uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"wrong remote file identifier specified: can't find {value}")
            return upload
        return value or None


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= 64:
        raise bad_request("BUTTON_DATA_INVALID")
    kinds = {"callback_data", "url", "switch_inline_query", "web_app", "login_url", "copy_text", "pay"}
    if not kinds & button.keys():
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")


def reply_markup(params: Params) -> dict[str, Any] | None:
    """The `reply_markup` parameter, with inline keyboards checked as Telegram checks them."""
    markup = params.json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is not None:
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        for row in rows:
            for button in row:
                _check_button(button)
    return markup


def check_length(text: str, limit: int, what: str) -> None:
    """Telegram's length limits count UTF-16 code units (4096 for text, 1024 for captions)."""
    if utf16_len(text) > limit:
        raise bad_request(f"{what} is too long")
