"""Where a relayed message's (or an alert's) time went: split at the two Redis streams it passed, using the
entry ids (milliseconds of Redis's clock at XADD): sandbox -> inbound stream (receive + ingest), -> outbound
stream (router), -> sandbox (pump, scheduler, platform call). 1 ms resolution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar, cast

from redis.asyncio import Redis

from harness.settings import ENCRYPTION_KEY
from harness.timing import percentile
from relay.worlds import TAG, World
from routing.codec import decode_inbound, decode_outbound
from routing.model import Audience
from routing.store import keys
from routing.store.cipher import TextCipher, decode_key

Item = TypeVar("Item")  # what a stage split follows: a relay's sequence number, an alert's pseudonym


def alert_alias(text: str) -> str:
    """The person's pseudonym in an alert ("⚠ RISK HIGH · suicide · <pseudonym> · conversation c-1"), or ""."""
    parts = text.split(" · ")
    return parts[2] if len(parts) > 2 else ""


def split_stages(
    due: Mapping[Item, float],
    arrived: Mapping[Item, float],
    inbound: Mapping[Item, float],
    outbound: Mapping[Item, float],
    wall_offset: float,
) -> dict[str, dict[str, float]]:
    """p50/p99 of each stage: due (monotonic s) -> inbound entry -> outbound entry (entry ids: ms of Redis's
    clock) -> arrived at the sandbox (monotonic s); `wall_offset` turns monotonic into wall-clock seconds."""
    parts: dict[str, list[float]] = {"receive+ingest": [], "route": [], "deliver": []}
    for item, at in arrived.items():
        if item in inbound and item in outbound:
            parts["receive+ingest"].append(inbound[item] - (due[item] + wall_offset) * 1000)
            parts["route"].append(outbound[item] - inbound[item])
            parts["deliver"].append((at + wall_offset) * 1000 - outbound[item])
    return {
        name: {"p50": round(percentile(v, 0.5), 1), "p99": round(percentile(v, 0.99), 1)} for name, v in parts.items()
    }


class StreamStages:
    """Reads the bridge's streams back after a run (entries are encrypted with the benchmark's key)."""

    def __init__(self, redis: Redis, world: World) -> None:
        self._redis = redis
        self._world = world
        self._cipher = TextCipher([decode_key(ENCRYPTION_KEY)])

    async def relays(
        self, due: dict[int, float], arrived: dict[int, float], since_ms: float, wall_offset: float
    ) -> dict[str, dict[str, float]]:
        """Split each relayed message's latency; messages are matched by their tag (qz<sequence number>)."""

        async def tagged(stream: str, outbound: bool) -> dict[int, float]:
            found: dict[int, float] = {}
            for at_ms, raw in await self._entries(stream, since_ms):
                text = decode_outbound(raw).text if outbound else decode_inbound(raw).text
                match = TAG.search(text)
                if match and int(match.group(1)) in due:
                    found.setdefault(int(match.group(1)), at_ms)
            return found

        inbound = await tagged(keys.INBOUND, False)
        outbound = await tagged(keys.outbound(self._world.platform), True)
        return split_stages(due, arrived, inbound, outbound, wall_offset)

    async def alerts(
        self, due: dict[str, float], arrived: dict[str, float], since_ms: float, wall_offset: float
    ) -> dict[str, dict[str, float]]:
        """Split each alert's latency like a relay's: sandbox -> urgent inbound lane (receive + ingest), ->
        the alert's entry in the urgent outbound lane (router, escalation desk), -> escalation chat (deliver).
        People are matched by pseudonym (the risk people's are unique)."""
        world = self._world
        ingested: dict[str, float] = {}
        for at_ms, raw in await self._entries(keys.INBOUND_URGENT, since_ms):
            message = decode_inbound(raw)
            ingested.setdefault(world.pseudonyms.alias(world.platform, message.sender), at_ms)
        emitted: dict[str, float] = {}
        for at_ms, raw in await self._entries(keys.outbound(world.platform, True), since_ms):
            alert = decode_outbound(raw)
            if alert.audience == Audience.ESCALATION:
                emitted.setdefault(alert_alias(alert.text), at_ms)
        return split_stages(due, arrived, ingested, emitted, wall_offset)

    async def _entries(self, stream: str, since_ms: float) -> list[tuple[float, bytes]]:
        """(ms of Redis's clock, decrypted payload) of the stream's message entries from just before `since_ms`."""
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            await self._redis.xrange(stream, min=f"{int(since_ms) - 50}-0", max="+"),
        )
        return [
            (float(entry_id.split(b"-")[0]), self._cipher.decrypt(fields[b"d"]))
            for entry_id, fields in entries
            if b"d" in fields
        ]
