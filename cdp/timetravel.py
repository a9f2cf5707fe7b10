"""`cdp profile ID --as-of DATE`: a customer as they stood on a past date.

The customer's own events (including those of customers later merged into them) that had
occurred by then are read back from the warehouse's ``events`` table and replayed through the
pure projections, evaluated as of the end of that day. Identity is re-resolved on those events
alone, so identifiers another customer held are not contested.
"""

from datetime import UTC, datetime, time

import orjson

from cdp.errors import CdpError
from cdp.customers import Customers
from cdp.queries import customer_events
from cdp.warehouse import Warehouse
from projections.pipeline import Pipeline, Rules
from projections.replay import Replay
from projections.touchpoint import Touchpoint


def end_of_day(day: str) -> datetime:
    try:
        date = datetime.fromisoformat(day)
    except ValueError:
        raise CdpError(f"--as-of: expected a date like 2025-10-31, got {day!r}") from None
    if len(day) <= 10:
        date = datetime.combine(date.date(), time.max)
    return date.replace(tzinfo=date.tzinfo or UTC)


def touchpoints(warehouse: Warehouse, customers: list[str], until: datetime | None = None) -> list[Touchpoint]:
    """The customers' events back as touchpoints, in log order (those that occurred by ``until``)."""
    by = {"until": until.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]} if until else {}
    rows = customer_events(warehouse, customers, "*", "occurred_at <= {until:DateTime64(3, 'UTC')}" if until else "TRUE", by)
    return [Touchpoint(row["position"], _envelope(row)) for row in rows]


def profile_as_of(warehouse: Warehouse, customer_id: str, day: str, rules: Rules) -> list[dict]:
    """Every customer the replay gives (usually one): its profile row and its rows in the other tables."""
    until = end_of_day(day)
    tps = touchpoints(warehouse, Customers(warehouse).merged_into(customer_id), until)
    if not tps:
        return []
    as_of = int(until.timestamp() * 1000)
    tables = Replay(Pipeline(rules)).run(tps, len(tps), as_of=as_of).tables(("version", "is_deleted"))
    result = []
    for profile in tables["profiles"]:
        cid = profile["customer_id"]
        extra = {name: [r for r in rows if r.get("customer_id") == cid] for name, rows in tables.items() if name not in ("profiles", "events", "identities")}
        result.append({**profile, **{name: rows for name, rows in extra.items() if rows}})
    return result


def _envelope(row: dict) -> dict:
    ids = {k: row[k] for k in ("anonymous_id", "user_id", "email", "phone", "account_id") if row[k]}
    if row["social"]:
        ids["social"] = [dict(zip(("platform", "handle"), s.split(":", 1), strict=True)) for s in row["social"]]
    return {
        "message_id": row["message_id"],
        "event_type": row["event_type"],
        "source_kind": row["source_kind"],
        "source_name": row["source_name"],
        "occurred_at": _iso(row["occurred_at"]),
        "received_at": _iso(row["received_at"]),
        "identifiers": ids,
        "traits": orjson.loads(row["traits"]),
        "properties": orjson.loads(row["properties"]),
        "context": orjson.loads(row["context"]),
    }


def _iso(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


