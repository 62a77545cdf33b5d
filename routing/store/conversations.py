"""Conversations, the waiting queue and assignment in Redis; every racy step is one Lua script."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from routing.intake import Candidate
from routing.model import (
    ChatId,
    ConversationId,
    ConversationState,
    Platform,
    Pseudonym,
    RiskTier,
    ThreadId,
    VolunteerId,
)
from routing.queue_policy import DEFAULT_AGING_SECONDS, queue_score
from routing.store import keys, scripts
from routing.store.autopipeline import autopipeline
from routing.store.cipher import TextCipher
from routing.store.platform_copies import PlatformCopies, StaffSpace
from routing.store.replies import as_bytes, text

DAY = 24 * 3600
RECENT_WINDOW = 6  # messages of context for the risk detector


@dataclass(frozen=True, slots=True)
class Conversation:
    """One person's conversation as stored. `chat` is the person's raw chat id: never log it."""

    id: ConversationId
    state: ConversationState
    platform: Platform
    chat: ChatId
    pseudonym: Pseudonym
    tier: RiskTier
    created_at: float
    arrival: float
    volunteer: VolunteerId | None
    language: str | None
    first_reply_counted: bool = False  # this assignment's first staff reply is already in the audit stream
    topic: str | None = None  # what the person chose at intake, if anything
    returning: int = 0  # earlier conversations the person had (within retention) when this one opened
    asked_for: VolunteerId | None = None  # the volunteer they asked for again, while that one is on duty
    planning: bool = False  # a safety-plan question is open: their next message is its answer (routing/plan_flow.py)
    person: str = ""  # the person's pseudonymous key (an HMAC, never a platform id)


class AssignOutcome(enum.StrEnum):
    """Result of an assignment attempt."""

    OK = "ok"
    FULL = "full"  # the volunteer is at capacity
    EMPTY = "empty"  # nobody is waiting
    TAKEN = "taken"  # somebody else got there first (or the conversation is not waiting)


@dataclass(frozen=True, slots=True)
class Silence:
    """An active conversation's last words: when the person and the holder last wrote (or it was taken)."""

    conversation: ConversationId
    volunteer: VolunteerId
    pseudonym: Pseudonym
    tier: RiskTier
    person_said_at: float
    staff_said_at: float


@dataclass(frozen=True, slots=True)
class Assignment:
    outcome: AssignOutcome
    conversation: ConversationId | None


@dataclass(frozen=True, slots=True)
class Opened:
    """A person's open conversation as `open_record` found or created it."""

    conversation: Conversation
    created: bool
    earlier: list[str]  # the recent-message window before the remembered message, oldest first
    handing_over: bool = False  # messages kept while waiting are still being sent to the volunteer
    reconnect: RiskTier = RiskTier.NONE  # new, and the person was offered to come back at this tier


