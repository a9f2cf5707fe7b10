import pytest
from pydantic import ValidationError

from schemas import SOURCE_KINDS, describe, parse_envelope
from schemas.payloads.consent import PURPOSES
from tests.events import event


def reason(data: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_envelope(data)
    return describe(caught.value)


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_consent_is_accepted_from_every_source_kind(kind: str):
    e = parse_envelope(event("consent_given", "2025-01-01", email="a@example.com", properties={"purpose": "email_marketing", "channel": "signup_form"}) | {"source_kind": kind})
    assert e.source_kind == kind and e.properties.purpose == "email_marketing" and e.properties.legal_basis == "consent"


def test_optional_details_are_typed():
    props = {"purpose": "sms_marketing", "legal_basis": "contract", "wording_version": "v3", "expires_at": "2026-01-01T00:00:00Z"}
    e = parse_envelope(event("consent_given", "2025-01-01", phone="+8613800000001", properties=props))
    assert e.properties.expires_at.year == 2026 and e.properties.wording_version == "v3"


@pytest.mark.parametrize(
    ("event_type", "properties", "expected"),
    [
        ("consent_given", {"purpose": "telepathy"}, "properties.purpose: Input should be 'email_marketing', 'sms_marketing'"),
        ("consent_given", {}, "properties.purpose: Field required"),
        ("consent_withdrawn", {"purpose": 3}, "properties.purpose: Input should be"),
        ("consent_given", {"purpose": "analytics", "legal_basis": "because"}, "properties.legal_basis: Input should be 'consent'"),
        ("consent_given", {"purpose": "analytics", "expires_at": "2026-01-01T00:00:00"}, "properties.expires_at: Input should have timezone info"),
        ("consent_preferences_updated", {"preferences": {}}, "properties.preferences: Dictionary should have at least 1 item"),
        ("consent_preferences_updated", {"preferences": {"spam": True}}, "properties.preferences.spam.[key]: Input should be 'email_marketing'"),
        ("identifier_suppressed", {"purpose": "all"}, "properties.reason: Field required"),
        ("identifier_suppressed", {"purpose": "everything", "reason": "bounce"}, "properties.purpose: Input should be 'email_marketing'"),
    ],
)
def test_bad_consent_events_name_the_field(event_type: str, properties: dict, expected: str):
    assert expected in reason(event(event_type, "2025-01-01", email="a@example.com", properties=properties))


def test_source_kind_must_still_be_a_known_one():
    data = event("consent_withdrawn", "2025-01-01", email="a@example.com", properties={"purpose": "analytics"}) | {"source_kind": "carrier_pigeon"}
    assert "source_kind: Input should be 'website', 'social', 'sales', 'service' or 'survey'" in reason(data)


def test_purposes_are_declared_once():
    assert PURPOSES == ("email_marketing", "sms_marketing", "phone_marketing", "personalisation", "analytics", "third_party_sharing")
