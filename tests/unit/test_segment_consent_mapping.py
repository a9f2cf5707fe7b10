"""Segment's consent conventions become typed consent touchpoints."""

from datetime import UTC, datetime

import pytest

from ingestion.segment import Request, to_envelope
from ingestion.validation import Invalid, validate

NOW = datetime(2025, 5, 1, tzinfo=UTC)
REQUEST = Request(source_name="web", received_at=NOW)


def mapped(message: dict):
    return validate(to_envelope({"type": "track", "userId": "u1", "messageId": "m1", **message}, REQUEST), NOW)


def test_a_consent_preference_update_maps_known_categories_to_purposes():
    consent = {"consent": {"categoryPreferences": {"Analytics": True, "Advertising": False, "Functional": True, "C0004": True}}}
    e = mapped({"event": "Segment Consent Preference Updated", "context": consent})
    assert e.event_type == "consent_preferences_updated"
    assert e.properties.preferences == {"analytics": True, "third_party_sharing": False, "personalisation": True}
    assert e.context["consent"]["categoryPreferences"]["C0004"] is True  # unknown categories stay as sent


def test_an_update_with_no_known_category_stays_a_plain_track_event():
    e = mapped({"event": "Segment Consent Preference Updated", "context": {"consent": {"categoryPreferences": {"C0001": True}}}})
    assert (e.event_type, e.properties.name) == ("event_tracked", "Segment Consent Preference Updated")


def test_a_malformed_preference_is_a_precise_error():
    with pytest.raises(Invalid, match=r"properties.preferences.analytics: Input should be a valid boolean"):
        mapped({"event": "Segment Consent Preference Updated", "context": {"consent": {"categoryPreferences": {"Analytics": "maybe"}}}})


@pytest.mark.parametrize(("event", "reason"), [("Email Unsubscribed", "unsubscribe"), ("Email Bounced", "bounce"), ("Email Marked as Spam", "complaint")])
def test_email_events_suppress_for_email_marketing(event: str, reason: str):
    e = mapped({"event": event, "properties": {"email_id": "e-1"}, "context": {"traits": {"email": "ann@example.com"}}})
    assert (e.event_type, e.properties.purpose, e.properties.reason, e.identifiers.email) == ("identifier_suppressed", "email_marketing", reason, "ann@example.com")
