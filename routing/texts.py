"""Everything peerbridge says, in one place, so wording can be reviewed as a whole.

What a person reads is marked `N_(...)` (or `NP_(...)` with a count) and said in their language with `say()`:
these English texts are the message ids of the catalogues in `routing/i18n/locales/` (Spanish, Portuguese,
French). `{emergency}` in a person's text is filled with EMERGENCY in the same language. Staff-facing texts are
marked `S_(...)` and said with `staff()` in the organisation's language (`staff.language`, one per deployment),
from the same catalogues.
"""

from __future__ import annotations

from routing.i18n import N_, NP_, S_, ngettext, staff_text, translate
from routing.model import RiskTier

EMERGENCY = N_(
    "If you are in danger right now or might act on thoughts of ending your life, please call your local "
    "emergency number (112 in Europe, 911 in North America, 999 in the UK) or go to the nearest emergency "
    "department."
)

WELCOME = N_(
    "Hi, and thank you for reaching out. This is a peer support service: the people who answer are trained "
    "volunteers, many with their own lived experience, not doctors or therapists.\n\n"
    "Every message is screened automatically for signs that someone is in danger, so that a professional on "
    "call can step in quickly if needed.\n\n"
    "We keep your messages encrypted for at most {retention} days and then delete them; volunteers see a "
    "nickname, never your account name. Send /privacy for details, /language to choose your language, /stop to "
    "leave at any time.\n\n{emergency}\n\nWhenever you are ready, tell us what is on your mind."
)

PRIVACY = N_(
    "What we keep, where, and for how long:\n\n"
    "• Your messages and our replies, encrypted, on our server: deleted at most {retention} days after the "
    "conversation ends.\n"
    "• The copy the volunteers read, in a topic of their team's chat app (not encrypted there): deleted "
    "{platform_days} days after the conversation ends.\n"
    "• A nickname derived from your account (volunteers never see your name or account id), and the language "
    "and country you chose: deleted after {retention} days.\n"
    "• If a message raised concern, a record of the alert (when, how urgent, who answered and when): kept "
    "{alert_days} days.\n"
    "• An anonymous log of times and our own reference numbers, with nothing that identifies you.\n\n"
    "Who sees it: the volunteer talking with you, their supervisor, and on-call professionals if you may be in "
    "danger. Nothing is sold or shared, and there is no tracking.\n\n"
    "Send /stop to end the conversation. Send /forget to delete everything about you at once, on our server and "
    "in the volunteers' chat app. {after_forget}"
)
PRIVACY_FORGET_KEEPS = N_(
    "Only the alert records stay, without your words or anything that links them to you, for {days} days: a "
    "crisis service must be able to show how it answered when someone was in danger."
)
PRIVACY_FORGET_ALL = N_("The alert records are deleted too.")
# Only when the organisation keeps labelled risk examples (risk.keep_examples; docs/privacy.md).
PRIVACY_EXAMPLES = N_(
    "When our team corrects the automatic risk check about one of your messages, that message and the few "
    "before it are kept encrypted for {days} days, without your name, to make the check better. /forget "
    "deletes them too."
)
PRIVACY_CONTINUITY = N_(
    "If you write again within {retention} days, your new volunteer sees a short staff-only summary of your "
    "earlier conversations (when, how urgent, who helped, their notes), so you don't have to start again. A "
    "safety plan you make is kept encrypted for {retention} days after you last change it; volunteers never see "
    "what it says. /myplan sends it to you again; /forget deletes it with everything else."
)

QUEUED = N_(
    "Thank you for writing. You are in the queue, number {position}, and a volunteer will be with you as "
    "soon as possible. Anything else you write now will be passed to them.\n\n{emergency}"
)

STILL_WAITING = N_("You are still in the queue (number {position}). A volunteer will be with you as soon as possible.")

