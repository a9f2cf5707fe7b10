"""Invalid segment definitions are refused with the offending path named."""

import pytest

from cdp.errors import SegmentInvalid
from cdp.segments.definition import read_definition
from cdp.segments.model import parse_segment


def nest(condition: dict, depth: int) -> dict:
    for _ in range(depth):
        condition = {"all": [condition]}
    return condition


@pytest.mark.parametrize(
    "where, message",
    [
        ({"all": [{"field": "revenue", "op": ">=", "value": "lots"}]}, "where.all[0].value: revenue >= takes a number"),
        ({"all": [{"field": "revnue", "op": ">=", "value": 5}]}, "where.all[0].field: unknown field 'revnue'"),
        ({"any": [{"field": "channels", "op": ">", "value": 5}]}, "where.any[0].op: channels (list) takes one of contains"),
        ({"not": {"wat": 1}}, "where.not: expected a condition"),
        ({"all": [{"not": {"event": "order_placd"}}]}, "where.all[0].not.event: unknown event type 'order_placd'"),
        ({"event": "order_placed", "within_days": 3, "between": ["2025-01-01", "2025-02-01"]}, "where.between: give within_days or between"),
        ({"event": "order_placed", "at_least": 3, "at_most": 2}, "where.at_most: at_most is below at_least"),
        ({"all": []}, "where.all: List should have at least 1 item"),
        ({"field": "last_seen", "op": "after", "value": "yesterday"}, "where.value: last_seen after takes a date or time"),
        ({"trait": "city", "op": "in", "value": "Shanghai"}, "where.value: trait city in takes a non-empty list of texts"),
        # what the warehouse would refuse (they were 500s): times it cannot hold, windows of no meaning, non-finite numbers
        ({"field": "first_seen", "op": "before", "value": "0999-01-01"}, "where.value: first_seen before: a time from 1900 to 2299"),
        ({"field": "first_seen", "op": "between", "value": ["0001-01-01", "9999-01-01"]}, "where.value: first_seen between: a time from 1900 to 2299"),
        ({"event": "order_placed", "between": ["0500-01-01", "2021-01-01"]}, "where.between: between: a time from 1900 to 2299"),
        ({"field": "first_seen", "op": "before", "value": "0001-01-01T00:00:00+14:00"}, "where.value: first_seen before: a time from 1900 to 2299"),
        ({"field": "first_seen", "op": "within_days", "value": 1e18}, "where.value: first_seen within_days takes a number of days above 0 and at most 36,500"),
        ({"field": "last_seen", "op": "not_within_days", "value": -1}, "where.value: last_seen not_within_days takes a number of days above 0"),
        ({"field": "revenue", "op": ">=", "value": float("inf")}, "where.value: revenue >= takes a number"),
        ({"field": "first_seen", "op": "within_days", "value": float("nan")}, "where.value: first_seen within_days takes a number"),
        ({"any": [{"field": "orders", "op": "=", "value": n} for n in range(101)]}, "where: 101 conditions; a segment has at most 100"),
        (nest({"tag": "x"}, 21), "where" + ".all[0]" * 21 + ": all, any and not are nested more than 20 deep here"),  # 200 deep failed ClickHouse's parser
        ({"event": "order_placed", "properties": {f"p{i}": 1 for i in range(51)}}, "where.properties: Dictionary should have at most 50 items"),
        ({"any": [{"event": "order_placed", "properties": {f"p{i}": i for i in range(50)}}] * 9}, "where: 450 event properties compared; a segment compares at most 400 in all"),  # over max_query_size
    ],
)
def test_invalid_definitions_name_the_path(where: dict, message: str):
    with pytest.raises(SegmentInvalid, match="^invalid segment: " + message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        parse_segment({"name": "s", "where": where})


def test_a_hundred_conditions_nested_anyhow_are_taken():
    nested = {"not": {"all": [{"any": [{"field": "orders", "op": "=", "value": n} for n in range(50)]}, *({"tag": "x"} for _ in range(50))]}}
    assert len(parse_segment({"name": "s", "where": nested}).where.not_.all) == 51


def test_yaml_and_json_files_read_alike(tmp_path):
    (tmp_path / "s.yaml").write_text("name: big\nwhere:\n  all:\n    - {field: revenue, op: '>=', value: 500}\n    - not: {tag: complainer}\n")
    (tmp_path / "s.json").write_text('{"name": "big", "where": {"all": [{"field": "revenue", "op": ">=", "value": 500}, {"not": {"tag": "complainer"}}]}}')
    assert read_definition(str(tmp_path / "s.yaml")) == read_definition(str(tmp_path / "s.json"))


def test_a_bad_name_and_an_unreadable_file_are_one_line_errors(tmp_path):
    with pytest.raises(SegmentInvalid, match="^invalid segment: name: String should match"):
        parse_segment({"name": "Big Spenders", "where": {"tag": "x"}})
    with pytest.raises(SegmentInvalid, match="No such file"):
        read_definition(str(tmp_path / "missing.yaml"))
