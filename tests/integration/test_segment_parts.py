"""Segment answers do not depend on how the warehouse's parts are merged (migration 13 merges them in the
background), and the trait text search gives the answers the JSON alone gives. Over
superseded versions, tombstones of merged customers and events of customers merged away."""


import orjson
import pytest

from cdp.segments import evaluate
from cdp.segments.model import parse_segment
from cdp.warehouse.migrations import FORCE_MERGE_AFTER_SECONDS
from projections.tables import customer_tags, customer_value
from projections.tables.table import blank_row
from tests.integration.test_segment_evaluation import AS_OF, count_and_members, event, profile

CITIES = ["Shanghai", "Zürich", 'say "hi"', "back\\slash", "", "Shang"]
STAGES = ["new", "repeat", "loyal", "at_risk", "churned"]
STATE_TABLES = ("profiles", "customer_tags", "customer_value")
SEGMENTS = [
    {"field": "lifecycle_stage", "op": "=", "value": "loyal"},
    {"all": [{"field": "revenue", "op": ">", "value": 300}, {"not": {"field": "lifecycle_stage", "op": "=", "value": "churned"}}]},
    *({"trait": "city", "op": "=", "value": city} for city in CITIES),
    {"not": {"trait": "city", "op": "=", "value": "Shanghai"}},
    {"trait": "city", "op": "!=", "value": "Zürich"},
    {"trait": "city", "op": "in", "value": ["Shanghai", 'say "hi"']},
    {"tag": "promoter"},
    {"not": {"tag": "promoter"}},
    {"all": [{"tag": "promoter"}, {"field": "tier", "op": "=", "value": "vip"}]},
    {"field": "tier", "op": "!=", "value": "vip"},
    {"event": "order_placed", "within_days": 30},
    {"all": [{"event": "order_placed", "at_least": 2}, {"not": {"field": "lifecycle_stage", "op": "=", "value": "churned"}}]},
]


def version(n: int, v: int) -> dict:
    """Customer ``n`` as of version ``v``: every field moves between versions, so a stale row answers differently."""
    k = n + v
    return profile(
        f"c{n:02d}", version=v, lifecycle_stage=STAGES[k % 5], revenue=float(k * 37 % 700), orders=k % 4,
        traits=orjson.dumps({"city": CITIES[k % len(CITIES)], "note": CITIES[(k + 1) % len(CITIES)]}).decode(),
    )


@pytest.fixture(scope="module")
def warehouse(any_warehouse):
    w = any_warehouse
    for table in STATE_TABLES:
        w.execute(f"SYSTEM STOP MERGES `{w.database}`.`{table}`")
    for v in (1, 2, 3):  # one insert (one part) per version; a third of the customers change at each
        w.insert("profiles", [version(n, v) for n in range(40) if v == 1 or n % 3 == v - 2])
        w.insert("customer_tags", [blank_row(customer_tags.TABLE) | {"customer_id": f"c{n:02d}", "tags": ["promoter"] if (n + v) % 2 else ["valid"], "version": v} for n in range(0, 40, v)])
        w.insert("customer_value", [blank_row(customer_value.TABLE) | {"customer_id": f"c{n:02d}", "tier": "vip" if (n + v) % 3 == 0 else "regular", "version": v} for n in range(0, 40, v)])
    merged = {f"c{n:02d}": f"c{n + 1:02d}" for n in range(30, 40, 3)}  # c30 → c31, c33 → c34, ...
    w.insert("profiles", [profile(a, version=9, is_deleted=1, merged_into=s) for a, s in merged.items()])
    w.insert("customer_tags", [blank_row(customer_tags.TABLE) | {"customer_id": a, "version": 9, "is_deleted": 1} for a in merged])
    w.insert("customer_merges", [{"absorbed": a, "survivor": s, "position": 900 + i, "occurred_at": AS_OF, "reason": "same email"} for i, (a, s) in enumerate(merged.items())])
    w.insert("events", [event(i + 1, f"c{i % 40:02d}", "order_placed", (i * 7) % 60) for i in range(120)])
    return w


def answers(warehouse) -> list[tuple[int, list[str]]]:
    return [count_and_members(warehouse, where) for where in SEGMENTS]


def parts(warehouse, table: str) -> int:
    return warehouse.query("SELECT count() AS n FROM system.parts WHERE active AND database = {db:String} AND table = {t:String}", {"db": warehouse.database, "t": table})[0]["n"]


def test_answers_are_the_same_before_and_after_the_parts_merge(warehouse):
    assert parts(warehouse, "profiles") == 4
    before = answers(warehouse)
    for table in STATE_TABLES:
        warehouse.execute(f"SYSTEM START MERGES `{warehouse.database}`.`{table}`")
        warehouse.execute(f"OPTIMIZE TABLE `{warehouse.database}`.`{table}` FINAL")
    assert [parts(warehouse, t) for t in STATE_TABLES] == [1, 1, 1]
    assert answers(warehouse) == before
    assert all(count == len(ids) for count, ids in before) and len({tuple(ids) for _, ids in before}) > 10  # the segments tell customers apart


def test_trait_equality_matches_only_the_current_value(warehouse):
    """Each city is some customers' current value and others' old value or ``note``: the text search finds those too, the JSON decides."""
    current = {f"c{n:02d}": orjson.loads(version(n, max([1] + [v for v in (2, 3) if n % 3 == v - 2]))["traits"])["city"] for n in range(40)}
    gone = {f"c{n:02d}" for n in range(30, 40, 3)}
    for city in CITIES:
        segment = parse_segment({"name": "s", "where": {"trait": "city", "op": "=", "value": city}})
        rows = evaluate.members(warehouse, segment, limit=1000, columns=["customer_id"], as_of=AS_OF)
        assert [r["customer_id"] for r in rows] == sorted(c for c, v in current.items() if v == city and c not in gone), city


def test_migration_13_makes_the_current_state_tables_merge_by_age(warehouse):
    ddl = warehouse.query("SELECT name, create_table_query AS q FROM system.tables WHERE database = {db:String}", {"db": warehouse.database})
    forced = sorted(r["name"] for r in ddl if f"min_age_to_force_merge_seconds = {FORCE_MERGE_AFTER_SECONDS}" in r["q"])
    assert forced == sorted(["profiles", "customer_traits", "customer_tags", "customer_value", "customer_satisfaction", "customer_service", "churn_risk", "customer_loyalty"])
