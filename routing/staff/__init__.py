"""What staff can do, one module per concern. To find where something happens:

- `commands.py`: everything staff write arrives here (a command, a button, words in a thread, a private-chat
  message) and is handed to its owner below; `_dispatch` is the map from each command to its handler.
- `assignment.py`: a volunteer's Take and /next (peer matching), automatic assignment, the hand-over that opens
  the thread, /release, /transfer, the queue card.
- `relay.py`: the holder's reply relayed to the person, whispers from anyone else, /note, the silence nudge.
- `supervision.py`: /escalate, /ack, /falsealarm, /takeover; who counts as an overseer.
- `ending.py`: /end, closing a silent conversation, and the volunteer's cool-down and debrief after a hard one.
- `blocks.py`: /block, /unblock, /blocks.
- `coping.py`: /share, a text from the coping library previewed in the thread, sent with the holder's Send.
- `shifts.py`: /on, /off, /break and the rota commands.
- `returning.py`: a returning person's summary, and their asking for the volunteer they had.
- `voice.py`: where the staff side's words go (the person, the thread, the queue card, back to staff).
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.plan_flow import PlanFlow
from routing.staff.assignment import Assignments
from routing.staff.blocks import Blocks
from routing.staff.coping import Sharing
from routing.staff.ending import Endings
from routing.staff.relay import Relay
from routing.staff.shifts import Shifts
from routing.staff.supervision import Supervision


@dataclass(frozen=True, slots=True)
class StaffActions:
    """The staff side's parts, built by the composition root (`bot/wiring.py`); the staff commands, the router
    and the silence watch act through them."""

    assignments: Assignments
    relay: Relay
    supervision: Supervision
    endings: Endings
    blocks: Blocks
    shifts: Shifts
    sharing: Sharing
    plans: PlanFlow | None = None  # /plan: offer the person a safety plan (routing/plan_flow.py)
