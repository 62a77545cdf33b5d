"""REST routes that answer interactions: the callback, and the webhook routes for @original and followups.

Rules kept from https://discord.com/developers/docs/interactions/receiving-and-responding: one initial
response, within 3 s; tokens live 15 min; the first followup after a "thinking" defer fills the placeholder.
"""

from __future__ import annotations

from aiohttp import web

from sandboxes.discord import errors
from sandboxes.discord.core import API_PREFIX, SandboxCore, core_of, json_response, no_content, snowflake
from sandboxes.discord.drafts import MessageDraft, parse_draft, read_message_body
from sandboxes.discord.model import (
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    ActionKind,
    InteractionKind,
    InteractionRecord,
    InteractionResponse,
    JsonObject,
    Message,
    Upload,
)

REPLY = 4
DEFER_REPLY = 5
DEFER_UPDATE = 6
UPDATE_MESSAGE = 7
MODAL = 9
_COMPONENT_ONLY = (DEFER_UPDATE, UPDATE_MESSAGE)
_TRUE = ("1", "true", "True")


def _invalid_type() -> errors.ApiError:
    return errors.invalid_form("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")


def _message_type(record: InteractionRecord) -> int:
    # CHAT_INPUT_COMMAND (20) for slash commands; a plain message for component replies.
    return 20 if record.kind is InteractionKind.APPLICATION_COMMAND else 0


async def interaction_callback(request: web.Request) -> web.Response:
    """POST /interactions/{interaction_id}/{interaction_token}/callback."""
    core = core_of(request)
    record = core.state.interactions.get(snowflake(request, "interaction_id"))
    if record is None or record.token != request.match_info["interaction_token"]:
        raise errors.unknown_interaction()
    if record.responded:
        raise errors.already_acknowledged()
    if core.now() - record.created_at > core.settings.interaction_deadline_s:
        raise errors.unknown_interaction()
    payload, uploads = await read_message_body(request)
    response_type = payload.get("type")
    data = payload.get("data") or {}
    if not isinstance(response_type, int) or not isinstance(data, dict):
        raise _invalid_type()
    message = _apply_callback(core, record, response_type, data, uploads)
    record.responses.append(InteractionResponse(response_type, data, core.now()))
    detail = {"type": response_type}
    core.activity.record(
        ActionKind.INTERACTION_CALLBACK,
        record.application_id,
        record.channel_id,
        interaction_id=record.id,
        detail=detail,
    )
    if request.query.get("with_response") in _TRUE:
        return json_response(_callback_body(core, record, response_type, message))
    return no_content()


def _apply_callback(
    core: SandboxCore, record: InteractionRecord, response_type: int, data: JsonObject, uploads: dict[int, Upload]
) -> Message | None:
    channel = core.state.channels[record.channel_id]
    bot_id = record.application_id
    if response_type in _COMPONENT_ONLY and record.kind is not InteractionKind.MESSAGE_COMPONENT:
        raise _invalid_type()
    if response_type == REPLY:
        draft = parse_draft(data, uploads)
        message = core.traffic.post(channel, bot_id, draft, interaction=record, message_type=_message_type(record))
        record.original_message_id = message.id
        return message
    if response_type == DEFER_REPLY:
        draft = MessageDraft(flags=int(data.get("flags") or 0) & EPHEMERAL_FLAG)
        message = core.traffic.post(
            channel, bot_id, draft, interaction=record, message_type=_message_type(record), extra_flags=LOADING_FLAG
        )
        record.original_message_id = message.id
        return message
    if response_type in _COMPONENT_ONLY:
        assert record.message_id is not None
        record.original_message_id = record.message_id
        if response_type == DEFER_UPDATE:
            return None
        target = core.state.messages[record.message_id]
        return core.traffic.edit(target, parse_draft(data, uploads), editor_id=bot_id)
    if response_type == MODAL:
        return None
    raise _invalid_type()


