"""Drives the real routing stack on real Redis the way adapters do: ingest inbound, read outbound streams."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis

from bot import shipped
from bot.wiring import RoutingStack, build_routing
from routing.codec import decode_outbound
from routing.escalation import EscalationPolicy
from routing.model import (
    Attachment,
    Audience,
    ChatId,
    ConversationId,
    InboundKind,
    InboundMessage,
    Origin,
    OutboundMessage,
    Platform,
    ThreadId,
    UpdateId,
    UserId,
)
from routing.ports import RiskAssessor
from routing.pseudonyms import Pseudonymiser
from routing.resources import CrisisResources
from routing.risk.detector import RiskDetector
from routing.roster import Roster, StaffMember
from routing.router import DEFAULT_RESOURCES, RouterConfig
from routing.store import keys
from routing.store.cipher import TextCipher
from routing.training.scenario_file import ScenarioLibrary

SECRET = b"test-secret-0123456789abcdef"
KEY = bytes(range(32))
STAFF_CHAT = ChatId("-1001")
_updates = itertools.count(1)
_detector: RiskDetector | None = None


def real_detector() -> RiskDetector:
    """The shipped phrase files, loaded once per test session."""
    global _detector
    if _detector is None:
        _detector = RiskDetector.from_directory(shipped.RISK_PHRASES)
    return _detector


@dataclass
class Harness:
    redis: Redis
    stack: RoutingStack
    cipher: TextCipher
    pseudonyms: Pseudonymiser
    staff_platform: Platform
    _read_from: dict[str, str] = field(default_factory=dict)

    def inbound(
        self,
        sender: str,
        text: str,
        *,
        platform: Platform = Platform.TELEGRAM,
        origin: Origin = Origin.PRIVATE,
        thread: str | None = None,
        kind: InboundKind = InboundKind.MESSAGE,
        attachments: tuple[Attachment, ...] = (),
        update_id: str | None = None,
        language: str | None = None,
    ) -> InboundMessage:
        now = time.time()
        chat = sender if origin == Origin.PRIVATE else STAFF_CHAT
        return InboundMessage(
            platform=platform, update_id=UpdateId(update_id or f"u{next(_updates)}"), origin=origin,
            chat=ChatId(chat), sender=UserId(sender), text=text, sent_at=now, received_at=now, kind=kind,
            thread=ThreadId(thread) if thread else None, attachments=attachments, language=language,
        )  # fmt: skip

    async def send(self, message: InboundMessage) -> None:
        """Ingest as an adapter would, then let the router and escalation workers process everything."""
        await self.stack.writer.ingest(message)
        await self.pump()

    async def person(self, sender: str, text: str, **kwargs: object) -> None:
        await self.send(self.inbound(sender, text, **kwargs))  # type: ignore[arg-type]

    async def staff(self, sender: str, text: str, thread: str | None = None, **kwargs: object) -> None:
        platform = cast(Platform, kwargs.pop("platform", self.staff_platform))
        origin = cast(Origin, kwargs.pop("origin", Origin.STAFF))
        message = self.inbound(sender, text, platform=platform, origin=origin, thread=thread, **kwargs)  # type: ignore[arg-type]
        await self.send(message)

    async def pump(self) -> None:
        workers = (self.stack.urgent_worker, self.stack.inbound_worker, self.stack.escalation_worker)
        for worker in workers:
            await worker.ensure_group()
        while sum([await worker.step(block_ms=0) for worker in workers]):
            pass

    async def outbound(self, platform: Platform, urgent: bool | None = None) -> list[OutboundMessage]:
        """Outbound messages emitted since the last call (both lanes unless `urgent` says which)."""
        lanes = [False, True] if urgent is None else [urgent]
        found: list[tuple[bytes, OutboundMessage]] = []
        for lane in lanes:
            stream = keys.outbound(platform, lane)
            start = self._read_from.get(stream, "-")
            entries = await self.redis.xrange(stream, min=start)
            for entry_id, fields in entries:
                if start != "-" and entry_id.decode() == start:
                    continue
                found.append((entry_id, decode_outbound(self.cipher.decrypt(fields[b"d"]))))
                self._read_from[stream] = entry_id.decode()
        return [m for _, m in sorted(found, key=lambda pair: tuple(int(p) for p in pair[0].split(b"-")))]

    async def to_person(self, platform: Platform = Platform.TELEGRAM) -> list[str]:
        return [m.text for m in await self.outbound(platform) if m.audience == Audience.SEEKER]

    async def conversation_of(self, sender: str, platform: Platform = Platform.TELEGRAM) -> ConversationId:
        conv = await self.stack.conversations.open_conversation_of(self.pseudonyms.key(platform, sender))
        assert conv is not None
        return conv

    async def open_thread(self, conv: ConversationId, thread: str) -> None:
        """What the adapter does when it creates the conversation's topic/thread."""
        await self.stack.conversations.bind_thread(conv, self.staff_platform, ThreadId(thread))

    async def taken(
        self, person: str = "9001", volunteer: str = "501", thread: str = "77", text: str = "hello"
    ) -> ConversationId:
        """`person` writes, `volunteer` takes them with /next, and their conversation's topic is `thread`;
        what all that sent is read, so the test sees only what follows."""
        await self.person(person, text)
        await self.staff(volunteer, "/next")
        conv = await self.conversation_of(person)
        await self.open_thread(conv, thread)
        await self.outbound(self.staff_platform)
        return conv


async def command_calls(redis: Redis, command: str) -> int:
    """How many times Redis has run `command` (INFO commandstats, including calls inside Lua scripts)."""
    stats = await redis.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def make_harness(
    redis: Redis,
    *,
    staff_platform: Platform = Platform.TELEGRAM,
    members: list[StaffMember] | None = None,
    detector: RiskAssessor | None = None,
    consumer: str = "router-1",
    policy: EscalationPolicy | None = None,
    scenarios: ScenarioLibrary | None = None,
    resources: CrisisResources = DEFAULT_RESOURCES,
    **config: object,
) -> Harness:
    cipher = TextCipher([KEY])
    pseudonyms = Pseudonymiser(SECRET)
    router_config = RouterConfig(staff_platform=staff_platform, **config)  # type: ignore[arg-type]
    stack = build_routing(
        redis, router_config, cipher, pseudonyms, detector or real_detector(), Roster(members or [], pseudonyms),
        consumer=consumer, policy=policy or EscalationPolicy(), scenarios=scenarios, resources=resources,
    )  # fmt: skip
    return Harness(redis, stack, cipher, pseudonyms, staff_platform)
