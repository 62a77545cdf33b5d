"""Builds the long-lived services from settings: Redis (embedded or external), keys, detector, roster."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from bot import keys_at_rest
from bot.embedded_redis import AlreadyRunning, EmbeddedRedis
from bot.settings import Settings
from routing.coping import CopingLibrary
from routing.coping.files import load_library as load_coping_files
from routing.escalation import EscalationPolicy
from routing.i18n import use_staff_language
from routing.model import Role
from routing.pseudonyms import Pseudonymiser
from routing.resources import CrisisResources, ResourceFileError, parse_resources
from routing.risk.detector import RiskDetector
from routing.roster import Roster, parse_roster
from routing.router import RouterConfig
from routing.store.cipher import TextCipher
from routing.store.connection import RedisOptions, connect
from routing.store.connection import close as close_client
from routing.training.scenario_file import ScenarioLibrary, load_library

log = logging.getLogger(__name__)


@dataclass
class RedisConnection:
    """A client, and the redis-server peerbridge started for it (None when it uses an external or shared one)."""

    redis: Redis
    embedded: EmbeddedRedis | None

    async def close(self) -> None:
        await close_client(self.redis)
        if self.embedded is not None:
            self.embedded.stop()


@dataclass
class Services:
    """What every role needs; `embedded` is set when peerbridge started its own redis-server."""

    redis: Redis
    cipher: TextCipher
    pseudonyms: Pseudonymiser
    detector: RiskDetector
    roster: Roster
    resources: CrisisResources
    router_config: RouterConfig
    embedded: EmbeddedRedis | None
    scenarios: ScenarioLibrary = field(default_factory=ScenarioLibrary)  # practice sessions (/train)
    coping: CopingLibrary = field(default_factory=CopingLibrary)  # texts volunteers share (/share)

    async def close(self) -> None:
        await RedisConnection(self.redis, self.embedded).close()


def redis_options(settings: Settings, url: str) -> RedisOptions:
    sentinels = tuple((h, int(p)) for h, _, p in (s.rpartition(":") for s in settings.redis.sentinels))
    return RedisOptions(
        url=url, sentinels=sentinels, master_name=settings.redis.master_name,
        socket_timeout=settings.redis.socket_timeout,
    )  # fmt: skip


def load_roster(path: Path, pseudonyms: Pseudonymiser) -> Roster:
    """The roster from the rota file; a missing file means "everyone in the staff chat is a volunteer"."""
    if not path.exists():
        log.info("no rota file at %s: every member of the staff chat is a volunteer with default capacity", path)
        return Roster([], pseudonyms)
    with open(path, "rb") as f:
        return parse_roster(tomllib.load(f), pseudonyms)


def load_resources(directory: Path) -> CrisisResources:
    """Crisis resources from `<country>.toml` files; raises ResourceFileError or OSError in plain words."""
    files: dict[str, dict[str, object]] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            with open(path, "rb") as f:
                files[path.stem] = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise ResourceFileError(f"{path.name} is not valid TOML: {exc}") from None
    return parse_resources(files)


def load_training(directory: Path) -> ScenarioLibrary:
    """Practice scenarios. A bad file does not stop a crisis service: it is left out, named in the log, and
    /train explains it when asked for (`peerbridge check-config` lists the problems)."""
    library = load_library(directory)
    for problem in library.problems.values():
        log.error("training scenario left out: %s", problem)
    return library


def load_coping(directory: Path) -> CopingLibrary:
    """The coping library. Like the scenarios, a bad file does not stop a crisis service: it is left out and
    named in the log (the file and field; `peerbridge check-config` lists them too), and /share offers the rest."""
    library = load_coping_files(directory)
    for problem in library.problems.values():
        log.error("coping text left out: %s", problem)
    return library


def escalation_policy(settings: Settings, roster: Roster) -> EscalationPolicy:
    """Who is named on re-escalation, from the roster's roles."""
    return EscalationPolicy(
        ack_timeout=settings.escalation.ack_timeout,
        review_timeout=settings.escalation.review_timeout,
        backups=tuple(m.name for m in roster.members if m.has(Role.PROFESSIONAL)),
        coordinators=tuple(m.name for m in roster.members if m.has(Role.COORDINATOR)),
        include_text=settings.escalation.include_text,
        resources_interval=settings.escalation.resources_repeat_minutes * 60,
    )


def start_services(settings: Settings) -> Services:
    """Load every file the bridge needs, then open Redis (embedded if no external one is configured)."""
    storage = settings.storage.dir
    use_staff_language(settings.staff.language)  # one language for every staff text this process writes
    # Everything that can fail on bad files is loaded before a redis-server is started.
    sec = settings.security
    pseudonyms = Pseudonymiser(keys_at_rest.pseudonym_secret(sec.pseudonym_secret, storage))
    cipher = TextCipher(keys_at_rest.encryption_keys(sec.encryption_key, sec.previous_encryption_keys, storage))
    detector = RiskDetector.from_directory(settings.risk.phrases_dir, settings.risk.model)
    roster = load_roster(settings.rota.file, pseudonyms)
    resources = load_resources(settings.escalation.resources_dir)
    scenarios = load_training(settings.training.scenarios_dir)
    coping = load_coping(settings.coping.dir)
    connection = open_redis(settings)
    router_config = RouterConfig(
        staff_platform=settings.staff.platform, max_text_length=settings.routing.max_text_length,
        flood_limit=settings.routing.flood_limit, retention_days=settings.storage.retention_days,
        auto_assign=settings.routing.assignment == "auto",
        topics=tuple(settings.routing.topics), match_wait=settings.routing.match_wait_minutes * 60,
        languages=tuple(settings.routing.languages), workspace=settings.staff.workspace,
        platform_retention_days=settings.storage.platform_days,
        safeguarding_days=settings.storage.safeguarding_kept,
        examples_days=settings.risk.examples_kept(settings.storage.retention_days),
    )  # fmt: skip
    return Services(
        redis=connection.redis,
        cipher=cipher,
        pseudonyms=pseudonyms,
        detector=detector,
        roster=roster,
        resources=resources,
        router_config=router_config,
        embedded=connection.embedded,
        scenarios=scenarios,
        coping=coping,
    )


def open_redis(settings: Settings) -> RedisConnection:
    """Redis as every command reaches it: `redis.url`, the sentinels, or else the embedded redis-server over
    `storage.dir` (started here, or shared when another peerbridge process already runs it)."""
    embedded = None
    url = settings.redis.url
    if not url and not settings.redis.sentinels:
        embedded = EmbeddedRedis(data_dir=settings.storage.dir / "redis")
        try:
            embedded.start()
            url = embedded.url
            log.info("embedded redis-server started on %s (AOF everysec, data in %s)", url, embedded.data_dir)
        except AlreadyRunning as running:
            url = running.url  # never a second server on the same append-only file
            if running.orphaned:  # its owner was killed: this process takes it over, and stops it when it stops
                embedded = EmbeddedRedis.adopt(settings.storage.dir / "redis", url)
                log.warning("the embedded redis-server of a process that died is still running (%s): taken over", url)
            else:
                embedded = None  # another peerbridge process owns it: share it
                log.info("using the embedded redis-server another peerbridge process runs (%s)", url)
    return RedisConnection(connect(redis_options(settings, url)), embedded)
