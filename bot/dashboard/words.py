"""What the dashboard says, in the organisation's language (`staff.language`, as every staff-facing text).

Every visible English text of the dashboard is here, grouped by page and marked `S_` (or `NP_` with a count) so
`./dev catalogues` extracts it into the same catalogues as `routing/texts.py`; the English is the message id, so a
missing translation falls back to readable English. Texts are translated when a page is rendered, never at
import: the language is set at start-up, after this module is imported.

Data stays as it is: staff ids, pseudonyms, our own ids (c-1, e-1, t-1), scenario titles, and the tier,
category and role words (staff type them in `/escalate` and in the rota file). Durations keep their short units
("4 min", "1 h 05 min"), which read the same in every language we have.
"""

from __future__ import annotations

import html
from datetime import date, datetime

from babel.dates import format_date, format_datetime, get_day_names
from babel.numbers import format_decimal

from routing.i18n import NP_, S_, staff_count, staff_language, staff_text, translate
from routing.rota import GapKind

# Every page: the navigation, the page shell, and the line that says when a polled page last refreshed.
LIVE = S_("Live")
ROTA = S_("Rota")
VOLUNTEERS = S_("Volunteers")
CHARTS = S_("Charts")
TRAINING = S_("Training")
CASES = S_("Cases")
COPING = S_("Coping")
SIGN_OUT = S_("Sign out")
UPDATED = S_("Updated {time} · refreshes by itself")
AGO = S_("{duration} ago")
N_OF_TOTAL = S_("{n} of {total}")  # a volunteer's open conversations of their limit; key steps met of all

# Signing in (a one-time link from `/dashboard`; the link's page only shows a button, see auth.py).
SIGN_IN = S_("Sign in")
SIGN_IN_HERE = S_("Sign in to the peerbridge dashboard on this device.")
NOT_SIGNED_IN = S_(
    "You are not signed in. Send {command} in the staff workspace: the bot sends you a private sign-in link that "
    "works once, for 10 minutes."
)
LINK_EXPIRED = S_("Link expired")
LINK_USED = S_("This sign-in link was already used or has expired.")
SIGNED_OUT = S_("Signed out")
YOU_ARE_SIGNED_OUT = S_("You are signed out.")
FORM_EXPIRED = S_("the form expired or did not come from this dashboard; reload the page")

# The Live page: who waits, who talks with whom, and the escalations with their timers.
PERSON = S_("Person")
TIER = S_("Tier")
WAITING = S_("Waiting")  # a heading over the queue, and the column of how long each person has waited
LANGUAGE = S_("Language")
PLATFORM = S_("Platform")
CONVERSATION = S_("Conversation")
VOLUNTEER = S_("Volunteer")
DURATION = S_("Duration")
ESCALATION = S_("Escalation")
STATE = S_("State")
RAISED = S_("Raised")
TIMER = S_("Timer")
ACKNOWLEDGED_BY = S_("Acknowledged by")
ACTIVE_CONVERSATIONS = S_("Active conversations")
ESCALATIONS = S_("Escalations")
NOBODY_WAITING = S_("Nobody is waiting.")
NO_CONVERSATIONS = S_("No conversations right now.")
NO_ESCALATIONS = S_("No escalations.")
ACKNOWLEDGE = S_("Acknowledge")
NEW_ESCALATION = S_("New escalation {escalation}: {tier}, {pseudonym}.")
ACKNOWLEDGED_AFTER = S_("acknowledged after {duration}")
TO_ACKNOWLEDGE = S_("{duration} to acknowledge")
OVERDUE = S_("overdue {duration}")
AT_LEVEL = S_("{state} (level {level})")
REVIEW = S_("{escalation} (review)")
ESCALATION_STATES = {
    "raised": S_("raised"),
    "re_escalated": S_("re-escalated"),
    "unanswered": S_("unanswered"),  # the whole chain was alerted and nobody acknowledged
    "acknowledged": S_("acknowledged"),
}
ACK_FORBIDDEN = S_("only professionals, supervisors and coordinators acknowledge escalations")

