"""Outbound messages: the platform's own record of contacting a customer (docs/activation.md).

Named ``outbound_message_*`` because ``message_sent`` was taken first: a social direct message from
the person to the brand (``social.py``), which the log already holds and must keep meaning that.

The dispatcher appends one of these for every outcome of an action, so a delivery appears on the
customer's timeline and in analytics (a purchase after a care message) like any touchpoint. Their
source kind is ``service``: a message the platform sends on the business's behalf is customer care,
like the erasure record (``privacy.py``), and keeps website and sales analytics free of the
platform's own acts. They are not interactions by the customer (``projections.profile``'s passive
event types): being sent a message keeps nobody active. Each message id is derived from the action
id, so recording an outcome twice (a dispatcher killed after sending) stores it once.
"""

from typing import Annotated, Literal

from pydantic import Field

from schemas.payloads.base import Code, Payload

ActionId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="The action's derived id (projections.actions.derive_action_id).")]
FailureReason = Literal["dead_letter", "permanent_error", "no_consent", "suppressed", "erased", "merged"]


class MessagePayload(Payload):
    source_kind = "service"
    action_id: ActionId
    rule: Annotated[str, Field(min_length=1, max_length=200, description="trigger:<name> or audience:<binding>.")]
    destination: Code
    channel: Code
    template: Annotated[str, Field(max_length=200)] = ""
    attempt: Annotated[int, Field(ge=0, le=1000)] = 0


class MessageSent(MessagePayload):
    """The destination accepted the message (an SMTP server took the email, a webhook answered 2xx)."""

    event_type = "outbound_message_sent"


class MessageDelivered(MessagePayload):
    """The destination confirmed it reached its recipient (a webhook's 2xx, a team chat's acceptance, a line written)."""

    event_type = "outbound_message_delivered"


class MessageFailed(MessagePayload):
    """The message was not sent, for good: skipped at send time (no consent, suppressed, erased) or
    given up on (merged into another customer, a permanent error, or the last attempt failed: a dead letter, replayable)."""

    event_type = "outbound_message_failed"
    reason: FailureReason
    detail: Annotated[str, Field(max_length=500)] = ""


PAYLOADS = (MessageSent, MessageDelivered, MessageFailed)
OUTBOUND_EVENT_TYPES = frozenset(p.event_type for p in PAYLOADS)