TOPIC_QUESTION = N_(
    "If you like, tell us what you'd like to talk about, so we can look for a volunteer who has been there "
    "too. You can also skip this."
)
TOPIC_NOTED = N_("Thank you. We'll look for a volunteer who knows about {topic}; it won't make you wait long.")
TOPIC_SKIPPED = N_("That's fine. A volunteer will be with you as soon as possible.")
LANGUAGE_NOTED = N_("Thank you. We'll look for a volunteer who speaks your language.")
LANGUAGE_CHOOSE = N_("Which language would you like us to write to you in?")
LANGUAGE_SET = N_("From now on we will write to you in English.")
SKIP = N_("Skip")
# A returning person (an earlier conversation within retention, with a volunteer) may ask for the same one.
SAME_VOLUNTEER = N_("Ask for the volunteer I talked to last time")
SAME_VOLUNTEER_ASKED = N_(
    "We've asked for the volunteer you talked to last time: they are on duty now. If they can't come soon, "
    "someone else will be with you; you won't wait longer because you asked."
)
SAME_VOLUNTEER_AWAY = N_(
    "The volunteer you talked to last time isn't on duty right now. The next volunteer will be with you as soon "
    "as possible."
)
SAME_VOLUNTEER_TOO_LATE = N_("You are already talking with a volunteer.")
# The safety plan (Stanley & Brown's Safety Planning Intervention): built with the person, step by step; its
# text stays with them (staff see that it exists and how far it got, never what it says).
PLAN_OFFER = N_(
    "Your volunteer suggests making a safety plan together: seven short questions about what helps you when "
    "things get hard. It stays yours: we send it back to you, and volunteers don't see what you write in it. "
    "You can skip any question or stop at any time."
)
PLAN_START = N_("Start my plan")
PLAN_NOT_NOW = N_("Not now")
PLAN_SKIP = N_("Skip this one")
PLAN_STOP = N_("Stop for now")
PLAN_STEP = N_("Step {step} of {steps}: {question}")
PLAN_Q_WARNING = N_(
    "Warning signs. What thoughts, feelings or situations tell you a crisis may be starting? (For example: not "
    "sleeping, pulling away from people.)"
)
PLAN_Q_COPING = N_(
    "Things I can do on my own. What helps take your mind off things, even a little? (A walk, music, a shower, a game.)"
)
PLAN_Q_DISTRACT = N_("People and places that take my mind off things. Who or where can you go to be around others?")
PLAN_Q_HELP = N_(
    "People I can ask for help. Who could you tell that you are struggling? Names and numbers if you like."
)
PLAN_Q_PROFESSIONALS = N_(
    "Professionals and crisis lines. Yours are below; add anyone else who helps you (your doctor, a counsellor)."
)
PLAN_Q_SAFER = N_(
    "Making my surroundings safer. What could you put away, hand to someone or keep out of reach when things get hard?"
)
PLAN_Q_REASONS = N_("Reasons for living. What matters most to you, and is worth staying for?")
PLAN_T_WARNING = N_("Warning signs")
PLAN_T_COPING = N_("Things I can do on my own")
PLAN_T_DISTRACT = N_("People and places that take my mind off things")
PLAN_T_HELP = N_("People I can ask for help")
PLAN_T_PROFESSIONALS = N_("Professionals and crisis lines")
PLAN_T_SAFER = N_("Making my surroundings safer")
PLAN_T_REASONS = N_("Reasons for living")
PLAN_TITLE = N_("My safety plan")
PLAN_FOOTER = N_(
    "Made with a peer supporter on {date}. Pin this message to keep it at hand; send /myplan to get it again."
)
PLAN_EMPTY_SECTION = N_("(not filled in yet)")
PLAN_DONE = N_("Thank you. Here is your plan; the file below has the same words, to keep wherever you like.")
PLAN_STOPPED = N_("Stopped for now; what you wrote is kept. Send /plan when you want to go on.")
PLAN_DECLINED = N_("That's fine. If you want to make one later, send /plan.")
PLAN_PAUSED = N_("Let's put the plan aside for now: what you just wrote matters more. Your volunteer is here with you.")
PLAN_NEEDS_VOLUNTEER = N_("A safety plan is made together with a volunteer. Once one is talking with you, send /plan.")
PLAN_NONE = N_("You don't have a saved plan. When you are talking with a volunteer, send /plan to make one.")
PLAN_FILE_NAME = N_("my-safety-plan")
COMMAND_PLAN = N_("Make a safety plan with your volunteer")
COMMAND_MYPLAN = N_("Get your safety plan again")
# The person's command menu (Telegram's and Discord's, in each language they support).
COMMAND_START = N_("What this service is and how it works")
COMMAND_PRIVACY = N_("What we keep, for how long, and who sees it")
COMMAND_STOP = N_("Leave the queue or end the conversation")
COMMAND_FORGET = N_("Delete everything kept about you")
COMMAND_LANGUAGE = N_("Choose the language we write to you in")
PERSON_COMMANDS = (
    ("start", COMMAND_START),
    ("privacy", COMMAND_PRIVACY),
    ("stop", COMMAND_STOP),
    ("forget", COMMAND_FORGET),
    ("language", COMMAND_LANGUAGE),
    ("plan", COMMAND_PLAN),
    ("myplan", COMMAND_MYPLAN),
)
FEEDBACK_QUESTION = N_("If you have a moment: how are you feeling now, compared to when you started? (anonymous)")
FEEDBACK_QUESTION_CARE = N_(
    "If you have a moment: how are you feeling now, compared to when you started? If you answer Worse, we "
    "will offer you someone to talk to again straight away."
)
FEEDBACK_BETTER = N_("Better")
FEEDBACK_SAME = N_("About the same")
FEEDBACK_WORSE = N_("Worse")
WORSE_OFFER = N_(
    "Thank you for telling us, and I'm sorry it feels worse. You don't have to carry this alone: write here "
    "whenever you want, now if you like, and you will be at the front of the queue for the next hour. {emergency}"
)
WORSE_ALERT = S_(
    "After conversation {conversation} (reached {tier}), {pseudonym} says they feel worse. They were invited "
    "to write again and will be at the front of the queue for the next hour."
)
END_NEEDS_ACK = S_(
    "This conversation reached {tier} risk and no professional has acknowledged the alert yet. Stay with them "
    "if you can. To end it anyway, write /end confirm <why> (it is recorded)."
)
FEEDBACK_THANKS = N_("Thank you for telling us. Take care of yourself; you can write here again at any time.")
CONNECTED = N_("A volunteer has joined the conversation. You can write to them here.")