def _callback_body(
    core: SandboxCore, record: InteractionRecord, response_type: int, message: Message | None
) -> JsonObject:
    interaction: JsonObject = {"id": str(record.id), "type": int(record.kind)}
    resource: JsonObject = {"type": response_type}
    if message is not None:
        interaction["response_message_id"] = str(message.id)
        interaction["response_message_loading"] = message.loading
        interaction["response_message_ephemeral"] = message.ephemeral
        resource["message"] = core.payloads.message(message)
    return {"interaction": interaction, "resource": resource}


# --- webhook routes (interaction token) ------------------------------------------------------------------


def _record_for_webhook(core: SandboxCore, request: web.Request) -> InteractionRecord:
    record = core.state.interaction_by_token(request.match_info["webhook_token"])
    if record is None or record.application_id != snowflake(request, "webhook_id") or not record.responded:
        raise errors.unknown_webhook()
    if core.now() - record.created_at > core.settings.interaction_token_ttl_s:
        raise errors.invalid_webhook_token()
    return record


def _webhook_message(core: SandboxCore, request: web.Request, record: InteractionRecord) -> Message:
    raw = request.match_info["message_id"]
    if raw == "@original":
        message_id = record.original_message_id
    else:
        message_id = snowflake(request, "message_id")
        if message_id not in record.followup_ids and message_id != record.original_message_id:
            raise errors.unknown_message()
    message = core.state.messages.get(message_id) if message_id is not None else None
    if message is None:
        raise errors.unknown_message()
    return message


async def create_followup(request: web.Request) -> web.Response:
    """POST /webhooks/{application_id}/{token}: a followup (the first after a thinking defer fills it)."""
    core = core_of(request)
    record = _record_for_webhook(core, request)
    payload, uploads = await read_message_body(request)
    draft = parse_draft(payload, uploads)
    placeholder = core.state.messages.get(record.original_message_id) if record.original_message_id else None
    if placeholder is not None and placeholder.loading and not record.followup_ids:
        message = core.traffic.edit(placeholder, draft, editor_id=record.application_id, fill_placeholder=True)
    else:
        channel = core.state.channels[record.channel_id]
        message = core.traffic.post(
            channel, record.application_id, draft, interaction=record, message_type=_message_type(record)
        )
    record.followup_ids.append(message.id)
    if request.query.get("wait") in _TRUE:
        return json_response(core.payloads.message(message))
    return no_content()


async def get_webhook_message(request: web.Request) -> web.Response:
    """GET /webhooks/{application_id}/{token}/messages/{message_id|@original}."""
    core = core_of(request)
    message = _webhook_message(core, request, _record_for_webhook(core, request))
    return json_response(core.payloads.message(message))


async def edit_webhook_message(request: web.Request) -> web.Response:
    """PATCH /webhooks/{application_id}/{token}/messages/{message_id|@original}."""
    core = core_of(request)
    record = _record_for_webhook(core, request)
    message = _webhook_message(core, request, record)
    payload, uploads = await read_message_body(request)
    draft = parse_draft(payload, uploads)
    revised = core.traffic.edit(message, draft, editor_id=record.application_id, fill_placeholder=message.loading)
    return json_response(core.payloads.message(revised))


async def delete_webhook_message(request: web.Request) -> web.Response:
    """DELETE /webhooks/{application_id}/{token}/messages/{message_id|@original}."""
    core = core_of(request)
    record = _record_for_webhook(core, request)
    core.traffic.delete(_webhook_message(core, request, record), actor_id=record.application_id)
    return no_content()


def interaction_routes() -> list[web.RouteDef]:
    """Routes of this module."""
    webhook = API_PREFIX + "/webhooks/{webhook_id}/{webhook_token}"
    return [
        web.post(API_PREFIX + "/interactions/{interaction_id}/{interaction_token}/callback", interaction_callback),
        web.post(webhook, create_followup),
        web.get(webhook + "/messages/{message_id}", get_webhook_message),
        web.patch(webhook + "/messages/{message_id}", edit_webhook_message),
        web.delete(webhook + "/messages/{message_id}", delete_webhook_message),
    ]
