"""How the CLI shows rows and profiles to a person."""

import csv
import io
from enum import Enum
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cdp.spreadsheet import csv_cell

HISTORY_ROWS = 12
_SKIP = {"version", "is_deleted", "merged_into", "lifecycle_history"}
_CODES = {"cause_code", "cause_params", "reason_code", "reason_codes", "reason_params"}  # causes as codes, for the console's languages; the terminal shows their English text
_EMPTY = ([], "", None, "{}", {})
# the sections of the 360° view (``cdp.services.profiles``), in the order shown, with their titles
SECTIONS = {
    "customers_merged_in": "customers merged in",
    "identifiers": "identifiers",
    "computed_traits": "computed traits",
    "tags": "tags",
    "value": "value",
    "predictions": "predicted value",
    "satisfaction": "satisfaction",
    "service": "service",
    "tickets": "tickets",
    "churn_risk": "churn risk",
    "loyalty": "loyalty",
    "consent": "consent in force",
    "suppressions": "suppressions",
    "segments": "segments",
    "recommendations": "recommended products",
}


# the columns a section's table shows where all of them would not fit a terminal (``--format json`` has them all)
SECTION_COLUMNS = {"tickets": ("ticket_id", "opened_at", "priority", "status", "response_sla", "resolution_sla", "escalations", "subject")}


class ViewFormat(str, Enum):
    """How a command prints one view (a profile): a person's tables, or the whole view as JSON."""

    table = "table"
    json = "json"


def print_rows(console: Console, rows: list[dict[str, Any]], fmt: str, title: str | None = None) -> None:
    if fmt == "json":
        console.file.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if fmt == "csv":
        buffer = io.StringIO()
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({k: csv_cell(_plain(v)) for k, v in row.items()} for row in rows)
        console.file.write(buffer.getvalue())
        return
    table = Table(title=title, title_justify="left")
    for name in rows[0] if rows else ["(no rows)"]:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)


def print_profile(console: Console, profile: dict[str, Any]) -> None:
    """The profile's own fields, then each section of the 360° view (``cdp.services.profiles``) that has something to show."""
    table = Table(title=f"customer {profile['customer_id']}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in profile.items():
        if name not in _SKIP and name not in SECTIONS and name != "customer_id" and value not in _EMPTY:
            table.add_row(name, _cell(value))
    console.print(table)
    history = profile.get("lifecycle_history") or []
    if len(history) > HISTORY_ROWS:
        console.print(f"({len(history) - HISTORY_ROWS} earlier stage changes not shown; `--format json` has them all)")
        history = history[-HISTORY_ROWS:]
    if history:
        print_rows(console, without_codes(history), "table", title="lifecycle history")
    for name, title in SECTIONS.items():
        _print_section(console, profile.get(name), title, SECTION_COLUMNS.get(name))


def without_codes(rows: list[dict]) -> list[dict]:
    """The rows without their causes' codes: the terminal shows their English text (``--json`` keeps the codes)."""
    return [{k: v for k, v in row.items() if k not in _CODES} for row in rows]


def _print_section(console: Console, value: Any, title: str, columns: tuple[str, ...] | None) -> None:
    if value in _EMPTY:
        return
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        print_rows(console, [{c: row[c] for c in columns or row} for row in value], "table", title=title)
        return
    if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):  # consent: purpose → decision
        print_rows(console, [{"purpose": key, **v} for key, v in value.items()], "table", title=title)
        return
    if not isinstance(value, dict):
        value = {title: value}
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    lists = {}
    for key, item in value.items():
        if isinstance(item, list) and item and all(isinstance(v, dict) for v in item):
            lists[key] = item  # a section's own rows (answers, tickets) follow it as a table
        elif item not in _EMPTY and key not in _CODES:
            table.add_row(key, _cell(item))
    console.print(table)
    for key, rows in lists.items():
        print_rows(console, rows, "table", title=f"{title}: {key}")


def _cell(value: Any) -> Text:
    """A value as a table cell: text as it is, never read as console markup (customer data may hold ``[link=...]``)."""
    return Text(_plain(value))


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)