VOLUNTEER_LEFT = N_(
    "Your volunteer had to step away, and you are back in the queue at the front of your place. "
    "Someone else will be with you soon; you don't need to repeat yourself."
)

ENDED_BY_VOLUNTEER = N_(
    "The volunteer has ended this conversation. Thank you for talking with us. If you want to talk again, "
    "just write here at any time.\n\n{emergency}"
)

LEFT_QUEUE = N_(
    "You have left the queue, and nothing more will be passed on. If you want to talk again, just write here."
)

ENDED_BY_PERSON = N_(
    "You have ended the conversation. Thank you for talking with us. Write here whenever you want to talk again."
)

NOTHING_TO_STOP = N_("You are not in a conversation right now. Write here whenever you want to talk.")

# Crisis resources (routing/resources.py composes them from the person's country file, in their language).
RESOURCES_INTRO = N_("You matter, and someone is being brought in to be with you right now. Please stay here with us.")
RESOURCES_EMERGENCY = N_("If you are in immediate danger, call {number} now.")
RESOURCES_INTERNATIONAL = N_(
    "If you are in immediate danger, call your local emergency number now (112 in Europe, 911 in North America, "
    "999 in the UK, 000 in Australia) or go to the nearest emergency department. Crisis lines in your country: "
    "{directory}"
)
HOW_CALL = N_("call {number}")
HOW_TEXT = N_("text {number}")
HOW_TEXT_WORD = N_("text {keyword} to {number}")
HOW_CALL_OR_TEXT = N_("call or text {number}")
ALWAYS_OPEN = N_("day and night")
FREE = N_("free")
COUNTRY_QUESTION = N_(
    "Which country are you in? If you ever need them, we can then give you the crisis lines there. You can skip this."
)
COUNTRY_OTHER = N_("Another country")
COUNTRY_NOTED = N_("Thank you. If you need them, we will give you the crisis lines for {country}.")
COUNTRY_SKIPPED = N_("That's fine. If you need them, we will give you the international crisis lines.")

SLOW_DOWN = N_(
    "You are sending messages very quickly, so some were not passed on. Please take a breath and send one "
    "message at a time; the volunteer will read everything you send after this."
)

UNSUPPORTED = N_(
    "Sorry, this kind of message ({kind}) can't be passed on to the volunteer. Please send text, a photo, "
    "a voice note or a file instead."
)

FORGET_CONFIRM = N_(
    "This deletes everything we keep about you: your conversations, your messages and our replies, notes "
    "volunteers made, and any safety alerts about you. It also ends the current conversation. It cannot be "
    "undone. To go ahead, send: /forget yes"
)
FORGOTTEN = N_(
    "Done. We deleted {conversations} and {messages}, and the volunteers' topic about you is being deleted from "
    "their chat app. {escalations}What stays: an anonymous log of times and our own reference numbers, with "
    "nothing that identifies you. You can write here again at any time."
)
CONVERSATIONS = NP_("{n} conversation", "{n} conversations")
STORED_MESSAGES = NP_("{n} stored message", "{n} stored messages")
SAFETY_RECORDS = NP_("We also deleted {n} safety alert record. ", "We also deleted {n} safety alert records. ")
SAFETY_RECORDS_KEPT = NP_(
    "We keep {n} safety alert record, without your words or anything that links it to you, for {days} days: a "
    "crisis service must be able to show how it answered when someone was in danger. ",
    "We keep {n} safety alert records, without your words or anything that links them to you, for {days} days: "
    "a crisis service must be able to show how it answered when someone was in danger. ",
)
FORGET_STAFF_NOTE = S_(
    "{pseudonym} asked for everything stored about them to be deleted: their conversation has ended and its "
    "topic is being deleted."
)

EDITED = S_("(edited) {text}")

UNREACHABLE_NOTE = S_(
    "{pseudonym} can no longer be reached on their platform (they may have blocked the bot or closed their "
    "messages). The conversation has been ended."
)

EMPTY_MESSAGE = N_("That message looked empty, so nothing was passed on. You can write text, or send a photo or file.")

