"""Builds the routing stack from plain values; the one place that knows how the pieces fit."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from routing import texts
from routing.coping import CopingLibrary
from routing.coverage_watch import CoverageWatch
from routing.escalation import EscalationDesk, EscalationPolicy
from routing.live_roster import LiveRoster
from routing.model import Audience, Platform, Priority
from routing.on_call import OnCallDirectory
from routing.outbox import Outbox
from routing.plan_flow import PlanFlow
from routing.platform_sweep import PlatformSweep
from routing.ports import RiskAssessor
from routing.pseudonyms import Pseudonymiser
from routing.queue_updates import QueuePositionNotifier
from routing.resources import CrisisResources
from routing.roster import Roster
from routing.router import DEFAULT_RESOURCES, Records, Router, RouterConfig, Safety, StaffSide, Streams
from routing.silence_watch import SilencePolicy, SilenceWatch
from routing.staff import StaffActions
from routing.staff.assignment import Assignments
from routing.staff.blocks import Blocks
from routing.staff.commands import StaffCommands
from routing.staff.coping import Sharing
from routing.staff.ending import Endings
from routing.staff.relay import Relay
from routing.staff.returning import Returning
from routing.staff.shifts import Shifts
from routing.staff.supervision import Supervision
from routing.staff.teaching import Teaching
from routing.staff.voice import StaffVoice
from routing.store import keys
from routing.store.availability import Availability
from routing.store.blocks import BlockStore
from routing.store.case_records import CaseRecords
from routing.store.cipher import TextCipher
from routing.store.conversations import ConversationStore
from routing.store.coping_counts import CopingCounts
from routing.store.coping_edits import CopingEdits
from routing.store.coping_previews import SharePreviews
from routing.store.dashboard_access import SignInLinks
from routing.store.desk_messages import DeskMessages
from routing.store.duty import DutyRoster
from routing.store.erasure import PersonEraser
from routing.store.escalations import EscalationStore
from routing.store.feedback import FeedbackCounts
from routing.store.history import PersonHistory
from routing.store.platform_copies import PlatformCopies
from routing.store.risk_examples import RiskExamples
from routing.store.risk_labels import RiskLabels
from routing.store.rota_store import RotaStore
from routing.store.safety_plans import SafetyPlans
from routing.store.streams import StreamWriter
from routing.store.training import TrainingStore
from routing.store.worker import DeadLetterHook, StreamWorker, WorkerOptions
from routing.training.desk import TrainingDesk
from routing.training.scenario_file import ScenarioLibrary
from routing.workspace import PrivateDesk, Workspace

ROUTER_GROUP = "router"
ESCALATION_GROUP = "escalation"


@dataclass(frozen=True, slots=True)
class RoutingStack:
    """Everything the router role runs, wired together."""

    writer: StreamWriter
    conversations: ConversationStore
    escalations: EscalationDesk
    router: Router
    staff: StaffActions
    inbound_worker: StreamWorker
    urgent_worker: StreamWorker  # the urgent inbound lane (keys.INBOUND_URGENT), same handler
    escalation_worker: StreamWorker
    positions: QueuePositionNotifier
    coverage: CoverageWatch
    training: TrainingDesk
    silence: SilenceWatch
    platform_sweep: PlatformSweep  # closed conversations' topics/threads deleted when their platform retention ends


def build_routing(
    redis: Redis,
    config: RouterConfig,
    cipher: TextCipher,
    pseudonyms: Pseudonymiser,
    detector: RiskAssessor,
    roster: Roster,
    *,
    consumer: str = "router-1",
    aging_seconds: float = 15 * 60,
    policy: EscalationPolicy = EscalationPolicy(),  # noqa: B008 - frozen value object
    resources: CrisisResources = DEFAULT_RESOURCES,
    position_gap: float = 120.0,
    links: SignInLinks | None = None,
    worker_options: WorkerOptions = WorkerOptions(),  # noqa: B008 - frozen value object
    scenarios: ScenarioLibrary | None = None,
    silence: SilencePolicy = SilencePolicy(),  # noqa: B008 - frozen value object
    coping: CopingLibrary = CopingLibrary(),  # noqa: B008 - frozen value object
) -> RoutingStack:
    writer = StreamWriter(redis, cipher, pseudonyms, retention_days=config.retention_days)
    conversations = ConversationStore(
        redis, cipher, retention_days=config.retention_days, aging_seconds=aging_seconds,
        platform_retention_days=config.platform_retention_days,
    )  # fmt: skip
    cases = CaseRecords(redis, cipher, retention_days=config.retention_days)
    rotas = RotaStore(redis)
    duty = DutyRoster(redis, rotas)
    live = LiveRoster(roster, duty, pseudonyms)
    desk = EscalationDesk(
        config.staff_platform, EscalationStore(redis), conversations, writer, cases, policy, cipher,
        OnCallDirectory(duty, live.current),
    )  # fmt: skip
    training_store = TrainingStore(redis, retention_days=config.retention_days)
    training = TrainingDesk(config.staff_platform, training_store, writer, scenarios or ScenarioLibrary())
    private = None
    if config.workspace == Workspace.PRIVATE and config.staff_platform == Platform.TELEGRAM:
        desk_messages = DeskMessages(redis, pseudonyms, retention_days=config.retention_days)
        private = PrivateDesk(config.staff_platform, conversations, desk_messages, live.current)
        writer.fan_out_with(private.expand)  # every topic message of a held conversation: a copy to its holder
    blocks = BlockStore(redis, cipher)  # one store: it caches who is blocked, and /block updates that at once
    voice = StaffVoice(config.staff_platform)
    history = PersonHistory(redis, cipher)
    plans = PlanFlow(SafetyPlans(redis, cipher, retention_days=config.retention_days), conversations, writer, voice)
    availability = Availability(redis)
    assignments = Assignments(
        voice, conversations, writer, live, availability, duty, automatic=config.auto_assign,
        match_wait=config.match_wait,
        screened=frozenset(getattr(detector, "languages", ())),  # a test's stand-in detector may not say
        cases=cases, history=history, retention_days=config.retention_days, plans=plans,
    )  # fmt: skip
    endings = Endings(voice, conversations, writer, desk, live, assignments, duty, cases=cases)
    examples = None if config.examples_days is None else RiskExamples(redis, cipher, days=config.examples_days)
    teaching = Teaching(RiskLabels(redis), cases, conversations, writer, examples)
    staff = StaffActions(  # what staff can do, one part per concern (routing/staff/)
        assignments=assignments,
        relay=Relay(voice, conversations, writer, live, private, cases=cases),
        supervision=Supervision(voice, conversations, writer, desk, teaching, assignments, endings, cases=cases),
        endings=endings,
        blocks=Blocks(voice, conversations, writer, blocks, endings, cases=cases),
        shifts=Shifts(voice, conversations, assignments, duty, rotas),
        plans=plans,
        sharing=Sharing(
            voice,
            conversations,
            writer,
            live,
            coping,
            CopingEdits(redis, cipher),
            SharePreviews(redis),
            CopingCounts(redis),
        ),
    )
    commands = StaffCommands(voice, conversations, live, staff, training, links)
    router = Router(
        config,
        Streams(cipher, writer),
        Records(
            conversations,
            pseudonyms,
            blocks,
            FeedbackCounts(redis),
            cases,
            PersonEraser(redis, cipher, config.safeguarding_days),
            plans,
        ),
        Safety(detector, desk, resources),
        StaffSide(
            live,
            commands,
            assignments,
            endings,
            duty,
            private,
            Returning(history, conversations, live, availability, duty),
        ),
    )
    alert = _dead_letter_alert(writer, config.staff_platform)
    inbound = StreamWorker(
        redis, writer, keys.INBOUND, ROUTER_GROUP, consumer, router.handle_entry, worker_options, alert
    )
    urgent = StreamWorker(
        redis, writer, keys.INBOUND_URGENT, ROUTER_GROUP, consumer, router.handle_urgent_entry, worker_options,
        alert,
    )  # fmt: skip
    escalation = StreamWorker(
        redis, writer, keys.ESCALATIONS, ESCALATION_GROUP, consumer, desk.deliver, worker_options, alert
    )
    positions = QueuePositionNotifier(conversations, writer, min_gap=position_gap)
    coverage = CoverageWatch(config.staff_platform, duty, conversations, writer)
    quiet = SilenceWatch(conversations, staff, writer, silence)
    sweep = PlatformSweep(PlatformCopies(redis), writer)
    return RoutingStack(
        writer, conversations, desk, router, staff, inbound, urgent, escalation, positions, coverage, training, quiet,
        sweep,
    )  # fmt: skip


def _dead_letter_alert(writer: StreamWriter, platform: Platform) -> DeadLetterHook:
    """Staff see every dead-lettered entry: on a crisis service nothing may fail silently."""

    async def alert(stream: str, entry_id: str, reason: str) -> None:
        out = Outbox(f"deadletter:{stream}:{entry_id}")
        out.add(
            platform,
            Audience.STAFF_LOBBY,
            texts.staff(texts.STAFF_DEAD_LETTER, entry=entry_id),
            priority=Priority.URGENT,
        )
        for message in out.messages:
            await writer.emit(message)

    return alert