# The Charts page: the last 7 days from the audit stream and the feedback counts, what staff taught the detector,
# what it reads. Each chart has a heading, axes with units, a legend, and its numbers in a table for screen readers.
CHARTS_TITLE = S_("Last 7 days")
STARTED_PER_DAY = S_("Conversations started (per day)")
MEDIAN_WAIT = S_("Median wait by tier (per day)")
FIRST_REPLY_BY_TIER = S_("Time to first volunteer reply by tier (median per day)")
ACK_TIME = S_("Escalation acknowledgement time (median per day)")
FEEDBACK = S_("Feedback at the end of a conversation (answers per day)")
FEEDBACK_EXPLAINED = S_("One answer per conversation, counted without any link to the person.")
FEEDBACK_VALUES = {"better": S_("Better"), "same": S_("About the same"), "worse": S_("Worse")}  # the person's buttons
NO_STARTED = S_("No conversation started in the last 7 days.")
NO_WAITS = S_("Nobody was taken from the queue in the last 7 days.")
NO_FIRST_REPLY = S_("No volunteer replied to a person they took in the last 7 days.")
NO_ACKS = S_("No escalation was acknowledged in the last 7 days.")
NO_FEEDBACK = S_("No feedback in the last 7 days.")
SUPPORT_SHARED = S_("Safety plans made and coping texts shared (per day)")
PLANS_SERIES = S_("safety plans made")
NO_SUPPORT_SHARED = S_("No safety plan was made and no coping text shared in the last 7 days.")
TIMES = S_("times")
FIRST_REPLY_MEDIAN = NP_(
    "Median {duration} from taking a person to the first reply that reached them, over {n} conversation.",
    "Median {duration} from taking a person to the first reply that reached them, over {n} conversations.",
)
HIGHEST = S_("highest: {peak} · {first} to {last}")  # a chart's caption: its tallest bar and the span it covers
# The axes' titles (the units), the legend of a chart with one series, and the tables under the charts.
MINUTES = S_("minutes")
SECONDS = S_("seconds")
CONVERSATIONS = S_("conversations")
ANSWERS = S_("answers")
TIMES_COUNTED = S_("times counted")
STARTED_SERIES = S_("started")
ACK_SERIES = S_("acknowledged after (median)")
THE_NUMBERS = S_("The numbers")  # opens the table of a chart's numbers
TAUGHT = S_("What staff taught the detector (last 30 days)")
COUNTS_ONLY = S_("Counts only, never the words; docs/risk.md.")
EXAMPLES_KEPT = NP_(  # risk.keep_examples: the organisation keeps the corrected messages apart from these counts
    "{n} labelled example is kept apart, encrypted (risk.keep_examples).",
    "{n} labelled examples are kept apart, encrypted (risk.keep_examples).",
)
NOTHING_TAUGHT = S_(
    "Nothing yet: when staff escalate by hand above what the detector said (/escalate high abuse …) or mark an "
    "alert as a false alarm, the category is counted here."
)
CATEGORY = S_("category")
ESCALATED_ABOVE = S_("escalated by staff above the detector")
FALSE_ALARMS = S_("alerts marked false alarms")
RISK_SCREENING = S_("Risk screening")
READS = S_("Reads messages in {languages}.")
LIMITED = S_("People are also served in {languages}: there, screening is limited and volunteers are told.")

# The Rota page: the week grid, and the coordinators' form (edits are checked as the chat commands are).
NO_ROTA = S_("There is no rota yet; a coordinator can load one with {command}.")
PREVIOUS_WEEK = S_("← previous week")
NEXT_WEEK = S_("next week →")
WEEK_OF = S_("week of {date} ({zone})")
REMOVE = S_("remove")
REMOVE_SHIFT = S_("remove {shift}")  # the button's aria-label: which shift it removes
ON_CALL = S_("on call {time} {who}")
NOBODY = S_("nobody")
GAP = S_("gap {start}-{end}: {what}")
GAPS = {GapKind.NO_VOLUNTEER: S_("no volunteer on shift"), GapKind.NO_ONCALL: S_("no on-call professional")}
NOTHING = S_("nothing")
ADD_A_SHIFT = S_("Add a weekly shift")
DAY = S_("Day")
TIME = S_("Time")
ADD_SHIFT = S_("Add shift")
SHIFT_ADDED = S_("Shift added.")
SHIFT_REMOVED = S_("Shift removed.")
COORDINATORS_EDIT = S_("Coordinators can edit the rota.")
ROTA_FORBIDDEN = S_("only coordinators change the rota")
ROTA_CONFLICT = S_("Someone else changed the rota at the same moment; try again.")

