"""Runs a segment on the warehouse: its size, its members, an export to CSV or Parquet."""

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdp.errors import CdpError
from cdp.segments.compiler import Compiled, compile_segment
from cdp.segments.consent import ConsentScope
from cdp.segments.model import Segment
from cdp.warehouse import Warehouse
from projections.tables import profiles

MEMBER_COLUMNS = ["customer_id", "emails", "phones", "lifecycle_stage", "orders", "revenue", "last_seen"]
EXPORT_BATCH = 50_000


def data_as_of(warehouse: Warehouse) -> datetime:
    """The latest event time the projections evaluated: what "within N days" counts back from by default."""
    rows = warehouse.query(f"SELECT toUnixTimestamp64Milli(max(as_of)) AS ms, count() AS n FROM `{warehouse.database}`.`{profiles.TABLE.name}`")
    return datetime.fromtimestamp(rows[0]["ms"] / 1000, UTC) if rows[0]["n"] else datetime.now(UTC)


def compiled(warehouse: Warehouse, segment: Segment, as_of: datetime | None = None, consent: ConsentScope | None = None) -> Compiled:
    return compile_segment(segment, warehouse.database, as_of or data_as_of(warehouse), consent)


def count(warehouse: Warehouse, segment: Segment, as_of: datetime | None = None, consent: ConsentScope | None = None) -> int:
    c = compiled(warehouse, segment, as_of, consent)
    return warehouse.query(c.count_sql(), c.params)[0]["customers"]


def members(
    warehouse: Warehouse, segment: Segment, limit: int = 100, offset: int = 0, columns: list[str] | None = None, as_of: datetime | None = None, consent: ConsentScope | None = None
) -> list[dict[str, Any]]:
    """A page of members; with ``consent.purpose``, only those contactable for it (see ``consent.scope_for``)."""
    columns = columns or MEMBER_COLUMNS
    unknown = sorted(set(columns) - set(profiles.TABLE.column_names))
    if unknown:
        raise CdpError(f"unknown profile column {', '.join(unknown)}; known: {', '.join(profiles.TABLE.column_names)}")
    c = compiled(warehouse, segment, as_of, consent)
    return warehouse.query(c.members_sql(columns), {**c.params, "limit": limit, "offset": offset})


def export(warehouse: Warehouse, segment: Segment, path: Path, fmt: str, consent: ConsentScope, columns: list[str] | None = None) -> int:
    """Writes every member to ``path`` as ``csv`` or ``parquet``; returns how many. ``consent``: whose
    consent the export needs, read once for the whole export (``consent.scope_for``)."""
    as_of = data_as_of(warehouse)
    batches, offset = [], 0
    while True:
        rows = members(warehouse, segment, EXPORT_BATCH, offset, columns, as_of, consent)
        batches.append(rows)
        offset += len(rows)
        if len(rows) < EXPORT_BATCH:
            break
    rows = [row for batch in batches for row in batch]
    names = columns or MEMBER_COLUMNS
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {c.name: _arrow_type(pa, c.type) for c in profiles.TABLE.columns}
        times = {n for n, t in types.items() if pa.types.is_timestamp(t)}
        table = {n: pa.array([_timestamp(r[n]) if n in times else r[n] for r in rows], type=types[n]) for n in names}
        pq.write_table(pa.table(table), path)
    elif fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            writer.writerows([";".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v) for v in row.values()] for row in rows)
    else:
        raise CdpError(f"export format: expected csv or parquet, got {fmt!r}")
    return len(rows)


def _arrow_type(pa, column_type: str):
    """The Parquet column type of a profile column (types the profiles table uses)."""
    inner = column_type.removeprefix("Nullable(").removeprefix("LowCardinality(")
    if inner.startswith("Array("):
        return pa.list_(_arrow_type(pa, inner[len("Array("):-1]))
    if inner.startswith("DateTime"):
        return pa.timestamp("ms", tz="UTC")
    if inner.startswith("Float"):
        return pa.float64()
    if inner.startswith(("UInt", "Int")):
        return pa.int64()
    return pa.string()


def _timestamp(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)