TRIMMED = N_("Your message was very long, so only the first {limit} characters were passed on.")

# Staff-side texts.
# The staff's command menus: Telegram's in the volunteers' group, Discord's slash commands in the staff server.
STAFF_COMMAND_HELP = {
    "next": S_("Take the most urgent person waiting"),
    "end": S_("End this conversation (inside its topic or thread)"),
    "release": S_("Return this person to the queue with a handover note"),
    "transfer": S_("Hand this conversation to another volunteer"),
    "note": S_("Staff-only note on this conversation"),
    "on": S_("Available for automatic assignment"),
    "off": S_("Not available for automatic assignment"),
    "break": S_("A break: no new people for N minutes (default 15)"),
    "takeover": S_("Supervisors and on-call: take over this conversation"),
    "ack": S_("Acknowledge an escalation, /ack <escalation id>"),
    "escalate": S_("Page the on-call professional, /escalate [high|imminent] [why]"),
    "dashboard": S_("A private sign-in link to the dashboard"),
    "rota": S_("Today's and tomorrow's coverage with gaps"),
    "train": S_("Coordinators: practice session, /train <volunteer> <scenario>"),
    "plan": S_("Offer the person a safety plan, made step by step"),
    "share": S_("Share a coping text with the person (a preview first), /share <name>"),
}
STAFF_OPTION_HELP = {  # Discord's slash-command options, by command and option
    ("release", "note"): S_("Handover note for the next volunteer"),
    ("transfer", "volunteer"): S_("Roster id or name"),
    ("note", "text"): S_("The note"),
    ("ack", "escalation"): S_("Escalation id, e.g. e-1"),
    ("escalate", "tier"): S_("elevated, high (the default) or imminent, then why"),
    ("train", "volunteer"): S_("Roster id or name of the volunteer who practises"),
    ("train", "scenario"): S_("Scenario name, e.g. loneliness"),
    ("share", "name"): S_("The coping text, e.g. grounding; leave empty for the list"),
}
# Buttons under staff messages.
BUTTON_TAKE = S_("Take")
BUTTON_HAND_OFF = S_("Hand off")
BUTTON_ESCALATE = S_("Escalate")
BUTTON_RAISE_IMMINENT = S_("Raise to imminent")
BUTTON_ACKNOWLEDGE = S_("Acknowledge")
BUTTON_TAKE_OVER = S_("Take over")
BUTTON_FALSE_ALARM = S_("False alarm")
BUTTON_SEND = S_("Send")
BUTTON_CANCEL = S_("Cancel")
# Pieces of staff texts (tier and category keywords stay as staff type them: /escalate high suicide).
UNSPECIFIED = S_("unspecified")
UNKNOWN_PERSON = S_("unknown person")
A_PERSON = S_("a person")
SOMEONE = S_("someone")
COORDINATORS = S_("coordinators")
STILL_OPEN = S_("still open")
ACKNOWLEDGED_BY = S_("acknowledged by {name}")
WHY = S_("Why: {reason}")
PAGED_DIRECTLY = S_("Paged directly: {names}. ")
BACKUP_ON_CALL = S_("Backup on call: {names}. ")
COORDINATORS_NAMED = S_("Coordinators: {names}. ")
SUPERVISORS_NAMED = S_(" Supervisors: {names}.")
ESCALATION_UNKNOWN = S_("Escalation {escalation} is unknown (or older than the records kept).")
ESCALATION_ACKNOWLEDGED = S_("Escalation {escalation} acknowledged by {name} at {at} UTC.")
ESCALATION_ALREADY_ACKNOWLEDGED = S_("Escalation {escalation} was acknowledged already (by {name}).")
HANDOVER_NOTE = S_("Handover note: {note}")
NOT_SENT_STATE = S_("This conversation is {state}; your message was not sent.")
NOT_CHANGED_STATE = S_("This conversation is {state}; nothing was changed.")
NOTHING_CHANGED = S_("Nothing was changed: {problem}")
CARD = S_("{pseudonym} is waiting · risk: {tier} · since {since}")
CARD_TAKEN = S_("{pseudonym} · taken by {volunteer}")
CARD_CLOSED = S_("{pseudonym} · left the queue")
PLAN_OFFERED = S_("Safety plan offered to {pseudonym}. You will see how far they get; what they write stays theirs.")
PLAN_PROGRESS = S_("Safety plan: step {step} of {steps} done.")
PLAN_SKIPPED_NOTE = S_("Safety plan: step {step} of {steps} skipped.")
PLAN_COMPLETE_NOTE = S_("Safety plan finished ({filled} of {steps} sections filled in) and sent to them.")
PLAN_PAUSED_NOTE = S_("Safety plan paused: their last answer read as {tier} risk, and it came to you as a message.")
PLAN_STOPPED_NOTE = S_("Safety plan: they stopped for now at step {step} of {steps}.")
PLAN_DECLINED_NOTE = S_("Safety plan: they said not now.")
PLAN_EXISTS = S_("Has a safety plan ({filled} of {steps} sections), last updated {date}.")
PLAN_NOT_YOURS = S_("Only the volunteer holding this conversation can offer a safety plan.")
CARD_RETURNING = S_("returning: {earlier} before")
CARD_ASKED_FOR = S_("asked for {volunteer} again")
# The hand-over's summary of a returning person's earlier conversations (staff only; dates, risk, staff ids).
RETURNING_SUMMARY = S_("Returning: {earlier} in the last {days} days (latest first).")
RETURNING_LINE = S_("{date} · highest risk: {tier} · with {helpers}")
RETURNING_NOBODY = S_("no volunteer (they left the queue)")
RETURNING_ASKED = S_("They asked for {volunteer}, who helped them before.")
NOBODY_WAITING = S_("Nobody is waiting right now.")
AT_CAPACITY = S_("You already have {count} conversations, your limit. End or release one before taking another.")
ALREADY_TAKEN = S_("Someone else has already taken {pseudonym}.")
PRESS_GONE = S_("This person is no longer waiting: they left, or their conversation has ended.")
TAKEN = S_(
    "You are now talking with {pseudonym}. Messages you write here go to them. If this is more than "
    "you can carry right now, tap Hand off (or /release <note>) and they go back to the queue."
)
THREAD_OPENED = S_("Conversation with {pseudonym} (risk: {tier}). What they sent while waiting follows.")
THREAD_ABOUT = S_("Writes on {platform} · language: {language} · wants to talk about: {topic}")
RISK_SCREENING_LIMITED = S_(
    "⚠ Risk screening limited: the detector has no phrases for their language ({language}). Listen for risk "
    "yourself, ask directly, and escalate by hand (/escalate) if you are worried."
)
CLOSED_NOTE = S_("Conversation ended by {who}.")
RELEASED_NOTE = S_("Released back to the queue by {volunteer}. Handover note: {note}")
TRANSFERRED_NOTE = S_("Transferred from {source} to {target}.")
NOTE_SAVED = S_("Note saved (staff only, never shown to the person): {note}")
NOT_IN_THREAD = S_("Use /{command} inside a conversation's thread.")
NOT_YOURS = S_("This conversation is assigned to {volunteer}, not to you.")
UNKNOWN_VOLUNTEER = S_("I don't know a volunteer called '{name}'. Use their roster id or name.")
TRANSFER_FULL = S_("{name} is at capacity and cannot take this conversation.")
UNKNOWN_COMMAND = S_(
    "Unknown command '/{name}'. Staff commands: /next, /end, /release <note>, /transfer <volunteer>, /note <text>."
)
NEEDS_ARGUMENT = S_("/{command} needs {what}, for example: /{command} {example}")
ESCALATION_ALERT = S_(
    "⚠ RISK {tier} · {category} · {pseudonym} · conversation {conversation}\n"
    "Detected: {phrases}\nRaised {at} UTC. Acknowledge with the button or /ack {escalation}."
)
REVIEW_ALERT = S_(
    "REVIEW (elevated) · {category} · {pseudonym} · conversation {conversation}\n"
    "Detected: {phrases}\nRaised {at} UTC. Please review within {minutes} minutes; confirm with the button or "
    "/ack {escalation}."
)
RE_ESCALATION = S_(
    "⚠ STILL NOT ACKNOWLEDGED ({level}× {timeout} s): RISK {tier} · {pseudonym} · conversation {conversation}.\n"
    "{who}Acknowledge with the button or /ack {escalation}."
)
ELEVATED_SUPPORT = N_(
    "Thank you for telling us how hard things are. You don't have to go through this alone: a volunteer will be "
    "with you. If you ever feel you might act on these thoughts, or you need someone right now, these lines "
    "answer at any hour:"
)
URGENT_ARRIVAL = N_(
    "Thank you for telling us. What you wrote matters, and someone who can help has been alerted right now. "
    "You are at the front of the queue, and a volunteer or a professional will be with you as soon as possible. "
    "Please keep writing here if you can."
)
ESCALATION_UPDATE = S_(
    "⚠ UPDATE to escalation {escalation} · {pseudonym} wrote again, flagged {flagged} ({category}). "
    "Tier now {tier}; {state}."
)
ESCALATION_UPDATE_BY_STAFF = S_(
    "⚠ UPDATE to escalation {escalation} · {pseudonym}: {by} escalated it by hand ({flagged}). Tier now {tier}; "
    "{state}."
)
ESCALATE_USAGE = S_(
    "/escalate pages the on-call professional about this conversation: /escalate [elevated|high|imminent] "
    "[category] [why], for example /escalate high suicide has a plan for tonight. Without a tier it is high; the "
    "category (suicide, self_harm, abuse, danger, harm_others, third_party) is optional and teaches the detector."
)
FALSE_ALARM_REFUSED = S_(
    "Only a professional, a supervisor or a coordinator can mark an alert as a false alarm (it stops the alert's "
    "chain). If you think it is one, say so in the escalation chat."
)
STAFF_ESCALATED = S_(
    "{name} escalated this conversation ({tier}). The on-call professional is paged directly; the person was "
    "not sent anything."
)
BLOCKED_PERSON = N_(
    "We have paused conversations with you on this service until {until} UTC. Messages you send until then "
    "will not reach a volunteer. {emergency} If you write that you are in danger, we will still send you help and "
    "alert a professional."
)
BLOCKED_REMINDER = N_(
    "Conversations with you are paused until {until} UTC, so this message did not reach a volunteer. {emergency}"
)
BLOCKED_NOTE = S_(
    "{name} blocked {pseudonym} for {duration}: {reason}. Risk is still screened: high risk still alerts."
)
BLOCK_USAGE = S_(
    "/block <duration> <reason>, for example /block 24h abusive messages (m, h or d; at most 90 days). "
    "A blocked person is told kindly; their messages are still screened for risk."
)
BLOCK_NEEDS_OVERSEER = S_(
    "This conversation reached high risk: only a supervisor, coordinator or professional can block this person."
)
UNBLOCKED = S_("{pseudonym} is no longer blocked.")
NOT_BLOCKED = S_("Nobody matching that is blocked.")
BLOCKS_NONE = S_("No blocks in force.")
BLOCKS_LIST = S_("Blocks in force:\n{lines}")
SILENCE_NUDGE = S_(
    "{pseudonym} has been waiting {minutes} minutes for your reply. If you cannot carry on, tap Hand off (or "
    "/release <note>) so someone else can be with them."
)
SILENCE_NOTE = S_("returned to the queue automatically: no reply from their volunteer for {minutes} minutes")
SILENCE_RELEASED = S_(
    "No reply for {minutes} minutes, so this person went back to the front of the queue for someone else. If "
    "you are still here, /next may bring them back to you."
)
SILENCE_CLOSED = N_(
    "We haven't heard from you for a while, so we have closed this conversation for now. You are welcome to "
    "write again at any time, and someone will be here. {emergency}"
)
SILENCE_CLOSED_NOTE = S_("The person has not written for {hours} hours; the conversation was closed kindly.")
DESK_UNREACHABLE = S_(
    "This conversation's messages cannot reach its volunteer's private chat with the bot: they need to open a "
    "private chat with the bot and press Start. Until then, work here in the topic."
)
PAGE_UNREACHABLE = S_(
    "A private alert could not be delivered: someone on the escalation chain has not opened a private chat with "
    "the bot. Each professional and coordinator on the rota should open one and press Start, so that alerts "
    "reach them directly."
)
ALERT_ACKNOWLEDGED = S_("✓ Acknowledged by {name} at {at} UTC.\n{alert}")
ACKNOWLEDGED_NOTE = S_(
    "{name} (on-call professional) acknowledged the alert at {at} UTC and is following this conversation."
)
UNANSWERED = S_(
    "⚠ UNANSWERED after {minutes} min: RISK {tier} · {pseudonym} · conversation {conversation}. Nobody on the "
    "chain acknowledged. Whoever reads this: open the conversation now, and call the on-call professional by "
    "phone. This is the last alert; /ack {escalation} still records who took it."
)
PAGED = S_("{name}, you are paged directly:\n{alert}")
NO_ON_CALL = S_(
    "No on-call professional in the rota right now: the alert for {pseudonym} went to every professional. "
    "{coordinators}: please fill the gap in the rota."
)
VOLUNTEER_REVIEW_PROMPT = S_(
    "This message suggests {pseudonym} may be struggling more than they say (flagged elevated). Ask directly and "
    'calmly: "Are you thinking about suicide?" A professional will review the conversation.'
)
VOLUNTEER_RISK_ALERT = S_(
    "⚠ This message was flagged {tier} ({category}). An on-call professional has been alerted. "
    'Stay with them, and ask directly: "Are you thinking about suicide?"'
)
OUT_OF_HOURS = N_(
    "Thank you for writing. Our volunteers are not on shift right now{next_open}. Your message is kept, and a "
    "volunteer will read it when they start. If anything you write suggests you are in danger, an on-call "
    "professional is alerted at any hour.\n\n{emergency}"
)
OUT_OF_HOURS_NEXT = N_("; the next volunteers start {when}")
COOLING_DOWN = S_(
    "You are in a short cool-down after a hard conversation ({minutes} more minutes), so no new conversations "
    "for now. Take a breath, get some water; a supervisor will check in with you."
)
CHECK_IN = S_(
    "That was a heavy conversation. Thank you for staying with them. You have {minutes} minutes without new "
    "conversations; a supervisor has been asked to debrief with you."
)
DEBRIEF_REQUEST = S_("Debrief please: {volunteer} just ended a conversation that reached {tier} ({conversation}).{who}")
SUPERVISOR_NOTICE = S_(
    "Conversation {conversation} ({pseudonym}) reached {tier}.{who} You can watch and whisper in its thread."
)
COVERAGE_GAP = S_(
    "Rota gap: no volunteer is on shift from {when}. Can someone cover? (/cover <volunteer> <date> <HH:MM-HH:MM>)"
)
NO_ONCALL = S_(
    "No on-call professional is covering right now. Risk alerts still go to the escalation chat; please arrange "
    "cover (/oncall)."
)
OVER_HOURS = S_(
    "Wellbeing: {volunteer} is scheduled {hours:.0f} hours this week, over their limit of {limit:.0f}. Please "
    "rebalance the rota (/shift remove …) so nobody burns out."
)
LONG_WAIT = S_("{pseudonym} has been waiting {minutes} minutes. Can someone take them? (/next)")
SHIFT_ENDING = S_(
    "Your shift ends at {when}. To hand over, use /release <note for the next volunteer>; to stay with them, "
    "just carry on."
)
CHECKED_IN = S_("{name} is now checked in and available.")
OFF_DUTY = S_("{name} is now off duty.")
ON_BREAK = S_("{name} is on a break for {minutes} minutes. Enjoy it; /on ends it early.")
DASHBOARD_LINK = S_("Your dashboard sign-in link (works once, for 10 minutes; don't forward it): {url}")
DASHBOARD_SENT = S_(
    "I've sent you a private sign-in link. If it doesn't arrive, open a private chat with me, send /start, "
    "and ask again."
)
DASHBOARD_OFF = S_("The dashboard is not enabled in this deployment.")
# A volunteer working in their private chat with the bot (staff.workspace = "private").
DESK_RELAY = "{pseudonym}: {text}"  # what the person wrote
DESK_NOTICE = "[{pseudonym}] {text}"  # what the service says about their conversation
DESK_WELCOME = S_(
    "This is your private desk. The people you take write to you here, each message named by their nickname, "
    "and what you write here goes to them. Holding more than one person? Reply to a message of the one you "
    "mean. Staff commands work here too (/next, /end, /release <note>, /transfer <volunteer>, /note <text>, "
    "/help); the staff forum keeps a copy of every conversation for supervision."
)
DESK_WHICH = S_(
    "You hold {count} conversations ({names}). Reply to a message of the person you mean (swipe it, or tap "
    "Reply) so that your words reach the right one. Nothing was sent."
)
DESK_NONE = S_("You hold no conversation right now, so nothing was sent. /next takes the most urgent person waiting.")
DESK_PICK = S_("Reply to a message of the person you mean with /{command}, so that it acts on their conversation.")
DESK_WHISPER = S_("{author} (staff only, not sent to the person): {text}")

