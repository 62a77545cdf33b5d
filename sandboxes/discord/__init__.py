"""A local Discord (REST v10 + gateway v10) that discord.py talks to unmodified, with controls to play people,
guilds and failures against it (`DiscordSandbox`, in `sandbox`; over HTTP under `/_sandbox/`, in `control`).

What the tests, the benchmarks and the demo use is exported here; the other modules are the server's parts.
"""

from sandboxes.discord.core import SandboxSettings
from sandboxes.discord.errors import SandboxError
from sandboxes.discord.limits import RateLimit, RateLimits
from sandboxes.discord.model import (
    ActionKind,
    BotAccount,
    Channel,
    Guild,
    Intent,
    Message,
    Permission,
    Role,
    Upload,
    User,
)
from sandboxes.discord.sandbox import DiscordSandbox

__all__ = [
    "ActionKind",
    "BotAccount",
    "Channel",
    "DiscordSandbox",
    "Guild",
    "Intent",
    "Message",
    "Permission",
    "RateLimit",
    "RateLimits",
    "Role",
    "SandboxError",
    "SandboxSettings",
    "Upload",
    "User",
]
