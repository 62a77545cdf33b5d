"""Every Redis key name in one place, so the layout is documented and collisions are impossible."""

from __future__ import annotations

from routing.model import ConversationId, Platform, VolunteerId

PREFIX = "pb:"

INBOUND = PREFIX + "stream:inbound"
# A person's message that already reads as high risk at ingest skips any backlog in `INBOUND`; the router reads
# both with the same handler and group name.
INBOUND_URGENT = PREFIX + "stream:inbound:urgent"
INBOUND_STREAMS = (INBOUND_URGENT, INBOUND)
ESCALATIONS = PREFIX + "stream:escalations"
AUDIT = PREFIX + "stream:audit"
DEAD_LETTER = PREFIX + "stream:deadletter"
QUEUE = PREFIX + "queue"
CONVERSATION_SEQ = PREFIX + "seq:conversation"
CONVERSATION_PREFIX = PREFIX + "conv:"
ATTEMPTS_PREFIX = PREFIX + "attempts:"
ON_DUTY = PREFIX + "onduty"
ACTIVE = PREFIX + "active"  # every conversation with a volunteer now (the silence watch reads it)
# Messages relayed between a person and staff and delivered, a hash of counters "<platform>:<direction>"
# (direction: to_person | to_staff). Counted on delivery, so /metrics reports what really arrived.
RELAYED = PREFIX + "stats:relayed"


def outbound(platform: Platform, urgent: bool = False) -> str:
    """Outbound stream of a platform; urgent messages (escalations, crisis resources) have their own lane."""
    return f"{PREFIX}stream:outbound:{platform}" + (":urgent" if urgent else "")


def dedupe(platform: Platform, update_id: str) -> str:
    return f"{PREFIX}dedupe:{platform}:{update_id}"


def flood(person_key: str) -> str:
    return f"{PREFIX}flood:{person_key}"


def person(person_key: str) -> str:
    """Person (opaque HMAC key) -> their open conversation id."""
    return f"{PREFIX}person:{person_key}"


def person_language(person_key: str) -> str:
    """The language a person chose (/language or the intake button), kept across their conversations within
    retention; erased by /forget."""
    return f"{PREFIX}person:{person_key}:lang"


def person_country(person_key: str) -> str:
    """The country a person said they are in (the intake question), for their crisis lines and local times;
    kept within retention, erased by /forget."""
    return f"{PREFIX}person:{person_key}:country"


def person_plan(person_key: str) -> str:
    """A person's safety plan: their answers encrypted, where they are in it; kept within retention after its
    last change, erased by /forget."""
    return f"{PREFIX}person:{person_key}:plan"


def reconnect(person_key: str) -> str:
    """A person who felt worse after a hard conversation: the tier their next conversation starts at."""
    return f"{PREFIX}reconnect:{person_key}"


def person_conversations(person_key: str) -> str:
    """Every conversation a person has had (within retention), so /forget can find them all."""
    return f"{PREFIX}person:{person_key}:convs"


def conversation(conv: ConversationId) -> str:
    return CONVERSATION_PREFIX + conv


def pending(conv: ConversationId) -> str:
    """Encrypted messages a person sent while waiting, kept for the volunteer."""
    return f"{CONVERSATION_PREFIX}{conv}:pending"


def recent(conv: ConversationId) -> str:
    """Encrypted recent messages of a person: the risk detector's context window."""
    return f"{CONVERSATION_PREFIX}{conv}:recent"


def notes(conv: ConversationId) -> str:
    """Encrypted staff-only notes (handover notes) of a conversation."""
    return f"{CONVERSATION_PREFIX}{conv}:notes"


def case_record(conv: ConversationId) -> str:
    """A conversation's case record (a stream: what was said and done, text encrypted), kept within retention
    for a safeguarding review (routing/store/case_records.py)."""
    return f"{CONVERSATION_PREFIX}{conv}:case"


def case_staff(conv: ConversationId) -> str:
    """The staff ids who held a conversation (the case list shows them without reading the record)."""
    return f"{CONVERSATION_PREFIX}{conv}:case:staff"


# Every conversation with a case record, scored by when it opened; an id whose record has expired or was
# erased leaves it when the list is next read.
CASES = PREFIX + "cases"


def volunteer_active(volunteer: VolunteerId) -> str:
    return f"{PREFIX}vol:{volunteer}:active"


def thread(platform: Platform, thread_id: str) -> str:
    """Staff topic/thread -> conversation id."""
    return f"{PREFIX}thread:{platform}:{thread_id}"


def desk(chat_key: str) -> str:
    """A staff member's private chat with the bot (opaque HMAC key) -> message id -> conversation id."""
    return f"{PREFIX}desk:{chat_key}"


def emitted(key: str) -> str:
    """Marks an outbound idempotency key as already emitted by the router."""
    return f"{PREFIX}emitted:{key}"


def delivered(platform: Platform, key: str) -> str:
    """Marks an outbound idempotency key as delivered by an adapter."""
    return f"{PREFIX}delivered:{platform}:{key}"


def notice(name: str) -> str:
    """Rate-limits repeated notices (e.g. one "slow down" per person per window)."""
    return f"{PREFIX}notice:{name}"


# Training (practice sessions with a scripted person): kept apart from every real-conversation key.
TRAINING_SEQ = PREFIX + "seq:training"
TRAINING_DUE = PREFIX + "training:due"  # sorted set: session id -> when its next timed step is due


def training(session: ConversationId) -> str:
    """A practice session's state (scenario, volunteer, coordinator, position in the script)."""
    return f"{PREFIX}training:{session}"


def training_log(session: ConversationId) -> str:
    """A practice session's events (times, who, checks met; never message text), keyed idempotently."""
    return f"{PREFIX}training:{session}:log"


def training_of(volunteer: VolunteerId) -> str:
    """The practice session a volunteer has running (one at a time)."""
    return f"{PREFIX}training:volunteer:{volunteer}"


def training_started(entry_id: str) -> str:
    """The session a `/train` inbound entry created, so handling it again after a crash creates none."""
    return f"{PREFIX}training:started:{entry_id}"


# The coping library (`routing/coping/`): coordinators' edits, encrypted, one field "<lang>/<name>" each (kept
# until reverted: they are the organisation's texts, not a person's); how often each text was shared on a day
# (counts only); and the previews waiting for Send or Cancel in a conversation's thread.
COPING_EDITS = PREFIX + "coping:edits"


def coping_shared(day: str) -> str:
    """How often each coping text was shared on `day` (YYYY-MM-DD, UTC): name -> count, nothing else."""
    return f"{PREFIX}coping:shared:{day}"


def coping_preview(conv: ConversationId, number: str) -> str:
    """A preview shown in a conversation's thread (its text name and fingerprint, who asked), until Send/Cancel."""
    return f"{PREFIX}coping:preview:{conv}:{number}"


def coping_preview_seq(conv: ConversationId) -> str:
    return f"{PREFIX}coping:preview-seq:{conv}"


# Labelled examples staff's corrections of the risk detector leave, when the organisation keeps them
# (`risk.keep_examples`, routing/store/risk_examples.py): encrypted, each expiring on its own, under the person's
# key so that /forget finds them after their conversations have expired.
RISK_EXAMPLE_PREFIX = PREFIX + "riskexample:"


def risk_example(person_key: str, example: str) -> str:
    """One labelled example (`example`: the inbound entry or escalation it came from, so a replay rewrites it)."""
    return f"{RISK_EXAMPLE_PREFIX}{person_key}:{example}"
