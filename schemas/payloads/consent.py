"""Consent and suppression touchpoints (docs/domain.md §13; GDPR, PIPL).

A customer gives or withdraws consent per purpose; an identifier (email, phone, user id) is
suppressed for a purpose, or for ``all``, after an unsubscribe, a bounce, a complaint, or by an
operator. Any source kind may send them: a website banner or form, a survey, a sales CRM, a
service desk. The purposes are a closed set, declared here once.
"""

from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, Field

from schemas.payloads.base import SOURCE_KINDS, Code, Payload
from schemas.personal import Personal

Purpose = Literal["email_marketing", "sms_marketing", "phone_marketing", "personalisation", "analytics", "third_party_sharing"]
PURPOSES: tuple[str, ...] = get_args(Purpose)
ALL_PURPOSES = "all"
SuppressionPurpose = Literal[Purpose, "all"]
LegalBasis = Literal["consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"]
SuppressionReason = Literal["unsubscribe", "bounce", "complaint", "operator"]
SUPPRESSED_IDENTIFIERS = ("user_id", "email", "phone")  # the identifiers a suppression event covers


class ConsentPayload(Payload):
    source_kind = "website"  # the usual home (a banner or form); ``source_kinds`` accepts them all
    source_kinds = SOURCE_KINDS
    channel: Code | None = Field(default=None, description="Where it was captured, e.g. signup_form, cookie_banner, checkout, call_centre, in_store.")
    wording_version: Code | None = Field(default=None, description="Version of the consent text the customer saw.")


class ConsentGiven(ConsentPayload):
    """The customer agreed to ``purpose``; in force from ``occurred_at`` until withdrawn or ``expires_at``."""

    event_type = "consent_given"
    purpose: Purpose
    legal_basis: LegalBasis = "consent"
    expires_at: AwareDatetime | None = Field(default=None, description="When this consent lapses unless renewed (UTC).")


class ConsentWithdrawn(ConsentPayload):
    """The customer withdrew consent to ``purpose``, from ``occurred_at`` on."""

    event_type = "consent_withdrawn"
    purpose: Purpose


class ConsentPreferencesUpdated(ConsentPayload):
    """Several purposes at once, as a consent manager sends them (purpose → given)."""

    event_type = "consent_preferences_updated"
    preferences: Annotated[dict[Purpose, bool], Field(min_length=1)]


class SuppressionPayload(Payload):
    source_kind = "website"
    source_kinds = SOURCE_KINDS
    purpose: SuppressionPurpose
    note: Personal[Annotated[str, Field(max_length=1000)] | None] = None


class IdentifierSuppressed(SuppressionPayload):
    """The event's email, phone and user id must not be contacted or exported for ``purpose``."""

    event_type = "identifier_suppressed"
    reason: SuppressionReason


class IdentifierUnsuppressed(SuppressionPayload):
    """Lifts an earlier suppression of the event's identifiers for ``purpose``."""

    event_type = "identifier_unsuppressed"
    reason: SuppressionReason = "operator"


PAYLOADS = (ConsentGiven, ConsentWithdrawn, ConsentPreferencesUpdated, IdentifierSuppressed, IdentifierUnsuppressed)
CONSENT_EVENT_TYPES = frozenset(p.event_type for p in PAYLOADS)
