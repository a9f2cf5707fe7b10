import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import ENVELOPE_BY_EVENT_TYPE, PAYLOAD_BY_EVENT_TYPE, SOURCE_KINDS, describe, parse_envelope, personal_fields
from schemas.personal import public_view
from schemas.export import export_json_schemas
from schemas.identifiers import Identifiers
from tests.events import event, order


def reason(data: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_envelope(data)
    return describe(caught.value)


def test_a_valid_order_is_typed_and_normalised():
    e = parse_envelope(order("2025-01-10", 99.5, "o-1", email="Ann@Example.COM", phone="+86 138-0000-0001"))
    assert type(e).__name__ == "OrderPlacedEvent"
    assert e.properties.amount == 99.5 and e.properties.currency == "CNY"
    assert e.identifiers.email == "ann@example.com" and e.identifiers.phone == "+8613800000001"
    assert e.occurred_at.isoformat() == "2025-01-10T12:00:00+00:00"


def test_every_source_kind_has_event_types():
    kinds = {p.source_kind for p in PAYLOAD_BY_EVENT_TYPE.values()}
    assert kinds == set(SOURCE_KINDS)
    assert {"page_viewed", "order_placed", "order_refunded", "store_purchase_made", "commented", "ticket_opened", "ticket_escalated", "nps_answered", "csat_answered", "csi_answered", "feedback_given"} <= set(PAYLOAD_BY_EVENT_TYPE)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"properties": {"order_id": "o", "amount": "ten"}}, "properties.amount: Input should be a valid number"),
        ({"properties": {"order_id": "o", "amount": -1}}, "properties.amount: Input should be greater than or equal to 0"),
        ({"properties": {"amount": 1}}, "properties.order_id: Field required"),
        ({"source_kind": "website"}, "source_kind: Input should be 'sales'"),
        ({"event_type": "order_teleported"}, "unknown event type 'order_teleported'"),
        ({"occurred_at": "1970-01-01T00:00:00Z"}, "occurred_at: must be between 2000-01-01 and 2100-01-01"),
        ({"occurred_at": "yesterday"}, "occurred_at: Input should be a valid datetime"),
        ({"identifiers": {}}, "identifiers: at least one of anonymous_id, user_id, email, phone or social is required"),
        ({"identifiers": {"email": "not-an-email"}}, "identifiers.email: not an email address"),
        ({"identifiers": {"phone": "call me"}}, "identifiers.phone: not a phone number"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"source_name": "Robert'); DROP TABLE events;--"}, "source_name: String should match pattern"),
        ({"message_id": ""}, "message_id: String should have at least 1 character"),
    ],
)
def test_bad_input_names_the_field(change: dict, expected: str):
    data = order("2025-01-10", 10, "o-1", email="a@example.com") | change
    assert expected in reason(data)


def test_nps_score_range():
    assert "properties.score: Input should be less than or equal to 10" in reason(event("nps_answered", "2025-01-01", email="a@example.com", properties={"score": 11}))


def test_missing_event_type_is_named():
    assert reason({"message_id": "x"}) == "(event): event_type is required"


def test_custom_properties_are_kept():
    e = parse_envelope(event("page_viewed", "2025-01-01", anonymous_id="a", properties={"url": "https://x.example", "experiment": "B"}))
    assert e.properties.model_dump()["experiment"] == "B"


def test_personal_data_is_marked():
    assert set(personal_fields(Identifiers)) == {"email", "phone"}
    envelope = ENVELOPE_BY_EVENT_TYPE["commented"]
    assert {"traits", "context"} <= set(personal_fields(envelope))
    assert personal_fields(PAYLOAD_BY_EVENT_TYPE["commented"]) == ["text"]
    assert personal_fields(PAYLOAD_BY_EVENT_TYPE["nps_answered"]) == ["comment"]
    assert personal_fields(PAYLOAD_BY_EVENT_TYPE["aliased"]) == ["previous_id"]  # an identifier, sealed as the identifiers are
    assert personal_fields(PAYLOAD_BY_EVENT_TYPE["identifier_suppressed"]) == ["note"]