WHISPER = S_(
    "{author}: only {holder}, who holds this conversation, speaks to the person. Your message stayed here with "
    "staff (a whisper), and so will your next ones. To speak to them yourself, ask {holder} to /transfer the "
    "conversation to you, or, as a professional or supervisor, /takeover."
)
PROFESSIONAL_JOINED = N_("A crisis professional has joined and will talk with you now. You are not alone.")
TAKEN_OVER = S_("{name} (crisis professional) has taken over this conversation. Thank you — stay available to them.")
TAKEOVER_REFUSED = S_("Only on-call professionals and supervisors can take over a conversation.")
UNBLOCK_REFUSED = S_("Only on-call professionals and supervisors can lift a block from here.")
BLOCKS_REFUSED = S_("Only on-call professionals and supervisors can list blocks.")
STAFF_DEAD_LETTER = S_("A message could not be processed and was set aside for review (entry {entry}).")

# Training conversations: practice with a scripted person. Never a real person, queue, alert or metric.
TRAIN_OFF = S_("Practice sessions are not available in this deployment.")
TRAIN_REFUSED = S_("Only coordinators can start practice sessions (/train <volunteer> <scenario>).")
TRAIN_USAGE = S_("/train needs a volunteer and a scenario, for example: /train ana {example}. Scenarios: {scenarios}.")
TRAIN_NO_SCENARIOS = S_(
    "No training scenarios are installed: put <name>.toml files in the directory training.scenarios_dir "
    "(by default the scenarios shipped with peerbridge) and restart."
)
TRAIN_UNKNOWN_SCENARIO = S_("There is no training scenario '{name}'. Scenarios: {scenarios}.")
TRAIN_BROKEN_SCENARIO = S_(
    "The training scenario '{name}' cannot be used until its file is fixed: {problem}. "
    "`peerbridge check-config` lists every problem."
)
TRAIN_UNKNOWN_VOLUNTEER = S_("I don't know a volunteer called '{name}'. Volunteers: {volunteers}.")
TRAIN_NO_IDENTITY = S_(
    "{name} has no {platform} account in the rota, so their replies in a practice topic could not be "
    "recognised. Add `{platform} = <their user id>` to their [[staff]] entry first."
)
TRAIN_BUSY = S_("{name} already has a practice session running ({session}); it must end first (/end in its topic).")
TRAIN_STARTED = S_(
    'Practice session {session} started for {volunteer}: {title}. Their topic is "{topic}". '
    "The debrief will come here when it ends."
)
TRAINING_TOPIC = S_("TRAINING · {scenario} · {volunteer}")
TRAINING_INTRO = S_(
    "TRAINING · practice only. {volunteer}, you are practising with a scripted person: {title}. Nothing here "
    "reaches a real person, the queue or the on-call professionals.\n\n{brief}\n\nReply here as you would for "
    "real. /escalate practises escalating (nothing is sent); /end finishes and gives you a debrief."
)
TRAINING_ESCALATE_NOTED = S_(
    "TRAINING: escalation noted. In a real conversation the on-call professional would be alerted now and you "
    "would stay with the person; in practice nothing is sent."
)
TRAINING_COMMANDS = S_("TRAINING: in a practice topic only /escalate, /end and /help work.")
TRAINING_HELP = S_(
    "TRAINING: reply as you would to a real person. /escalate practises escalating to the on-call professional "
    "(nothing is sent); /end finishes the session and gives you and the coordinator a debrief."
)
TRAINING_NOT_YOURS = S_("TRAINING: this practice session is {volunteer}'s; only they or a coordinator can end it.")
TRAINING_OVER = S_("TRAINING: this practice session has ended.")
TRAINING_SCENARIO_GONE = S_("the scenario's file was removed or broken while the session ran")
TRAINING_SCRIPT_DONE = S_("the script finished")
TRAINING_ENDED_BY = S_("ended with /end by {name}")
TRAINING_FOR_COORDINATOR = S_("For {coordinator}, who started this practice session:\n{debrief}")
DEBRIEF_HEADER = S_("TRAINING DEBRIEF · {title} · {volunteer}")
DEBRIEF_ENDING = S_("How it ended: {ending}, after {duration}.")
DEBRIEF_COUNTS = S_("Messages: {replies} from you, {person} from the person.")
DEBRIEF_TIMES = S_("Response times: first reply {first}, median {median}.")
DEBRIEF_NO_REPLIES = S_("Response times: no replies to time.")
DEBRIEF_CHECKLIST = S_("Key steps ({met} of {total}):")
DEBRIEF_PATH = S_("The script's path: {path}")