# The Volunteers page: each member's hours and load this week, and how they are now.
YOUR_WEEK = S_("Your week")  # the page's title for someone who sees only their own row
STAFF = S_("Staff")
HOURS_THIS_WEEK = S_("Hours this week")
WEEKLY_LIMIT = S_("Weekly limit")
OPEN_CONVERSATIONS = S_("Open conversations")
CONVERSATIONS_THIS_WEEK = S_("Conversations this week")
NOW = S_("Now")
NOBODY_THIS_WEEK = S_("Nobody is on the rota or had a conversation this week.")
NOTHING_FOR_YOU = S_("Nothing is recorded for you this week.")
NO_ROTA_HOURS = S_("no rota")
SCHEDULED = S_("{scheduled} scheduled · {so_far} so far")
NO_LIMIT = S_("none")
OVER_BY = S_("over by {hours}")
FULL = S_("full")
ON_SHIFT = S_("on shift")
OFF_SHIFT = S_("off shift")
CHECKED_IN = S_("checked in")
COOLING_DOWN = S_("cooling down, {left} left")
ON_A_BREAK = S_("on a break, {left} left")
# The team's summary: a count each, with the verb agreeing in languages where it must ("1 supera", "2 superan").
OVER_HOURS_COUNT = NP_("{n} over their weekly hours", "{n} over their weekly hours")
AT_CAPACITY_COUNT = NP_("{n} at capacity", "{n} at capacity")
COOLING_DOWN_COUNT = NP_("{n} cooling down", "{n} cooling down")
ON_A_BREAK_COUNT = NP_("{n} on a break", "{n} on a break")
NOBODY_FLAGGED = S_("Nobody is over their hours, at capacity, cooling down or on a break.")
WEEK_FROM = S_("Week from {start} ({zone})")
HOURS_EXPLAINED = S_(
    "Hours are time on shift in the rota (scheduled this week, and the part already past) against each person's "
    "weekly limit. Highlighted: over the weekly limit, at capacity, cooling down after a high-risk conversation, "
    "or on a break."
)

# The Training page: coordinators start practice sessions; everyone sees the sessions they may see.
SESSION = S_("Session")
SCENARIO = S_("Scenario")
STARTED_BY = S_("Started by")
STARTED = S_("Started")
REPLIES = S_("Replies")
FIRST_REPLY = S_("First reply")
MEDIAN_REPLY = S_("Median reply")
KEY_STEPS = S_("Key steps")
RUNNING = S_("running")
FINISHED = S_("finished")
PRACTICE_STARTED = S_(
    "Practice session {session} started for {volunteer}: {title}. The scripted person is writing in a topic "
    "marked TRAINING in the staff workspace; the debrief goes to {volunteer} there and to the staff lobby when it "
    "ends."
)
PRACTISING_NOW = S_("{volunteer} (practising now)")
NO_ACCOUNT = S_("{volunteer} (no {platform} account in the rota)")
NOBODY_IN_ROTA = S_("Nobody is in the rota yet: import one with {command}.")
LEFT_OUT = S_("Left out until their files are fixed:")
START_A_SESSION = S_("Start a practice session")
START_PRACTICE = S_("Start practice")
PRACTICE_EXPLAINED = S_(
    "The bot plays a scripted person in a topic marked TRAINING in the staff workspace. Nothing reaches a real "
    "person, the queue or the on-call professionals, and the volunteer gets no real person by automatic "
    "assignment while it runs."
)
COORDINATORS_START = S_("Coordinators start practice sessions (here or with /train).")
PRACTICE_SESSIONS = S_("Practice sessions")
NO_SESSIONS = S_("No practice sessions yet.")
NO_OWN_SESSIONS = S_("You have no practice sessions yet.")
TRAIN_FORBIDDEN = S_("only coordinators start practice sessions")