def test_json_schema_export(tmp_path: Path):
    written = export_json_schemas(tmp_path)
    assert len(written) == len(ENVELOPE_BY_EVENT_TYPE) + 1
    envelope = json.loads((tmp_path / "envelope.v1.json").read_text())
    assert len(envelope["oneOf"]) == len(ENVELOPE_BY_EVENT_TYPE)
    order_schema = json.loads((tmp_path / "order_placed.v1.json").read_text())
    assert order_schema["$defs"]["Identifiers"]["properties"]["email"]["x-personal-data"] is True


def test_json_schema_marks_personal_url_parts_and_undeclared_properties():
    page = ENVELOPE_BY_EVENT_TYPE["page_viewed"].model_json_schema()["$defs"]["PageViewed"]
    assert page["properties"]["url"]["x-personal-data"] == page["properties"]["path"]["x-personal-data"] == "query string, fragment"
    assert page["properties"]["referrer"]["x-personal-data"] == "path, query string, fragment"
    assert "x-personal-data" not in page["properties"]["title"] and page["additionalProperties"] == {"x-personal-data": True}
    order = ENVELOPE_BY_EVENT_TYPE["order_placed"].model_json_schema()["$defs"]
    assert order["OrderPlaced"]["additionalProperties"] == order["LineItem"]["additionalProperties"] == {"x-personal-data": True}


def test_public_view_leaves_out_or_hides_what_is_personal():
    page = {"url": "https://Shop.example.com/a/b?email=ann@example.com#x", "path": "/a/b#ann", "referrer": "http://mail.example.net/ann", "title": "B", "search": "ann"}
    assert public_view(PAYLOAD_BY_EVENT_TYPE["page_viewed"], page) == {"url": "https://Shop.example.com/a/b", "path": "/a/b", "referrer": "http://mail.example.net", "title": "B"}
    hidden = public_view(PAYLOAD_BY_EVENT_TYPE["page_viewed"], page, lambda v: "***")
    assert hidden == {"url": "https://Shop.example.com/a/b?***", "path": "/a/b#***", "referrer": "http://mail.example.net/***", "title": "B", "search": "***"}
    for odd in ("mailto:ann@example.com", "ann@example.com", "//mail.example.net/ann", "https://ann:pw@example.com/", "javascript:alert(1)"):
        assert public_view(PAYLOAD_BY_EVENT_TYPE["page_viewed"], {"url": odd}) == {"url": None}
        assert public_view(PAYLOAD_BY_EVENT_TYPE["page_viewed"], {"url": odd}, lambda v: "***") == {"url": "***"}
    order = {"order_id": "o1", "amount": 5.0, "note": "Ann", "items": [{"product_id": "p", "engraving": "ANN"}], "salesperson": "Bo"}
    assert public_view(PAYLOAD_BY_EVENT_TYPE["order_placed"], order) == {"order_id": "o1", "amount": 5.0, "items": [{"product_id": "p"}], "salesperson": "Bo"}
    assert public_view(PAYLOAD_BY_EVENT_TYPE["commented"], {"platform": "x", "text": "Ann"}) == {"platform": "x"}


def test_a_property_named_as_pydantics_include_wildcard_is_refused():
    # sealing names the undeclared properties in pydantic's include/exclude, where "__all__" means every field
    assert reason(event("order_placed", "2025-01-01", email="a@example.com", properties={"order_id": "o", "amount": 1, "__all__": "x"})) == (
        "properties: __all__: a reserved name, not accepted as a property name"
    )
    assert reason(event("order_placed", "2025-01-01", email="a@example.com", properties={"order_id": "o", "amount": 1, "items": [{"product_id": "p", "__all__": 1}]})).startswith(
        "properties.items[0]: __all__"
    )


def test_the_concrete_class_serializer_gives_the_envelope_unions_json():  # what sealing serialises with
    from datetime import UTC, datetime

    from cdp.workload import generate_events
    from ingestion.validation import validate
    from schemas import ENVELOPE_ADAPTER

    received = datetime(2026, 1, 1, tzinfo=UTC)
    for generated in generate_events(3000, seed=11, end=received.date()):  # the workload's period ends before it was received
        envelope = validate(generated, received)
        assert envelope.__pydantic_serializer__.to_json(envelope) == ENVELOPE_ADAPTER.dump_json(envelope)