# Sharing the coping library (/share, routing/staff/coping.py): a preview in the thread, then Send or Cancel.
COPING_LIST = S_("Coping texts you can share (a preview comes first; nothing is sent until you press Send): {names}")
COPING_UNKNOWN = S_("There is no coping text called {name}. You can share: {names}")
COPING_EMPTY = S_("The coping library is empty: its files are missing or broken (peerbridge check-config says why).")
COPING_PREVIEW = S_(
    "Preview of {title}, for {pseudonym}. Nothing is sent until {volunteer} presses Send; the person will read "
    "exactly this:\n\n{message}"
)
COPING_NOT_THEIR_LANGUAGE = S_(
    "Note: the library has no {language} version of this text, so the person will read it in English."
)
COPING_SENT = S_("Sent to {pseudonym}: {title}.")
COPING_CANCELLED = S_("Not sent: the preview of {title} was cancelled.")
COPING_CLOSED = S_("This preview was already sent, cancelled or has expired; nothing was sent. /share shows a new one.")
COPING_CHANGED = S_("{title} was edited since this preview, so nothing was sent. Here it is as it reads now.")
COPING_ONLY_HOLDER = S_(
    "Only {volunteer}, who holds this conversation, can send a coping text to the person. Nothing was sent."
)


def say(lang: str | None, text: str, **params: object) -> str:
    """A person's text in their language (a tag such as "es-MX"; English when unknown), filled in; the
    catalogue's translation keeps the same `{placeholders}` (tests/test_catalogues.py checks)."""
    return translate(lang, text).format(emergency=translate(lang, EMERGENCY), **params)


staff = staff_text  # a staff-facing text (marked `S_`) in the organisation's language, filled in


def count(lang: str | None, forms: tuple[str, str], n: int, **params: object) -> str:
    """A counted phrase ("3 stored messages") with the plural rule of the person's language."""
    return ngettext(lang, forms, n).format(n=n, **params)


def days(value: float) -> str:
    """A number of days from the settings as a person reads it ("30", "0.5")."""
    return f"{value:g}"


def tier_label(tier: RiskTier) -> str:
    return tier.label
