"""A local Telegram Bot API server that python-telegram-bot talks to unmodified, with controls to play people,
groups and failures against it (`TelegramSandbox`, in `sandbox`; over HTTP under `/_sandbox/`, in `control`).

What the tests, the benchmarks and the demo use is exported here; the other modules are the server's parts.
"""

from sandboxes.telegram.errors import SandboxError
from sandboxes.telegram.flood import FloodLimits
from sandboxes.telegram.inbound import Attachment
from sandboxes.telegram.model import Chat, Message, User
from sandboxes.telegram.sandbox import TelegramSandbox
from sandboxes.telegram.webhook import RetryPolicy

__all__ = ["Attachment", "Chat", "FloodLimits", "Message", "RetryPolicy", "SandboxError", "TelegramSandbox", "User"]
