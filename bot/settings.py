"""Typed settings: one TOML file, every key overridable by `PEERBRIDGE_<SECTION>__<KEY>`, secrets only from env.

`load_settings` either returns valid settings or raises `ConfigError` listing every problem in plain words,
so `peerbridge check-config` and `peerbridge run` tell a coordinator exactly what to fix.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot import shipped
from routing.intake import DEFAULT_TOPICS
from routing.model import Platform
from routing.workspace import Workspace

ENV_PREFIX = "PEERBRIDGE_"
DEFAULT_CONFIG = Path("config/peerbridge.toml")

# Settings that name a file or folder. A relative path written in the config file is read from that file's
# folder (so a config works from any current folder); one from the environment, from the current folder.
PATH_KEYS: frozenset[tuple[str, str]] = frozenset(
    {
        ("storage", "dir"),
        ("escalation", "resources_dir"),
        ("risk", "phrases_dir"),
        ("risk", "model_file"),
        ("rota", "file"),
        ("training", "scenarios_dir"),
        ("coping", "dir"),
    }
)

# Keys that hold secrets: refused in the TOML file (it may end up in version control), read from env only.
SECRET_KEYS: frozenset[tuple[str, str]] = frozenset(
    {
        ("telegram", "token"),
        ("telegram", "webhook_secret"),
        ("discord", "token"),
        ("security", "pseudonym_secret"),
        ("security", "encryption_key"),
        ("security", "previous_encryption_keys"),
        ("escalation", "webhook_secret"),
    }
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _empty_path_is_default(cls, v: object, info: ValidationInfo) -> object:
        """An empty path means "the default" (for the data folders: the files shipped with peerbridge)."""
        field = cls.model_fields[info.field_name] if info.field_name else None
        if v == "" and field is not None and field.annotation is Path:
            return field.get_default(call_default_factory=True)
        return v


class RedisSettings(_Section):
    url: str = ""  # empty: start the embedded redis-server
    sentinels: list[str] = Field(default_factory=list)  # "host:port" entries; when set, url is ignored
    master_name: str = "peerbridge"
    socket_timeout: float = Field(default=3.0, gt=0, le=30)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix:// (or be empty for the embedded Redis)")
        return v

    @field_validator("sentinels")
    @classmethod
    def _sentinels(cls, v: list[str]) -> list[str]:
        for entry in v:
            host, _, port = entry.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"sentinel {entry!r} must look like host:port")
        return v


class StorageSettings(_Section):
    dir: Path = Path("data")  # relative to the folder peerbridge runs in
    retention_days: float = Field(default=30, gt=0, le=3650)
    # Days after closing before a conversation's staff topic/thread is deleted on its platform; 0: the same as
    # retention_days. Never shorter: within retention the case record and handover notes point to it.
    platform_retention_days: float = Field(default=0, ge=0, le=3650)
    # /forget keeps a text-free record of each of the person's escalations for this many days (docs/privacy.md).
    safeguarding_records: bool = True
    safeguarding_days: float = Field(default=2190, gt=0, le=3650)

    @model_validator(mode="after")
    def _platform_not_shorter(self) -> StorageSettings:
        if 0 < self.platform_retention_days < self.retention_days:
            raise ValueError(
                f"platform_retention_days ({self.platform_retention_days:g}) is shorter than retention_days "
                f"({self.retention_days:g}): set it to 0 (the same) or to at least retention_days"
            )
        return self

    @property
    def platform_days(self) -> float:
        """Days a closed conversation's topic/thread stays on its platform (0 in the file: retention_days)."""
        return self.platform_retention_days or self.retention_days

    @property
    def safeguarding_kept(self) -> float | None:
        """Days /forget keeps the text-free escalation records for; None: it erases them too."""
        return self.safeguarding_days if self.safeguarding_records else None


class TelegramSettings(_Section):
    enabled: bool = False
    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None


class DiscordSettings(_Section):
    enabled: bool = False
    token: SecretStr | None = None
    api_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"


class StaffSettings(_Section):
    platform: Platform = Platform.TELEGRAM
    volunteer_chat: str = ""
    escalation_chat: str = ""
    # "private" (Telegram): each volunteer reads and answers their people in their own private chat with the
    # bot, past the ~20 messages a minute a bot may send into one group; the forum keeps a copy as the record.
    workspace: Workspace = Workspace.TOPICS
    # The organisation's language: every text the bot writes to staff (alerts, notes, buttons, command menus).
    # People are written to in their own language whatever this is.
    language: Literal["en", "es", "pt", "fr"] = "en"

    @field_validator("volunteer_chat", "escalation_chat", mode="before")
    @classmethod
    def _chat_id(cls, v: object) -> str:
        text = str(v).strip()
        if text and not text.lstrip("-").isdigit():
            raise ValueError(f"{text!r} is not a chat id (a number such as -1001234567890 or a Discord channel id)")
        return text


class RoutingSettings(_Section):
    assignment: Literal["pull", "auto"] = "pull"
    max_text_length: int = Field(default=4000, ge=100, le=100_000)
    flood_limit: int = Field(default=20, ge=1, le=10_000)
    aging_minutes: float = Field(default=15, gt=0, le=24 * 60)
    position_update_minutes: float = Field(default=2, ge=0.5, le=60)
    topics: list[str] = Field(default_factory=lambda: list(DEFAULT_TOPICS))
    match_wait_minutes: float = Field(default=3, ge=0, le=60)
    languages: list[str] = Field(default_factory=lambda: ["en", "es"])
    # A person waiting this long for their volunteer's reply: the volunteer is nudged; twice as long: the
    # person goes back to the front of the queue with a note.
    volunteer_silence_minutes: float = Field(default=10, ge=1, le=24 * 60)
    # A person who has not written for this long: the conversation ends kindly (not after high risk).
    person_silence_hours: float = Field(default=2, gt=0, le=7 * 24)


