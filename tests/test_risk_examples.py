"""Issue 20, part 4, the organisation's opt-in: staff's corrections of the detector (a hand escalation above it,
a false alarm) keep a labelled example of the person's message, encrypted and expiring, which `peerbridge
risk-examples export` writes as labelled JSONL for `risk-eval`; off by default, when only categories are
counted; `/forget` erases a person's examples. Real Redis, the real routing stack (tests/routing_harness.py)."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import cast

from redis.asyncio import Redis

from bot.embedded_redis import EmbeddedRedis
from bot.settings import RiskSettings
from routing.model import EscalationId, InboundKind, Origin, Platform, RiskCategory, RiskTier, Role, UserId, VolunteerId
from routing.risk.evaluation import load_eval_set
from routing.roster import StaffMember
from routing.store import keys
from routing.store.cipher import CipherError
from routing.store.escalations import EscalationStore
from routing.store.risk_labels import RiskLabels
from tests.routing_harness import KEY, Harness, make_harness

ROOT = Path(__file__).resolve().parents[1]
ANA = StaffMember(id=VolunteerId("ana"), name="Ana", identities={Platform.TELEGRAM: UserId("501")})
LEE = StaffMember(
    id=VolunteerId("dr-lee"), name="Dr Lee", roles=frozenset({Role.VOLUNTEER, Role.PROFESSIONAL}),
    identities={Platform.TELEGRAM: UserId("700")},
)  # fmt: skip
HOME = "things at home are hard"
PHONE = "he took my phone again and says I'm not going out"  # no phrase the detector knows: staff see the risk
PLAY = "we are rehearsing the school play tonight"
LINES = "I have the pills in front of me and I'm going to take them all tonight"  # the detector: imminent
AFTER = "haha those were my lines, sorry"
WORDS = (HOME, PHONE, PLAY, LINES, AFTER)


async def _corrections(h: Harness) -> EscalationId:
    """Ana escalates 9001 by hand above the detector (abuse); Dr Lee marks the detector's alert on 9002's lines
    from a play as a false alarm, after 9002 has written again. Returns that alert's id."""
    await h.person("9001", HOME, language="en")  # their app's language: the example's
    await h.taken("9001", "501", "77", PHONE)
    await h.staff("501", "/escalate high abuse controlling partner", thread="77")
    await h.person("9002", PLAY)
    await h.person("9002", LINES)
    await h.person("9002", AFTER)
    esc = await EscalationStore(h.redis).episode_of(await h.conversation_of("9002"))
    assert esc is not None and esc.raised_by is None  # the detector's own alert
    await h.staff("700", f"falsealarm {esc.id}", kind=InboundKind.ACTION, origin=Origin.PRIVATE)  # its button
    return esc.id


async def _example_keys(redis: Redis) -> list[bytes]:
    return sorted([key async for key in redis.scan_iter(match=keys.RISK_EXAMPLE_PREFIX + "*")])


async def _audited(redis: Redis, event: str) -> list[dict[bytes, bytes]]:
    return [fields for _id, fields in await redis.xrange(keys.AUDIT) if fields[b"event"] == event.encode()]


