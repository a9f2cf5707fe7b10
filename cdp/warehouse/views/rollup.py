"""A rollup of events kept by a materialized view: a state table, the view that feeds it, a readable view.

Replay-safe by construction: the runner may write a batch's events twice, so every aggregate is
keyed by the event's log position (``groupBitmap`` of positions counts each event once, ``maxMap``
of position → amount sums each amount once) and re-inserting rows changes nothing. The same
property makes the backfill of events written before the rollup existed harmless to repeat.
"""

from dataclasses import dataclass

from cdp.warehouse.statements import quote_string
from projections.tables import Column, events


@dataclass(frozen=True)
class Rollup:
    name: str
    doc: str
    keys: tuple[Column, ...]  # grouping columns; each Column.type is the expression's type
    key_sql: tuple[str, ...]  # their expressions over events
    states: tuple[Column, ...]  # aggregate-function state columns
    state_sql: tuple[str, ...]  # their -State expressions over events
    readable_sql: tuple[str, ...]  # the readable view's value expressions over the states, "expr AS name"
    where: str = "1"
    partition_by: str | None = "toYYYYMM(day)"

    @property
    def state_table(self) -> str:
        return f"{self.name}_state"

    def create_sql(self, database: str) -> list[str]:
        state_table, source = f"`{database}`.`{self.state_table}`", f"`{database}`.`{events.TABLE.name}`"
        columns = ",\n".join(f"    `{c.name}` {c.type} COMMENT {quote_string(c.doc)}" for c in (*self.keys, *self.states))
        key_names = ", ".join(c.name for c in self.keys)
        select = ", ".join([*(f"{sql} AS {c.name}" for c, sql in zip(self.keys, self.key_sql, strict=True)),
                            *(f"{sql} AS {c.name}" for c, sql in zip(self.states, self.state_sql, strict=True))])
        feed = f"SELECT {select}\nFROM {source}\nWHERE {self.where}\nGROUP BY {key_names}"
        partition = f"PARTITION BY {self.partition_by}\n" if self.partition_by else ""
        return [
            f"CREATE TABLE IF NOT EXISTS {state_table}\n(\n{columns}\n)\nENGINE = AggregatingMergeTree\n"
            f"{partition}ORDER BY ({key_names})\nCOMMENT {quote_string('Aggregate states behind the view ' + self.name + '; read that view.')}",
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{self.name}_mv` TO {state_table}\nAS {feed}",
            f"CREATE VIEW IF NOT EXISTS `{database}`.`{self.name}`\nAS SELECT {key_names}, {', '.join(self.readable_sql)}\n"
            f"FROM {state_table}\nGROUP BY {key_names}\nCOMMENT {quote_string(self.doc)}",
            f"INSERT INTO {state_table} {feed}",  # backfill: events written before the view existed
        ]
