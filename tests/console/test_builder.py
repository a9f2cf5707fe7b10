"""The builder's form as a segment definition (checked by the real parser), and the service's
problems placed on the rows they name."""

from pathlib import Path

from cdp.config import load_settings
from cdp.console.builder import Builder, Row, definition, from_form, normalise, place_errors
from cdp.console.i18n import Translator
from cdp.errors import CdpError, SegmentInvalid
from cdp.segments.fields import FIELDS
from cdp.segments.model import parse_segment
from cdp.segments.values import check_values, known_values

KINDS = {name: f.kind for name, f in FIELDS.items()}


def form(*rows: tuple[str, str, str], **extra: str) -> dict[str, str]:
    sent = {"rows": str(len(rows)), **extra}
    for i, (field, op, value) in enumerate(rows):
        sent |= {f"field-{i}": field, f"op-{i}": op, f"value-{i}": value}
    return sent


def test_every_kind_of_row_becomes_a_condition_the_parser_takes():
    sent = form(("revenue", "between", "100, 500"), ("tier", "in", "vip, super"), ("tag", "has", "promoter"), ("event", "within_days", "order_placed 30"),
                ("event", "at_least", "page_viewed 3"), ("consent", "not_granted", "email_marketing"), ("last_seen", "is_empty", "x"), ("orders", ">=", "2"),
                ("segment", "member", " big "), combine="any", name="mixed")
    sent["not-7"] = "on"
    drafted = definition(from_form(sent), KINDS)
    assert drafted["where"]["any"] == [
        {"field": "revenue", "op": "between", "value": [100, 500]}, {"field": "tier", "op": "in", "value": ["vip", "super"]}, {"tag": "promoter"},
        {"event": "order_placed", "within_days": 30}, {"event": "page_viewed", "at_least": 3}, {"consent": "email_marketing", "granted": False},
        {"field": "last_seen", "op": "is_empty"}, {"not": {"field": "orders", "op": ">=", "value": 2}}, {"segment": "big"},
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


def refused(builder: Builder) -> SegmentInvalid:
    try:
        check_values(parse_segment(definition(builder, KINDS)), known_values(load_settings(data_dir=Path("/nonexistent"))))
    except SegmentInvalid as refusal:
        return refusal
    raise AssertionError("the definition passed")


def test_each_problem_goes_next_to_its_row():
    builder = from_form(form(("revenue", ">=", "lots"), ("tier", "=", "VIP"), name="Bad"))
    place_errors(builder, refused(builder), Translator("en").problem)
    assert builder.rows[0].error == "where.all[0].value: revenue >= takes a number"
    assert builder.rows[1].error == "" and builder.error.startswith("name: lower-case letters")
    place_errors(builder, CdpError("invalid segment: where.all[1].value: tier has no value 'VIP'; did you mean 'vip'?"), Translator("en").problem)
    assert "did you mean 'vip'" in builder.rows[1].error  # a refusal without problems: its message split


def test_each_problem_in_chinese_names_its_field_and_the_values_meant():
    builder = from_form(form(("revenue", ">=", "lots"), ("tier", "=", "VIP")))
    place_errors(builder, refused(builder), Translator("zh-CN").problem)
    assert builder.rows[0].error == "where.all[0].value: revenue >= 需要一个数字"
    builder = from_form(form(("revenue", ">=", "5"), ("tier", "=", "VIP")))
    refusal = refused(builder)
    assert str(refusal).startswith("invalid segment: where.all[1].value: tier has no value 'VIP'; did you mean 'vip'? (known: ")  # the CLI's and API's words
    place_errors(builder, refusal, Translator("zh-CN").problem)
    assert builder.rows[1].error.startswith("where.all[1].value: tier 没有值“VIP”；您是不是要找 'vip'？（可用：")
