"""The builder's form as a segment definition (checked by the real parser), and the service's
problems placed on the rows they name."""

from cdp.console.builder import Builder, Row, definition, from_form, normalise, place_errors
from cdp.errors import SegmentInvalid
from cdp.segments.fields import FIELDS
from cdp.segments.model import parse_segment

KINDS = {name: f.kind for name, f in FIELDS.items()}


def form(*rows: tuple[str, str, str], **extra: str) -> dict[str, str]:
    sent = {"rows": str(len(rows)), **extra}
    for i, (field, op, value) in enumerate(rows):
        sent |= {f"field-{i}": field, f"op-{i}": op, f"value-{i}": value}
    return sent


def test_every_kind_of_row_becomes_a_condition_the_parser_takes():
    sent = form(("revenue", "between", "100, 500"), ("tier", "in", "vip, super"), ("tag", "has", "promoter"), ("event", "within_days", "order_placed 30"),
                ("event", "at_least", "page_viewed 3"), ("consent", "not_granted", "email_marketing"), ("last_seen", "is_empty", "x"), ("orders", ">=", "2"),
                combine="any", name="mixed")
    sent["not-7"] = "on"
    drafted = definition(from_form(sent), KINDS)
    assert drafted["where"]["any"] == [
        {"field": "revenue", "op": "between", "value": [100, 500]}, {"field": "tier", "op": "in", "value": ["vip", "super"]}, {"tag": "promoter"},
        {"event": "order_placed", "within_days": 30}, {"event": "page_viewed", "at_least": 3}, {"consent": "email_marketing", "granted": False},
        {"field": "last_seen", "op": "is_empty"}, {"not": {"field": "orders", "op": ">=", "value": 2}},
    ]
    assert parse_segment(drafted).name == "mixed"


def test_rows_are_added_and_removed_and_a_changed_field_gets_its_own_operator():
    added = from_form(form(("revenue", ">=", "1"), action="add"))
    assert [r.field for r in added.rows] == ["revenue", "lifecycle_stage"]
    removed = from_form(form(("revenue", ">=", "1"), ("tier", "=", "vip"), action="remove:0"))
    assert [(r.field, r.value) for r in removed.rows] == [("tier", "vip")]
    assert len(from_form(form(("revenue", ">=", "1"), action="remove:0")).rows) == 1  # the last row stays
    changed = Builder(rows=[Row("last_seen", ">=", "")])
    normalise(changed, {"last_seen": ["before", "after"], "revenue": [">="]})
    assert changed.rows[0].op == "before"


def test_each_problem_goes_next_to_its_row():
    builder = from_form(form(("revenue", ">=", "lots"), ("tier", "=", "VIP"), name="Bad"))
    try:
        parse_segment(definition(builder, KINDS))
    except SegmentInvalid as refusal:
        place_errors(builder, str(refusal))
    assert builder.rows[0].error.startswith("where.all[0].value: revenue >= takes a number")
    assert builder.rows[1].error == "" and builder.error.startswith("name:")
    place_errors(builder, "invalid segment: where.all[1].value: tier has no value 'VIP'; did you mean 'vip'?")
    assert "did you mean 'vip'" in builder.rows[1].error
