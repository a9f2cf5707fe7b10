"""The projections over a list of events, in memory: the pure core of a runner.

Used for time travel (a customer's events replayed up to a date), for the property tests (rebuild
= incremental processing) and for benchmarks. State goes through its stored form between batches
(``projections.state_codec``), exactly as the runner's state store keeps it. ``Replay.tables`` is what a warehouse shows when read with
FINAL: per table, the row with the highest version per key, retracted rows dropped.
"""

from dataclasses import dataclass, field

import orjson

from projections import state_codec
from projections.actions import Action
from projections.identity import CustomerIdentity, IdentityGraph, resolve
from projections.pipeline import Pipeline
from projections.tables import WAREHOUSE_TABLES, Table
from projections.touchpoint import Touchpoint

ALL_TABLES: dict[str, Table] = {t.name: t for t in WAREHOUSE_TABLES}


@dataclass
class Replay:
    pipeline: Pipeline
    index: dict[str, str] = field(default_factory=dict)
    customers: dict[str, list] = field(default_factory=dict)  # customer → [created at position, keys]
    profiles: dict[str, bytes] = field(default_factory=dict)  # customer → state as JSON
    checks: dict[str, int] = field(default_factory=dict)
    watermark: int = 0
    stored: dict[str, dict[tuple, dict]] = field(default_factory=dict)  # table → key → row
    keep_rows: bool = True  # False: only state and actions are kept (a trigger dry-run)
    actions: list[Action] = field(default_factory=list)  # every batch's, in order

    def run(self, touchpoints: list[Touchpoint], batch_size: int, as_of: int | None = None) -> "Replay":
        """Processes ``touchpoints`` in batches; ``as_of`` fixes the evaluation time (time travel)."""
        for start in range(0, len(touchpoints), batch_size):
            self.batch(touchpoints[start : start + batch_size], as_of)
        return self

    def batch(self, touchpoints: list[Touchpoint], as_of: int | None = None, commit: bool = True) -> None:
        """One batch as the runner does it; ``commit=False`` writes its rows but keeps no state (a crash before commit)."""
        watermark = as_of if as_of is not None else max(self.watermark, max(tp.occurred_ms for tp in touchpoints))
        graph = IdentityGraph(dict(self.index), {c: CustomerIdentity(pos, list(keys)) for c, (pos, keys) in self.customers.items()})
        resolution = resolve(graph, touchpoints, self.pipeline.rules.identity)
        recheck = {c for c, due in self.checks.items() if due <= watermark}
        involved = set(resolution.assignments.values()) | recheck | {c for m in resolution.merges for c in (m.absorbed, m.survivor)}
        loaded = {c: state_codec.decode(self.profiles[c]) for c in involved if c in self.profiles}
        output = self.pipeline.project(loaded, resolution, touchpoints, recheck, watermark, touchpoints[-1].position)
        for table, rows in output.rows.items():
            if self.keep_rows:
                self._write(ALL_TABLES[table], rows)
        if not commit:
            return
        self.actions.extend(output.actions)
        self.watermark = watermark
        self.index.update({key: customer for key, (customer, _) in resolution.changed_keys.items()})
        for customer in resolution.changed_customers:
            self.customers[customer] = [graph.customers[customer].created_at_position, graph.customers[customer].keys]
        for gone in output.removed:
            self.customers.pop(gone, None)
            self.profiles.pop(gone, None)
            self.checks.pop(gone, None)
        self.profiles.update({c: state_codec.encode(p) for c, p in output.profiles.items()})
        for customer, due in output.next_checks.items():
            if due is None:
                self.checks.pop(customer, None)
            else:
                self.checks[customer] = due

    def tables(self, ignore: tuple[str, ...] = ()) -> dict[str, list[dict]]:
        """Every table as read with FINAL, rows sorted, without the ``ignore`` columns."""
        out = {}
        for name, rows in self.stored.items():
            live = [{k: v for k, v in row.items() if k not in ignore} for row in rows.values() if not row.get("is_deleted")]
            out[name] = sorted(live, key=lambda r: orjson.dumps(r, option=orjson.OPT_SORT_KEYS))
        return out

    def _write(self, table: Table, rows: list[dict]) -> None:
        key_columns = table.order_by.strip("()").replace(" ", "").split(",")
        versioned = table.engine.startswith("ReplacingMergeTree(")
        stored = self.stored.setdefault(table.name, {})
        for row in rows:
            key = tuple(_plain(row[c]) for c in key_columns)
            if not versioned or key not in stored or row["version"] >= stored[key]["version"]:
                stored[key] = row


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
