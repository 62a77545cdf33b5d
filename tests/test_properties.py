"""Property-based tests (hypothesis): the Telegram update normaliser, the gateway's raw ingest, the command parser.

No network, no Redis: updates are generated dicts parsed by the real `telegram.Update.de_json`; the gateway
stores into a writer that records (our own port). The bot points at a closed local port, so answering a
button press fails fast as a network error, as it would while Telegram is unreachable.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from telegram import Bot, Update

from adapters.telegram.gateway import TelegramGateway
from adapters.telegram.normalise import StaffChats, normalise
from routing.commands import MAX_COMMAND_LENGTH, parse_command
from routing.model import ChatId, InboundMessage, Origin, Platform
from routing.store.streams import IngestResult, StreamWriter

STAFF, ALERTS = -1001, -1002
CHATS = StaffChats(ChatId(str(STAFF)), ChatId(str(ALERTS)))
BOT = Bot("123456:property-token", base_url="http://127.0.0.1:9/bot")  # a closed port: never the internet
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.integers(min_value=-(2**52), max_value=2**52)
junk: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
users = st.fixed_dictionaries(
    {"id": ids, "is_bot": st.booleans(), "first_name": st.text(max_size=20)},
    optional={"language_code": st.text(max_size=5), "username": st.text(max_size=10)},
)
chats = st.fixed_dictionaries(
    {
        "id": st.sampled_from([STAFF, ALERTS]) | ids,
        "type": st.sampled_from(["private", "private", "private", "supergroup", "group", "channel", "new-kind"]),
    },
    optional={"is_forum": st.booleans(), "title": st.text(max_size=10)},
)
files = st.fixed_dictionaries(
    {"file_id": st.text(min_size=1, max_size=12), "file_unique_id": st.text(min_size=1, max_size=8)},
    optional={"file_size": st.integers(0, 2**31), "mime_type": st.text(max_size=10), "file_name": st.text(max_size=10)},
)
photos = st.lists(files.map(lambda f: {**f, "width": 1, "height": 1}), max_size=3)
stickers = files.map(
    lambda f: {**f, "width": 1, "height": 1, "is_animated": False, "is_video": False, "type": "regular"}
)
messages = st.fixed_dictionaries(
    {"message_id": st.integers(1, 2**31), "date": st.integers(0, 2**31), "chat": chats, "from": users},
    optional={
        "text": st.text(), "caption": st.text(max_size=50), "message_thread_id": st.integers(1, 2**31),
        "is_topic_message": st.booleans(), "photo": photos, "document": files, "sticker": stickers,
        "voice": files.map(lambda f: {**f, "duration": 1}), "location": st.just({"latitude": 1.0, "longitude": 2.0}),
        "edit_date": st.integers(0, 2**31),
    },
)  # fmt: skip
queries = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=8), "from": users, "chat_instance": st.text(max_size=5)},
    optional={"data": st.text(max_size=64), "message": messages},
)
well_formed = st.fixed_dictionaries(
    {"update_id": st.integers(0, 2**31)},
    optional={"message": messages, "edited_message": messages, "callback_query": queries},
)


def _spoil(update: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """Replace one value somewhere in the update with junk of any type (a shape Telegram never sends)."""
    spoilt = dict(update)
    node: dict[str, Any] = spoilt
    while True:
        key = data.draw(st.sampled_from(sorted(node)))
        child = node[key]
        if isinstance(child, dict) and child and data.draw(st.booleans()):
            node[key] = node = dict(child)
            continue
        node[key] = data.draw(junk)
        return spoilt


@FAST
@given(raw=well_formed)
def test_the_normaliser_never_raises_on_a_well_formed_update(raw: dict[str, Any]) -> None:
    update = Update.de_json(raw, BOT)
    assert update is not None
    message = normalise(update, CHATS, time.time())
    if message is None:
        return
    assert message.platform == Platform.TELEGRAM
    assert message.update_id == str(raw["update_id"])
    source = raw.get("callback_query") or raw.get("message") or raw.get("edited_message")
    assert source is not None
    sender = source["from"]
    assert message.sender == str(sender["id"])
    assert message.sender_is_bot == sender["is_bot"]
    chat = (source["message"] if "callback_query" in raw else source)["chat"]
    assert message.origin == CHATS.origin_of(chat["id"], chat["type"])  # an unknown group never gets through
    assert message.origin is not None
    if message.origin != Origin.PRIVATE:
        assert str(chat["id"]) in (str(STAFF), str(ALERTS))


class RecordingWriter:
    """Stands in for StreamWriter on the two calls the gateway makes; records them."""

    def __init__(self) -> None:
        self.ingested: list[InboundMessage] = []
        self.dead: list[str] = []

    async def ingest(self, message: InboundMessage) -> IngestResult:
        self.ingested.append(message)
        return IngestResult(f"{len(self.ingested)}-0", duplicate=False, flood_count=1)

    async def dead_letter(self, stream: str, entry_id: str, reason: str, payload: bytes | None) -> None:
        self.dead.append(reason)


@FAST
@given(update=well_formed, data=st.data())
def test_the_gateway_sets_aside_any_malformed_update_instead_of_crashing(
    update: dict[str, Any], data: st.DataObject
) -> None:
    raw = _spoil(update, data) if data.draw(st.booleans()) else update
    writer = RecordingWriter()
    gateway = TelegramGateway(BOT, CHATS, cast(StreamWriter, writer))
    asyncio.run(gateway.ingest_raw(raw))  # must not raise: an exception here would make Telegram retry for a day
    event("dead-lettered" if writer.dead else "stored" if writer.ingested else "ignored")
    assert len(writer.ingested) + len(writer.dead) <= 1  # stored, or set aside, or ignored: exactly one outcome
    assert all(r.startswith(("malformed telegram update", "unexpected update")) for r in writer.dead)


words = st.text(alphabet=st.characters(categories=["Ll", "Lu"]), min_size=1, max_size=20)


@given(text=st.text())
def test_parse_command_never_raises_and_returns_a_bounded_name(text: str) -> None:
    parsed = parse_command(text)
    if parsed is None:
        return
    assert parsed.name
    assert len(parsed.name) <= MAX_COMMAND_LENGTH
    assert "@" not in parsed.name
    assert parsed.argument == parsed.argument.strip()
    assert text.strip()[0] in "/!"


@given(prefix=st.sampled_from("/!"), word=words, bot=st.text(max_size=10), argument=st.text())
def test_a_command_word_and_argument_round_trip(prefix: str, word: str, bot: str, argument: str) -> None:
    suffix = f"@{bot}" if bot and not any(c.isspace() for c in bot) else ""  # usernames have no whitespace
    parsed = parse_command(f"  {prefix}{word}{suffix} {argument}")
    assert parsed is not None
    assert parsed.name == word.lower()[:MAX_COMMAND_LENGTH]
    assert parsed.argument == argument.strip()


@given(text=st.text())
def test_text_that_does_not_start_with_a_prefix_and_a_letter_is_never_a_command(text: str) -> None:
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] in "/!" and stripped[1].isalpha():
        return
    assert parse_command(text) is None


def test_a_command_ends_at_any_whitespace() -> None:
    """Telegram ends a bot command at the first non-word character, so "/release" + newline + note is /release."""
    parsed = parse_command("/release\nthey would like a call back tomorrow")
    assert parsed is not None
    assert parsed.name == "release", (
        "routing/commands.py parse_command splits only on ' ': use stripped[1:].split(maxsplit=1) so a newline "
        "or tab after the command word ends it"
    )
    assert parsed.argument == "they would like a call back tomorrow"


def test_a_group_message_whose_text_is_not_a_string_is_set_aside_not_crashed_on() -> None:
    """Found by the property above: "text": [] in a group message reached the /chatid check as a list."""
    update = {"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": -1001, "type": "supergroup"},
              "from": {"id": 5, "is_bot": False, "first_name": "x"}, "text": []}}  # fmt: skip
    writer = RecordingWriter()
    gateway = TelegramGateway(BOT, CHATS, cast(StreamWriter, writer))
    asyncio.run(gateway.ingest_raw(update))
    assert len(writer.ingested) + len(writer.dead) <= 1
    assert all(r.startswith(("malformed telegram update", "unexpected update")) for r in writer.dead)
