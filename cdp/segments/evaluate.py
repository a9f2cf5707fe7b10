"""Runs a segment on the warehouse: its size, its members, an export to CSV or Parquet."""

import csv
import io
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from cdp.errors import CdpError
from cdp.segments.compiler import Compiled, compile_segment
from cdp.segments.consent import ConsentScope
from cdp.segments.model import Segment
from cdp.spreadsheet import csv_cell
from cdp.warehouse import Warehouse
from projections.tables import profiles

MEMBER_COLUMNS = ["customer_id", "emails", "phones", "lifecycle_stage", "orders", "revenue", "last_seen"]
EXPORT_BATCH = 50_000
EXPORT_FORMATS = ("csv", "parquet")


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
        shown = ", ".join(repr(c[:100]) for c in unknown[:5])
        raise CdpError(f"columns: no profile column {shown}; known: {', '.join(profiles.TABLE.column_names)}")
    c = compiled(warehouse, segment, as_of, consent)
    return warehouse.query(c.members_sql(columns), {**c.params, "limit": limit, "offset": offset})


def members_among(warehouse: Warehouse, segment: Segment, customer_ids: Iterable[str]) -> set[str]:
    """Which of ``customer_ids`` are members now: the check a send makes for an action whose rule
    names a segment (``cdp.activation.dispatcher``, a trigger dry-run)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return set()
    c = compiled(warehouse, segment)
    rows = warehouse.query(f"{c.customers_sql()} AND p.customer_id IN {{among_ids:Array(String)}}", {**c.params, "among_ids": ids})
    return {row["customer_id"] for row in rows}


def export(
    warehouse: Warehouse,
    segment: Segment,
    target: Path | BinaryIO,
    fmt: str,
    consent: ConsentScope,
    columns: list[str] | None = None,
    shown: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> int:
    """Writes every member to ``target`` (a path, created only once the members are read, or a binary
    file) as ``csv`` or ``parquet``; returns how many. ``consent``: whose consent the export needs,
    read once for the whole export (``consent.scope_for``); ``shown``: how each row is written (masked)."""
    if fmt not in EXPORT_FORMATS:
        raise CdpError(f"format: expected csv or parquet, got {fmt[:20]!r}")
    as_of = data_as_of(warehouse)
    batches, offset = [], 0
    while True:
        rows = members(warehouse, segment, EXPORT_BATCH, offset, columns, as_of, consent)
        batches.append(rows)
        offset += len(rows)
        if len(rows) < EXPORT_BATCH:
            break
    rows = [shown(row) if shown else row for batch in batches for row in batch]
    names = columns or MEMBER_COLUMNS
    with target.open("wb") if isinstance(target, Path) else nullcontext(target) as handle:
        if fmt == "parquet":
            _write_parquet(rows, names, handle)
        else:
            _write_csv(rows, names, handle)
    return len(rows)


def _write_parquet(rows: list[dict[str, Any]], names: list[str], handle: BinaryIO) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {c.name: _arrow_type(pa, c.type) for c in profiles.TABLE.columns}
    times = {n for n, t in types.items() if pa.types.is_timestamp(t)}
    table = {n: pa.array([_timestamp(r[n]) if n in times else r[n] for r in rows], type=types[n]) for n in names}
    pq.write_table(pa.table(table), handle)


def _write_csv(rows: list[dict[str, Any]], names: list[str], handle: BinaryIO) -> None:
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(names)
    writer.writerows([csv_cell(row[n]) for n in names] for row in rows)
    text.flush()
    text.detach()  # the caller closes ``handle``




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
