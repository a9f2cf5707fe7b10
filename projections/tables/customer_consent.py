"""``customer_consent``: each customer's consent decision in force per purpose."""

from projections.consent import Decision
from projections.tables.profiles import from_ms
from projections.tables.table import Column, customer_table

TABLE = customer_table(
    "customer_consent",
    "The latest consent decision per customer and purpose (docs/domain.md §13): the latest by event time wins, also across merged customers. "
    "A purpose without a row follows the configured default ([consent] defaults). For consent at a past time, or at an event's time, "
    "join consent_changes.",
    (
        Column("purpose", "LowCardinality(String)", "email_marketing, sms_marketing, phone_marketing, personalisation, analytics or third_party_sharing."),
        Column("granted", "UInt8", "1 when the latest decision gave consent, 0 when it withdrew it (an expired consent keeps 1; see expires_at)."),
        Column("decided_at", "DateTime64(3, 'UTC')", "When the decision was made (event time)."),
        Column("cause", "LowCardinality(String)", "The deciding event type: consent_given, consent_withdrawn or consent_preferences_updated."),
        Column("position", "UInt64", "Event-log position of the deciding event."),
        Column("source_kind", "LowCardinality(String)", "Source kind that captured it: website, social, sales, service or survey."),
        Column("source_name", "LowCardinality(String)", "Configured source that captured it."),
        Column("channel", "LowCardinality(String)", "Where it was captured (signup_form, cookie_banner, call_centre, ...), empty if not given."),
        Column("legal_basis", "LowCardinality(String)", "GDPR Art. 6 basis given with a consent (consent, contract, legitimate_interests, ...); empty for a withdrawal."),
        Column("wording_version", "String", "Version of the consent text shown, empty if not given."),
        Column("expires_at", "Nullable(DateTime64(3, 'UTC'))", "When the consent lapses unless renewed; empty if it does not."),
    ),
    key=("purpose",),
)


def row(customer_id: str, d: Decision) -> dict:
    return {
        "customer_id": customer_id,
        "purpose": d.purpose,
        "granted": int(d.granted),
        "decided_at": from_ms(d.ms),
        "cause": d.cause,
        "position": d.position,
        "source_kind": d.source_kind,
        "source_name": d.source_name,
        "channel": d.channel,
        "legal_basis": d.legal_basis,
        "wording_version": d.wording_version,
        "expires_at": from_ms(d.expires_ms),
    }