class ConversationStore:
    """Reads and changes conversation state; all state lives here, so a restarted router carries on."""

    def __init__(
        self,
        redis: Redis,
        cipher: TextCipher,
        *,
        retention_days: float = 30,
        aging_seconds: float = DEFAULT_AGING_SECONDS,
        platform_retention_days: float | None = None,
    ) -> None:
        self._redis = redis
        self._cipher = cipher
        self._retention = int(retention_days * DAY)
        # A closed conversation's staff topic/thread is deleted on its platform after this (None: at retention).
        self._platform_retention = int((platform_retention_days or retention_days) * DAY)
        self._copies = PlatformCopies(redis)
        self._aging = aging_seconds
        self._open = redis.register_script(scripts.OPEN_CONVERSATION)
        self._assign = redis.register_script(scripts.ASSIGN)
        self._candidates = redis.register_script(scripts.CANDIDATES)
        self._transfer = redis.register_script(scripts.TRANSFER)
        self._release = redis.register_script(scripts.RELEASE)
        self._close = redis.register_script(scripts.CLOSE)
        self._raise = redis.register_script(scripts.RAISE_TIER)
        self._first_reply = redis.register_script(scripts.FIRST_REPLY)
        self._hold = redis.register_script(scripts.HOLD_PENDING)
        self._finish = redis.register_script(scripts.FINISH_PENDING)
        self._batch = autopipeline(redis)

    async def open(
        self, platform: Platform, chat: ChatId, person_key: str, pseudonym: Pseudonym, language: str | None
    ) -> tuple[ConversationId, bool]:
        """The person's open conversation, creating and queueing one if needed. Returns (id, created)."""
        opened = await self.open_record(platform, chat, person_key, pseudonym, language)
        return opened.conversation.id, opened.created

    async def open_record(
        self,
        platform: Platform,
        chat: ChatId,
        person_key: str,
        pseudonym: Pseudonym,
        language: str | None,
        remember: str = "",
        *,
        urgent: bool = False,
    ) -> Opened:
        """Like `open`, returning the conversation record read in the same round trip; a non-empty `remember`
        joins the person's recent-message window (the risk detector's context: the last RECENT_WINDOW
        messages, encrypted, expiring with the retention limit), whose earlier messages come back too."""
        now = time.time()
        entry = self._cipher.encrypt(remember.encode()) if remember else b""
        conv, created, _state, record, earlier, handing_over, *reconnect = await self._batch.script(
            self._open,
            alone=urgent,  # the urgent lane's message never waits for a batch of ordinary ones
            keys=[
                keys.person(person_key),
                keys.CONVERSATION_SEQ,
                keys.QUEUE,
                keys.person_conversations(person_key),
                keys.reconnect(person_key),
                keys.person_language(person_key),
            ],
            args=[
                keys.CONVERSATION_PREFIX,
                now,
                platform.value,
                chat,
                pseudonym,
                person_key,
                queue_score(RiskTier.NONE, now, self._aging),
                self._retention,
                language or "",
                entry,
                RECENT_WINDOW,
            ],
        )
        fields = [text(item) for item in record]
        conversation = _conversation(ConversationId(text(conv)), dict(zip(fields[::2], fields[1::2], strict=True)))
        window = [self._cipher.decrypt(as_bytes(item)).decode() for item in earlier]
        reconnect_tier = RiskTier(int(text(reconnect[0]))) if reconnect else RiskTier.NONE
        return Opened(conversation, bool(int(created)), window, bool(int(handing_over)), reconnect_tier)

    async def staff_said(self, conv: ConversationId) -> None:
        """The holder just wrote to the person (what the silence watch measures from)."""
        await self._batch.command("HSET", keys.conversation(conv), "staff_said_at", f"{time.time():.3f}")

    async def silences(self) -> list[Silence]:
        """Every active conversation with when the person and the holder last wrote (the silence watch)."""
        convs = sorted(text(c) for c in await self._redis.smembers(keys.ACTIVE))
        if not convs:
            return []
        fields = ("state", "volunteer", "pseudonym", "tier", "assigned_at", "person_said_at", "staff_said_at")
        async with self._redis.pipeline(transaction=False) as pipe:
            for conv in convs:
                pipe.hmget(keys.conversation(ConversationId(conv)), list(fields))
            rows = await pipe.execute()
        found = []
        for conv, row in zip(convs, rows, strict=True):
            d = {name: text(v) for name, v in zip(fields, row, strict=True) if v is not None}
            if d.get("state") != ConversationState.ACTIVE or not d.get("volunteer"):
                await self._redis.srem(keys.ACTIVE, conv)  # closed or erased meanwhile: not active any more
                continue
            assigned = float(d.get("assigned_at", "0"))
            found.append(Silence(
                ConversationId(conv), VolunteerId(d["volunteer"]), Pseudonym(d.get("pseudonym", "?")),
                RiskTier(int(d.get("tier", "0"))), max(float(d.get("person_said_at", "0")), assigned),
                max(float(d.get("staff_said_at", "0")), assigned),
            ))  # fmt: skip
        return found

    async def offer_reconnect(self, person_key: str, tier: RiskTier, seconds: int = 3600) -> None:
        """The person's next conversation within `seconds` starts at `tier` (the front of the queue)."""
        await self._redis.set(keys.reconnect(person_key), int(tier), ex=seconds)

    async def person_of(self, conv: ConversationId) -> str | None:
        """The opaque key of the person a conversation is with (never a raw id)."""
        person = await self._redis.hget(keys.conversation(conv), "person")
        return text(person) if person is not None else None

    async def person_language(self, person_key: str) -> str | None:
        """The language the person chose, if they did (within retention)."""
        value = await self._redis.get(keys.person_language(person_key))
        return text(value) if value is not None else None

    async def choose_language(self, person_key: str, lang: str, conv: ConversationId | None) -> None:
        """Remember the person's language for this and later conversations (until retention ends)."""
        await self._redis.set(keys.person_language(person_key), lang, ex=int(self._retention))
        if conv is not None:
            await self._redis.hset(keys.conversation(conv), "lang", lang)

    async def person_country(self, person_key: str) -> str | None:
        """The country the person said they are in ("" when they skipped the question), if asked."""
        value = await self._redis.get(keys.person_country(person_key))
        return text(value) if value is not None else None

    async def choose_country(self, person_key: str, code: str) -> None:
        """Remember the person's country ("" = they would rather not say) until retention ends."""
        await self._redis.set(keys.person_country(person_key), code, ex=int(self._retention))

    async def open_conversation_of(self, person_key: str) -> ConversationId | None:
        """The person's open conversation id, without creating one."""
        conv = await self._redis.get(keys.person(person_key))
        if conv is None:
            return None
        found = await self.get(ConversationId(text(conv)))
        if found is None or found.state == ConversationState.CLOSED:
            return None
        return found.id

    async def get(self, conv: ConversationId) -> Conversation | None:
        raw = cast(dict[bytes, bytes], await self._batch.command("HGETALL", keys.conversation(conv)))
        if not raw:
            return None
        return _conversation(conv, {text(k): text(v) for k, v in raw.items()})

    async def position(self, conv: ConversationId) -> int | None:
        """1-based place in the queue, or None when not waiting."""
        rank = await self._redis.zrank(keys.QUEUE, conv)
        return None if rank is None else int(cast(int, rank)) + 1

    async def waiting_count(self) -> int:
        return int(await self._redis.zcard(keys.QUEUE))

    async def waiting(self, limit: int = 50) -> list[ConversationId]:
        """The most urgent waiting conversations, in serving order."""
        ids = cast(list[bytes], await self._redis.zrange(keys.QUEUE, 0, limit - 1))
        return [ConversationId(text(c)) for c in ids]

    async def candidates(self, limit: int = 50) -> list[Candidate]:
        """The first `limit` people still waiting, in serving order, with what peer matching needs."""
        flat = [
            text(v)
            for v in cast(
                list[bytes], await self._candidates(keys=[keys.QUEUE], args=[limit, keys.CONVERSATION_PREFIX])
            )
        ]
        return [
            Candidate(ConversationId(flat[i]), RiskTier(int(flat[i + 1])), float(flat[i + 2]), flat[i + 3] or None,
                      flat[i + 4] or None, VolunteerId(flat[i + 5]) if flat[i + 5] else None)
            for i in range(0, len(flat), 6)
        ]  # fmt: skip

    async def assign(self, volunteer: VolunteerId, capacity: int, conv: ConversationId | None = None) -> Assignment:
        """Give `conv` (or the most urgent waiting person) to `volunteer`, atomically."""
        outcome, got = await self._assign(
            keys=[keys.QUEUE, keys.volunteer_active(volunteer), keys.ACTIVE],
            args=[volunteer, capacity, time.time(), conv or "", keys.CONVERSATION_PREFIX],
        )
        got_text = text(got)
        return Assignment(AssignOutcome(text(outcome)), ConversationId(got_text) if got_text else None)

    async def transfer(self, conv: ConversationId, source: VolunteerId, target: VolunteerId, capacity: int) -> str:
        """Move an active conversation between volunteers; returns "ok" or why not."""
        result = await self._transfer(
            keys=[keys.conversation(conv), keys.volunteer_active(source), keys.volunteer_active(target)],
            args=[conv, source, target, capacity, time.time()],
        )
        return text(result)

    async def release(self, conv: ConversationId, volunteer: VolunteerId) -> str:
        """Return an active conversation to the queue at its original place for its tier."""
        found = await self.get(conv)
        if found is None:
            return "not_active"
        score = queue_score(found.tier, found.arrival, self._aging)
        result = await self._release(
            keys=[keys.conversation(conv), keys.volunteer_active(volunteer), keys.QUEUE, keys.ACTIVE],
            args=[conv, volunteer, score],
        )
        return text(result)

    async def close(self, conv: ConversationId) -> bool:
        """Close a waiting or active conversation. False if it was not open."""
        found = await self.get(conv)
        person = await self._redis.hget(keys.conversation(conv), "person")
        person_key = keys.person(text(person)) if person else keys.person("-")
        result = await self._close(
            keys=[keys.conversation(conv), keys.QUEUE, person_key, keys.ACTIVE],
            args=[conv, time.time(), keys.PREFIX + "vol:"],
        )
        if found is not None and text(result) == "ok":
            # Handover notes outlive the conversation (a returning person's summary, the case record) until
            # retention ends; what the person wrote while waiting and the detector's window do not.
            await self._redis.delete(keys.pending(conv), keys.recent(conv))
            await self._redis.expire(keys.conversation(conv), self._retention)
            await self._redis.expire(keys.notes(conv), self._retention)
            await self._copies.schedule(await self.staff_spaces(conv), time.time() + self._platform_retention)
        return text(result) == "ok"

    async def staff_spaces(self, conv: ConversationId) -> list[StaffSpace]:
        """The staff topics/threads the conversation has (one per staff platform it reached)."""
        record = {text(k): text(v) for k, v in (await self._redis.hgetall(keys.conversation(conv))).items()}
        return [
            (Platform(field.removeprefix("thread:")), ThreadId(value))
            for field, value in record.items()
            if field.startswith("thread:") and field.removeprefix("thread:") in {p.value for p in Platform}
        ]

    async def raise_tier(self, conv: ConversationId, tier: RiskTier, arrival: float | None = None) -> RiskTier:
        """Raise the conversation's tier if `tier` is higher; returns the tier it had before. Pass the
        conversation's `arrival` when known (it sets the queue score), saving a read."""
        if arrival is None:
            found = await self.get(conv)
            arrival = found.arrival if found else time.time()
        old = await self._raise(
            keys=[keys.conversation(conv), keys.QUEUE],
            args=[conv, int(tier), queue_score(tier, arrival, self._aging)],
        )
        return RiskTier(int(old))

    async def first_reply(self, conv: ConversationId) -> float | None:
        """Seconds from the current assignment to now, the first time a staff reply is relayed to the person
        after it; None afterwards (once per assignment, atomically) and when the conversation is not assigned."""
        waited = await self._first_reply(keys=[keys.conversation(conv)], args=[time.time()])
        return None if waited is None else float(text(waited))

    async def holders(self, convs: list[ConversationId]) -> list[VolunteerId | None]:
        """Who holds each of `convs`, or held it when it closed (None: waiting or gone), in one round trip."""
        if not convs:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for conv in convs:
                pipe.hmget(keys.conversation(conv), "state", "volunteer")
            replies = await pipe.execute()
        return [
            VolunteerId(text(volunteer))
            if state is not None and text(state) != ConversationState.WAITING and volunteer
            else None
            for state, volunteer in replies
        ]

    async def active_of(self, volunteer: VolunteerId) -> set[ConversationId]:
        return {ConversationId(text(c)) for c in await self._redis.smembers(keys.volunteer_active(volunteer))}

    async def keep_pending(self, conv: ConversationId, entry_id: str, encoded: bytes) -> bool:
        """Keep a message the person sent while waiting, or while earlier kept messages are being handed to
        the volunteer (encrypted; expires with the retention limit). False: not kept, relay it directly.

        Keyed by its inbound stream entry id, so handling the same entry again after a crash keeps it once.
        """
        kept = await self._hold(
            keys=[keys.pending(conv), keys.conversation(conv)],
            args=[entry_id, self._cipher.encrypt(encoded), self._retention],
        )
        return bool(int(kept))

    async def take_pending(self, conv: ConversationId) -> list[tuple[str, bytes]]:
        """The kept messages as (entry id, encoded message), oldest first (stream ids sort by time); kept until
        `finish_pending` is told they were sent."""
        return self._in_order(cast(dict[bytes, bytes], await self._batch.command("HGETALL", keys.pending(conv))))

    async def finish_pending(self, conv: ConversationId, sent: list[str]) -> list[tuple[str, bytes]]:
        """Forget the kept messages that were sent; returns those that arrived meanwhile (send them next)."""
        flat = await self._finish(keys=[keys.pending(conv)], args=sent)
        return self._in_order({flat[i]: flat[i + 1] for i in range(0, len(flat), 2)})

    def _in_order(self, raw: dict[bytes, bytes]) -> list[tuple[str, bytes]]:
        ordered = sorted(
            ((text(entry), value) for entry, value in raw.items()), key=lambda item: _stream_order(item[0])
        )
        return [(entry, self._cipher.decrypt(as_bytes(value))) for entry, value in ordered]

    async def add_note(self, conv: ConversationId, note: str) -> None:
        """Keep a staff-only note (encrypted); shown to whoever takes the conversation next."""
        key = keys.notes(conv)
        await self._redis.rpush(key, self._cipher.encrypt(note.encode()))
        await self._redis.expire(key, self._retention)

    async def notes(self, conv: ConversationId) -> list[str]:
        found = cast(list[bytes], await self._batch.command("LRANGE", keys.notes(conv), 0, -1))
        return [self._cipher.decrypt(as_bytes(n)).decode() for n in found]

    async def set_on_duty(self, volunteer: VolunteerId, on: bool) -> None:
        """Mark a volunteer available (or not) for automatic assignment."""
        if on:
            await self._redis.sadd(keys.ON_DUTY, volunteer)
        else:
            await self._redis.srem(keys.ON_DUTY, volunteer)

    async def on_duty(self) -> list[VolunteerId]:
        return sorted(VolunteerId(text(v)) for v in await self._redis.smembers(keys.ON_DUTY))

    async def bind_thread(self, conv: ConversationId, platform: Platform, thread: ThreadId) -> None:
        """Remember which staff topic/thread belongs to `conv` (both directions)."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(keys.thread(platform, thread), conv, ex=self._retention)
        pipe.hset(keys.conversation(conv), f"thread:{platform}", thread)
        pipe.hget(keys.conversation(conv), "closed_at")
        closed_at = (await pipe.execute())[-1]
        if closed_at:  # opened for a message delivered after closing: deleted when the conversation's copy is
            await self._copies.schedule([(platform, thread)], float(text(closed_at)) + self._platform_retention)

    async def thread_of(self, conv: ConversationId, platform: Platform) -> ThreadId | None:
        value = await self._batch.command("HGET", keys.conversation(conv), f"thread:{platform}")
        return ThreadId(text(value)) if value else None

    async def conversation_of_thread(self, platform: Platform, thread: ThreadId) -> ConversationId | None:
        value = await self._batch.command("GET", keys.thread(platform, thread))
        return ConversationId(text(value)) if value else None

    async def first_feedback(self, conv: ConversationId) -> bool:
        """Mark that the person answered the feedback question of `conv`; True only the first time (the answer
        itself is counted apart, anonymously). A conversation gone with retention counts as a first answer and
        is not recreated."""
        first = await self._redis.eval(_FIRST_FEEDBACK, 1, keys.conversation(conv))
        return bool(first)

    async def set_field(self, conv: ConversationId, name: str, value: str) -> None:
        """Adapter-owned metadata on a conversation (e.g. the queue card's message id)."""
        await self._redis.hset(keys.conversation(conv), name, value)

    async def get_field(self, conv: ConversationId, name: str) -> str | None:
        value = await self._redis.hget(keys.conversation(conv), name)
        return text(value) if value is not None else None


# Only on a conversation that still exists: HSETNX on an expired key would create one without a TTL.
_FIRST_FEEDBACK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
return redis.call('HSETNX', KEYS[1], 'feedback_answered', '1')
"""


def _stream_order(entry_id: str) -> tuple[int, int]:
    """Sort key of a stream id "ms-seq" (either inbound lane's: "urgent:ms-seq" sorts by its time too); ids
    that are not stream ids (tests, tools) sort first."""
    ms, _, seq = entry_id.rpartition(":")[2].partition("-")
    return (int(ms), int(seq or 0)) if ms.isdigit() and (seq or "0").isdigit() else (0, 0)


TOPIC_FIELD = "wish:topic"
ASKED_FOR_FIELD = "wish:volunteer"  # routing/store/history.py writes it, and who helped, and `returning`
RETURNING_FIELD = "returning"
PLANNING_FIELD = "planning"


def _conversation(conv: ConversationId, d: dict[str, str]) -> Conversation:
    return Conversation(
        id=conv,
        state=ConversationState(d["state"]),
        platform=Platform(d["platform"]),
        chat=ChatId(d["chat"]),
        pseudonym=Pseudonym(d["pseudonym"]),
        tier=RiskTier(int(d.get("tier", "0"))),
        created_at=float(d["created_at"]),
        arrival=float(d["arrival"]),
        volunteer=VolunteerId(d["volunteer"]) if d.get("volunteer") else None,
        language=d.get("lang") or None,
        first_reply_counted=bool(d.get("assigned_at")) and d.get("first_reply_for") == d.get("assigned_at"),
        topic=d.get(TOPIC_FIELD) or None,
        returning=int(d.get(RETURNING_FIELD) or 0),
        asked_for=VolunteerId(d[ASKED_FOR_FIELD]) if d.get(ASKED_FOR_FIELD) else None,
        planning=d.get(PLANNING_FIELD) == "1",
        person=d.get("person", ""),
    )
