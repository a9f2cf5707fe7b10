"""How the CLI shows rows and profiles to a person."""

import csv
import io
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

HISTORY_ROWS = 12
_SKIP = {"version", "is_deleted", "merged_into", "lifecycle_history"}


def print_rows(console: Console, rows: list[dict[str, Any]], fmt: str, title: str | None = None) -> None:
    if fmt == "json":
        console.file.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if fmt == "csv":
        buffer = io.StringIO()
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({k: _plain(v) for k, v in row.items()} for row in rows)
        console.file.write(buffer.getvalue())
        return
    table = Table(title=title, title_justify="left")
    for name in rows[0] if rows else ["(no rows)"]:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(_plain(v) for v in row.values()))
    console.print(table)


def print_profile(console: Console, profile: dict[str, Any]) -> None:
    table = Table(title=f"customer {profile['customer_id']}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in profile.items():
        if name not in _SKIP and name != "customer_id" and value not in ([], "", None, "{}"):
            table.add_row(name, _plain(value))
    console.print(table)
    history = profile.get("lifecycle_history") or []
    if len(history) > HISTORY_ROWS:
        console.print(f"({len(history) - HISTORY_ROWS} earlier stage changes not shown; `--json` has them all)")
        history = history[-HISTORY_ROWS:]
    if history:
        print_rows(console, history, "table", title="lifecycle history")


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)
