"""Segments compiled to SQL and run on both warehouse backends, on hand-made customers."""

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cdp.segments import evaluate
from cdp.segments.compiler import compile_segment
from cdp.segments.consent import ConsentScope
from cdp.segments.model import parse_segment
from projections.tables import customer_tags, customer_value, profiles
from projections.tables.table import blank_row
from tests.integration.wh_contract import event_row

AS_OF = datetime(2025, 10, 31, tzinfo=UTC)


def profile(customer_id: str, **fields) -> dict:
    return blank_row(profiles.TABLE) | {"customer_id": customer_id, "version": 1, "as_of": AS_OF} | fields


def event(position: int, customer: str, event_type: str, days_ago: float) -> dict:
    return event_row(position, event_type, customer=customer) | {"occurred_at": AS_OF - timedelta(days=days_ago)}


@pytest.fixture(scope="module")
def warehouse(any_warehouse):
    w = any_warehouse
    w.insert("profiles", [
        profile("c1", lifecycle_stage="at_risk", revenue=600.0, orders=2, channels=["website", "social"], traits='{"city": "Shanghai", "age": 34}', emails=["a@x.cn"]),
        profile("c2", lifecycle_stage="loyal", revenue=100.0, orders=5, channels=["website"], traits='{"city": "Beijing"}'),
        profile("c3", lifecycle_stage="churned", revenue=900.0, orders=1, channels=["sales"], traits="{}"),
        profile("c9", version=2, is_deleted=1, merged_into="c3"),
    ])
    w.insert("customer_tags", [blank_row(customer_tags.TABLE) | {"customer_id": "c1", "tags": ["promoter", "valid"], "version": 1}])
    w.insert("customer_value", [blank_row(customer_value.TABLE) | {"customer_id": "c1", "tier": "vip", "clv": 1200.0, "version": 1}])
    w.insert("customer_merges", [{"absorbed": "c9", "survivor": "c3", "position": 5, "occurred_at": AS_OF, "reason": "same email"}])
    w.insert("events", [event(1, "c1", "order_placed", 10), event(2, "c1", "order_placed", 100), event(3, "c2", "page_viewed", 5), event(4, "c9", "order_placed", 3)])
    w.insert("events", [  # properties of every JSON type: true, "true", 5, 5.0, "5"
        event(6, "c1", "product_viewed", 1) | {"properties": '{"gift": true, "size": 5}'},
        event(7, "c2", "product_viewed", 1) | {"properties": '{"gift": "true", "size": 5.0}'},
        event(8, "c3", "product_viewed", 1) | {"properties": '{"gift": false, "size": "5"}'},
    ])
    return w


def count_and_members(warehouse, where: dict) -> tuple[int, list[str]]:
    """A segment's count and (up to 1,000) member ids, as of ``AS_OF``."""
    segment = parse_segment({"name": "s", "where": where})
    rows = evaluate.members(warehouse, segment, limit=1000, columns=["customer_id"], as_of=AS_OF)
    return evaluate.count(warehouse, segment, as_of=AS_OF), [r["customer_id"] for r in rows]


def members(warehouse, where: dict) -> list[str]:
    segment = parse_segment({"name": "s", "where": where})
    rows = evaluate.members(warehouse, segment, columns=["customer_id"], as_of=AS_OF)
    assert evaluate.count(warehouse, segment, as_of=AS_OF) == len(rows)
    return [r["customer_id"] for r in rows]


@pytest.mark.parametrize(
    "where, expected",
    [
        ({"field": "revenue", "op": ">=", "value": 500}, ["c1", "c3"]),
        ({"field": "revenue", "op": "between", "value": [100, 600]}, ["c1", "c2"]),
        ({"field": "lifecycle_stage", "op": "in", "value": ["loyal", "churned"]}, ["c2", "c3"]),
        ({"trait": "city", "op": "=", "value": "Shanghai"}, ["c1"]),
        ({"trait": "age", "op": ">", "value": 30}, ["c1"]),
        ({"trait": "city", "op": "exists"}, ["c1", "c2"]),
        ({"tag": "promoter"}, ["c1"]),
        ({"not": {"tag": "promoter"}}, ["c2", "c3"]),
        ({"field": "tier", "op": "=", "value": "vip"}, ["c1"]),
        ({"any": [{"field": "channels", "op": "contains", "value": "social"}, {"field": "lifecycle_stage", "op": "=", "value": "loyal"}]}, ["c1", "c2"]),
        ({"all": [{"field": "channels", "op": "contains_any", "value": ["website"]}, {"field": "orders", "op": ">", "value": 2}]}, ["c2"]),
        ({"event": "order_placed", "within_days": 30}, ["c1", "c3"]),  # c3 through the customer merged into it
        ({"event": "order_placed", "within_days": 30, "at_least": 2}, []),
        ({"event": "order_placed", "at_least": 2}, ["c1"]),
        ({"event": "order_placed", "between": ["2025-07-01", "2025-08-01"]}, ["c1"]),
        ({"not": {"event": "order_placed", "within_days": 30}}, ["c2"]),
        ({"event": "order_placed", "properties": {"currency": "CNY"}}, ["c1", "c3"]),
        ({"event": "order_placed", "properties": {"currency": "USD"}}, []),
        # properties compare by JSON type: true is not "true", 5 is 5.0 but not "5"
        ({"event": "product_viewed", "properties": {"gift": True}}, ["c1"]),
        ({"event": "product_viewed", "properties": {"gift": "true"}}, ["c2"]),
        ({"event": "product_viewed", "properties": {"gift": False}}, ["c3"]),
        ({"event": "product_viewed", "properties": {"size": 5}}, ["c1", "c2"]),
        ({"event": "product_viewed", "properties": {"size": 5.0}}, ["c1", "c2"]),
        ({"event": "product_viewed", "properties": {"size": "5"}}, ["c3"]),
    ],
)
def test_segment_members(warehouse, where: dict, expected: list[str]):
    assert members(warehouse, where) == expected


def test_values_travel_as_parameters_never_in_the_sql(warehouse):
    hostile = "x') OR 1=1 OR ('"
    segment = parse_segment({"name": "s", "where": {"any": [{"trait": hostile, "op": "=", "value": hostile}, {"field": "lifecycle_stage", "op": "=", "value": hostile}]}})
    compiled = compile_segment(segment, warehouse.database, AS_OF)
    assert hostile not in compiled.where_sql and hostile in compiled.params.values()
    assert evaluate.count(warehouse, segment, as_of=AS_OF) == 0


def test_export_writes_csv_and_parquet(warehouse, tmp_path: Path):
    segment = parse_segment({"name": "s", "where": {"field": "revenue", "op": ">", "value": 0}})
    assert evaluate.export(warehouse, segment, tmp_path / "s.csv", "csv", ConsentScope()) == 3
    with (tmp_path / "s.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["customer_id"] for r in rows] == ["c1", "c2", "c3"] and rows[0]["emails"] == "a@x.cn"
    assert evaluate.export(warehouse, segment, tmp_path / "s.parquet", "parquet", ConsentScope(), ["customer_id", "revenue", "last_seen"]) == 3
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.column("revenue").to_pylist() == [600.0, 100.0, 900.0]
    assert str(table.schema.field("last_seen").type) == "timestamp[ms, tz=UTC]"


def test_within_days_counts_back_from_the_data_not_the_wall_clock(warehouse):
    assert evaluate.data_as_of(warehouse) == AS_OF