# The Cases page and a case record (for a safeguarding review): staff ids and pseudonyms, never platform ids.
CASE = S_("Case {conversation}")
CASES_EXPLAINED = S_(
    "Conversations whose record is still kept (the retention period); /forget erases one. Every opening and "
    "export of a record is written to the audit log."
)
YOUR_CASES_EXPLAINED = S_("You can open the records of the conversations you hold now.")
NO_CASES = S_("No case records.")
OPENED = S_("Opened")
CLOSED = S_("Closed")
STILL_OPEN = S_("still open")
HIGHEST_TIER = S_("Highest tier")
HELD_BY = S_("Held by")
WHEN = S_("When")
WHO = S_("Who")
WHAT = S_("What")
BY = S_("By")
MESSAGES = S_("Messages")
NO_MESSAGES = S_("No messages.")
WHISPER_BY = S_("{staff} (whisper, staff only)")
REPLY_BY = S_("{staff} (reply to the person)")
ATTACHMENTS = NP_("[{n} attachment]", "[{n} attachments]")
HANDOVER_NOTES = S_("Handover notes")
NO_NOTES = S_("No handover notes.")
TIER_CHANGES = S_("Tier changes")
NO_TIER_CHANGES = S_("The tier never rose.")
TIER_ROSE = S_("{before} → {tier}")
ESCALATION_TIMELINE = S_("Escalation timeline")
ESCALATION_RAISED = S_("{escalation} raised at {tier}")
REVIEW_RAISED = S_("{escalation}: review requested at {tier}")
ESCALATION_UPDATED = S_("{escalation} updated: a further message at {tier}")
ESCALATION_LEVEL = S_("{escalation} not acknowledged in time: level {level} alerted")
ESCALATION_UNANSWERED = S_("{escalation} unanswered after level {level}")
ESCALATION_ACKNOWLEDGED = S_("{escalation} acknowledged")
FALSE_ALARM = S_("{escalation} marked a false alarm")
HOLDING = S_("Assignment, transfer, release and close")
NO_HOLDING = S_("Nobody took this conversation.")
ASSIGNED = S_("assigned")
TRANSFERRED = S_("transferred to {staff}")
TAKEN_OVER = S_("taken over")
RELEASED = S_("returned to the queue")
CLOSED_EVENT = S_("closed")
BLOCKED = S_("closed with a block")
# Who did something when it was not a staff member.
BY_WHOM = {
    "detector": S_("the risk detector"),
    "person": S_("the person"),
    "silence": S_("silence (nobody wrote)"),
    "reconnect": S_("came back after feeling worse"),
    "unreachable": S_("the person could not be reached"),
}
OPENED_BEFORE = S_("Opened before")
NOBODY_BEFORE = S_("Nobody opened this record before.")
READ_EVENTS = {"case_opened": S_("opened"), "case_exported": S_("exported")}
EXPORT = S_("Export for a safeguarding review")
EXPORTED = S_(
    "Exported {time} by {staff} for a safeguarding review. Confidential: keep it only as long as the review needs it."
)
CASE_FORBIDDEN = S_(
    "You may open only the records of the conversations you hold now. Supervisors, coordinators and professionals "
    "can open any case."
)
NO_CASE = S_(
    "There is no record for {conversation}: it was never kept, its retention period ended, or the person asked "
    "for it to be erased."
)
NOT_ALLOWED = S_("Not allowed")
NOT_FOUND = S_("Not found")
# The Coping page: the coping library volunteers share with /share; coordinators edit a text, others read it.
COPING_TITLE = S_("Coping library")
COPING_EXPLAINED = S_(
    "Short texts volunteers share with /share <name> in a conversation's topic or thread: staff see a preview, and "
    "only the person's own volunteer's Send reaches the person, in their language when there is a version in it "
    "(else in English)."
)
COPING_PRECEDENCE = S_(
    "An edit made here is kept and used instead of the text's file until a coordinator goes back to the shipped "
    "text. Every edit is recorded with who made it and which text (never the words)."
)
COPING_NAME = S_("/share {name} · {language}")
COPING_SOURCE = S_("Follows: {source}")
COPING_REVIEWED = S_("Reviewed by {who} on {date}")
COPING_EDITED = S_("Edited here by {who} on {date}: people read this version, not the shipped text.")
COPING_SHIPPED = S_("The shipped text (from its file).")
COPING_SAVE = S_("Save")
COPING_REVERT = S_("Back to the shipped text")
COPING_SAVED = S_("Saved: the next share sends this text.")
COPING_REVERTED = S_("Back to the shipped text: the next share sends it.")
COPING_FORBIDDEN = S_("only coordinators edit the coping library")
COPING_UNKNOWN = S_("there is no such text in the coping library")
COPING_EDITORS = S_("Coordinators can edit these texts.")
COPING_NONE = S_("The coping library is empty: its files are missing or broken.")


t = staff_text  # a text above in the staff language, its `{placeholders}` filled in; plain text


def markup(text: str, **html_params: str) -> str:
    """A text that holds markup (a `<code>` command, a `<span>` a script updates), as HTML: the translation is
    escaped first, then `html_params`, which are already-safe HTML, are filled in."""
    return html.escape(translate(staff_language(), text), quote=True).format(**html_params)


counted = staff_count  # a text with a count `{n}`, in the form the staff language's plural rule picks


def when(moment: datetime | date, pattern: str) -> str:
    """A date or time in the staff language's words (a Babel pattern: "EEE dd MMM" is "lun 07 ene" in Spanish).
    A naive datetime is written as it is; an aware one in its own zone."""
    if isinstance(moment, datetime):
        return format_datetime(moment, pattern, locale=staff_language())
    return format_date(moment, pattern, locale=staff_language())


def day_name(weekday: int) -> str:
    """A weekday's full name in the staff language (0 is Monday)."""
    return str(get_day_names("wide", locale=staff_language())[weekday])


def number(value: float, pattern: str | None = None) -> str:
    """A number with the staff language's decimal sign ("8,5" in Spanish); `pattern` as Babel's, e.g. "0.0"."""
    return format_decimal(value, pattern, locale=staff_language())