def _export(redis_server: EmbeddedRedis, tmp_path: Path, *, keep: bool) -> subprocess.CompletedProcess[str]:
    """`peerbridge risk-examples export` as an organisation runs it, against the test Redis and keys."""
    config = tmp_path / "peerbridge.toml"
    config.write_text(
        f'[redis]\nurl = "{redis_server.url}"\n[storage]\ndir = "{tmp_path / "data"}"\n'
        f"[risk]\nkeep_examples = {str(keep).lower()}\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("PEERBRIDGE_")}
    env["PEERBRIDGE_SECURITY__ENCRYPTION_KEY"] = base64.urlsafe_b64encode(KEY).decode()
    return subprocess.run(
        [sys.executable, "-m", "bot", "risk-examples", "export", "--out", str(tmp_path / "taught.jsonl"),
         "--config", str(config)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


async def test_off_by_default_the_corrections_are_counted_and_no_words_are_kept(
    redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    h = make_harness(redis, members=[ANA, LEE])  # risk.keep_examples off: no examples_days
    await _corrections(h)
    assert await RiskLabels(redis).totals() == {"missed": {"abuse": 1}, "false_alarm": {"suicide": 1}}
    assert await _example_keys(redis) == []
    assert await _audited(redis, "risk_example_kept") == []
    async for key in redis.scan_iter(_type="string"):  # nothing new of theirs anywhere, encrypted or not
        value = cast(bytes, await redis.get(key))
        with contextlib.suppress(CipherError):  # a value that is not ours to decrypt is read as it is
            value = h.cipher.decrypt(value)
        assert not any(words.encode() in value for words in WORDS), key

    result = _export(redis_server, tmp_path, keep=False)
    assert result.returncode == 2 and "risk.keep_examples is off" in result.stderr
    assert not (tmp_path / "taught.jsonl").exists()


async def test_kept_encrypted_and_exported_as_labelled_jsonl_that_risk_eval_reads(
    redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    h = make_harness(redis, members=[ANA, LEE], examples_days=7)
    alert = await _corrections(h)
    found = await _example_keys(redis)
    assert len(found) == 2
    for key in found:
        raw = cast(bytes, await redis.get(key))
        assert not any(words.encode() in raw for words in WORDS)  # encrypted at rest
        assert 7 * 86400 - 60 < await redis.ttl(key) <= 7 * 86400  # expires with the chosen period
    assert keys.risk_example(h.pseudonyms.key(Platform.TELEGRAM, "9002"), alert).encode() in found
    kept = await _audited(redis, "risk_example_kept")  # the audit stream learns only that one was kept
    assert sorted(fields[b"source"] for fields in kept) == [b"false_alarm", b"missed"]
    assert all(set(fields) == {b"event", b"at", b"source"} for fields in kept)

    result = _export(redis_server, tmp_path, keep=True)
    assert result.returncode == 0, result.stderr
    assert "Wrote 2 labelled example(s)" in result.stdout
    assert not any(words in result.stdout + result.stderr for words in WORDS)
    assert (tmp_path / "taught.jsonl").stat().st_mode & 0o077 == 0  # people's words: the owner's only
    examples = {m.text: m for m in load_eval_set(tmp_path / "taught.jsonl")}
    missed, false_alarm = examples[PHONE], examples[LINES]  # the raising message, not the one after it
    assert (missed.is_risk, missed.tier, missed.category) == (True, RiskTier.HIGH, RiskCategory.ABUSE)
    assert missed.lang == "en"
    assert missed.context == (HOME,)
    assert (false_alarm.is_risk, false_alarm.tier, false_alarm.category) == (False, None, None)
    assert false_alarm.context == (PLAY,)


async def test_forget_erases_that_persons_examples_and_not_anothers(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, LEE], examples_days=7)
    await h.taken("9001", "501", "77", PHONE)
    await h.staff("501", "/escalate high abuse", thread="77")
    await h.taken("9003", "501", "78", HOME)
    await h.staff("501", "/escalate elevated", thread="78")
    mine, theirs = (h.pseudonyms.key(Platform.TELEGRAM, who) for who in ("9001", "9003"))
    assert [key.decode().split(":")[2] for key in await _example_keys(redis)] == sorted([mine, theirs])

    await h.person("9001", "/forget")
    await h.person("9001", "/forget yes")
    left = await _example_keys(redis)
    assert [key.decode().split(":")[2] for key in left] == [theirs]
    assert HOME.encode() in h.cipher.decrypt(cast(bytes, await redis.get(left[0])))


def test_examples_are_kept_as_long_as_messages_unless_the_organisation_says() -> None:
    assert RiskSettings().examples_kept(30) is None  # off unless the organisation opts in
    assert RiskSettings(keep_examples=True).examples_kept(30) == 30  # 0: the retention
    assert RiskSettings(keep_examples=True, examples_days=90).examples_kept(30) == 90


async def test_the_charts_page_says_how_many_examples_are_kept_only_when_they_are(redis: Redis) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.dashboard.app import Dashboard
    from bot.web import build_web_app
    from routing.store.dashboard_access import SignInLinks

    async def ready() -> dict[str, bool]:
        return {"redis": True}

    async def ack(*_args: object) -> bool:
        return True

    h = make_harness(redis, members=[ANA, LEE], examples_days=7)
    await _corrections(h)
    links = SignInLinks(redis, b"k" * 32, "http://test")
    pages = []
    for kept in (False, True):
        app = build_web_app(redis, None, "", ready, Dashboard(redis, links, ack, examples_kept=kept))
        async with TestClient(TestServer(app)) as http:
            token = (await links.issue(VolunteerId("cleo"), {Role.COORDINATOR})).split("token=")[1]
            await http.post("/dashboard/signin", data={"token": token})
            pages.append(await (await http.get("/dashboard/charts")).text())
    assert "labelled example" not in pages[0]
    assert "Counts only, never the words; docs/risk.md. 2 labelled examples are kept apart, encrypted" in pages[1]
    assert not any(words in page for page in pages for words in WORDS)


async def test_privacy_tells_a_person_their_corrected_messages_may_be_kept_only_when_they_are(redis: Redis) -> None:
    said = "that message and the few before it are kept encrypted for"
    off = make_harness(redis)
    await off.person("9001", "/privacy")
    assert not any(said in text for text in await off.to_person())  # off: not a word about it
    h = make_harness(redis, examples_days=7)
    await h.person("9002", "/privacy")
    assert f"{said} 7 days, without your name" in (await h.to_person())[-1]
    await h.person("9003", "/privacy", language="es")
    assert "se guardan cifrados durante 7 días, sin tu nombre" in (await h.to_person())[-1]