class EscalationSettings(_Section):
    ack_timeout: float = Field(default=120, gt=0, le=3600)  # seconds per level of the chain
    # A person in one risk episode gets the crisis resources again only when the tier rises or after this long.
    resources_repeat_minutes: float = Field(default=30, ge=1, le=24 * 60)
    review_timeout: float = Field(default=900, gt=0, le=24 * 3600)
    resources_dir: Path = shipped.CRISIS_RESOURCES
    include_text: bool = False
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None


class RiskSettings(_Section):
    phrases_dir: Path = shipped.RISK_PHRASES
    # The statistical stage beside the phrases (docs/risk.md): the message gets the higher of the two tiers.
    use_model: bool = True
    model_file: Path = shipped.RISK_MODEL
    # The organisation's opt-in: a hand escalation above the detector, or a false alarm, also keeps the person's
    # message as a labelled example (encrypted, erased by /forget) for `peerbridge risk-examples export`, this
    # many days; 0: the same as storage.retention_days (docs/privacy.md).
    keep_examples: bool = False
    examples_days: float = Field(default=0, ge=0, le=3650)

    @property
    def model(self) -> Path | None:
        return self.model_file if self.use_model else None

    def examples_kept(self, retention_days: float) -> float | None:
        """Days each labelled example is kept (0 in the file: `retention_days`); None: none are kept."""
        return (self.examples_days or retention_days) if self.keep_examples else None


class RotaSettings(_Section):
    file: Path = Path("config/rota.toml")  # relative to the folder peerbridge runs in


class TrainingSettings(_Section):
    scenarios_dir: Path = shipped.TRAINING_SCENARIOS  # practice scenarios, `<name>.toml` each


class CopingSettings(_Section):
    dir: Path = shipped.COPING_TEXTS  # the coping library: `<lang>/<name>.toml` each


class SecuritySettings(_Section):
    pseudonym_secret: SecretStr | None = None  # default: generated once and kept in storage.dir
    encryption_key: SecretStr | None = None  # default: generated once and kept in storage.dir
    previous_encryption_keys: SecretStr | None = None  # comma-separated, for key rotation


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""  # where staff open the dashboard; empty: http://<host>:<port> on this machine

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, v: str) -> str:
        # The messages never repeat the value: a URL with user:password@ in it would leak a credential.
        v = v.strip()
        if not v:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// address, such as https://peerbridge.example.org")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must be a plain address, without ?query, #fragment or user:password@")
        if parts.path.strip("/"):
            raise ValueError("must not have a path: the dashboard is served at /dashboard of that address")
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def link_base(self) -> str:
        """The address dashboard sign-in links start with: `public_url`, else this machine's own address."""
        if self.public_url:
            return self.public_url
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def public_is_local(self) -> bool:
        """True when sign-in links point at this machine only (a loopback address or localhost)."""
        return is_loopback(urlsplit(self.link_base).hostname or "")


def is_loopback(host: str) -> bool:
    """localhost, 127.x.x.x or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """All of peerbridge's configuration, validated once at start-up.

    Sources, strongest first: environment variables, then the TOML file's values (passed as init kwargs).
    """

    model_config = SettingsConfigDict(
        extra="forbid", frozen=True, env_prefix=ENV_PREFIX, env_nested_delimiter="__", case_sensitive=False
    )

    redis: RedisSettings = Field(default_factory=RedisSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    staff: StaffSettings = Field(default_factory=StaffSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    rota: RotaSettings = Field(default_factory=RotaSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    coping: CopingSettings = Field(default_factory=CopingSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings


class ConfigError(Exception):
    """Configuration problems, one plain sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    """The config file to read: --config, else PEERBRIDGE_CONFIG, else config/peerbridge.toml if present."""
    if explicit:
        return Path(explicit)
    if environ.get("PEERBRIDGE_CONFIG"):
        return Path(environ["PEERBRIDGE_CONFIG"])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_settings(path: Path | None) -> Settings:
    """Read the TOML file (if any), apply env overrides, validate; raise ConfigError with every problem."""
    env = os.environ
    problems: list[str] = []
    data = _read_toml(path, problems)
    if path is not None:
        _resolve_paths(data, path.resolve().parent)
    for section, key in sorted(SECRET_KEYS):
        if key in data.get(section, {}):
            problems.append(
                f"{section}.{key} is a secret and must not be in the config file; set the environment variable "
                f"{ENV_PREFIX}{section.upper()}__{key.upper()} instead"
            )
    _check_env_names(env, problems)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        problems.extend(_describe(exc))
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return settings


def _read_toml(path: Path | None, problems: list[str]) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        problems.append(f"config file {path} does not exist")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"config file {path} is not valid TOML: {exc}")
    except OSError as exc:
        problems.append(f"config file {path} cannot be read: {exc.strerror}")
    return {}


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Read the file's relative paths from its own folder; `~` is the user's home. Empty stays empty (default)."""
    for section, key in PATH_KEYS:
        table = data.get(section)
        if isinstance(table, dict) and isinstance(table.get(key), str) and table[key]:
            table[key] = str(base / Path(table[key]).expanduser())  # an absolute path stays as it is


def _check_env_names(env: Mapping[str, str], problems: list[str]) -> None:
    """pydantic-settings ignores unknown variables; a misspelt section should not pass silently."""
    for name in env:
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section = name[len(ENV_PREFIX) :].lower().partition("__")[0]
        if section not in Settings.model_fields:
            problems.append(f"environment variable {name}: there is no [{section}] section")


def _describe(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append(f"{where} is not a known setting (check the spelling against peerbridge.example.toml)")
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}")
    return problems
