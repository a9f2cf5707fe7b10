"""The segment builder's form as a segment definition, and the service's validation errors back
onto the rows of the form they concern.

A row names a field of ``cdp segment fields`` (or ``tag``, ``event``, ``consent``, ``segment``: a
saved one, ``cdp.segments.references``), an operator
and a value as typed; ``not`` negates it; the rows combine with ``all`` or ``any``. Values are
only shaped here (numbers, lists split at commas); whether they are right is the service's call,
and its message (``where.all[2].value: revenue < takes a number``, each problem worded in the
reader's language from its code) is shown next to row 2.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdp.errors import Problem

MAX_ROWS = 30
TAG, EVENT, CONSENT, SEGMENT = "tag", "event", "consent", "segment"
PSEUDO_OPERATORS = {TAG: ("has",), EVENT: ("at_least", "within_days"), CONSENT: ("granted", "not_granted"), SEGMENT: ("member",)}
LISTED = ("in", "not_in", "contains_any", "contains_all")
_ROW_PATH = re.compile(r"^where\.(?:all|any)\[(\d+)\]")
_PROBLEMS = re.compile(r"; (?=[\w.\[\]]+: )")  # "; " before the next path: a message's own "; did you mean" stays whole


@dataclass
class Row:
    field: str = "lifecycle_stage"
    op: str = "="
    value: str = ""
    negate: bool = False
    error: str = ""


@dataclass
class Builder:
    combine: str = "all"
    rows: list[Row] = field(default_factory=lambda: [Row()])
    name: str = ""
    description: str = ""
    error: str = ""  # a problem of no single row (the name, say)


def from_form(sent: dict[str, str]) -> Builder:
    """The builder as the form sent it; ``action`` ``add`` appends a row, ``remove:N`` drops row N."""
    count = min(_int(sent.get("rows"), 1), MAX_ROWS)
    rows = [Row(sent.get(f"field-{i}", ""), sent.get(f"op-{i}", ""), sent.get(f"value-{i}", ""), f"not-{i}" in sent) for i in range(count)]
    action = sent.get("action", "")
    if action == "add" and len(rows) < MAX_ROWS:
        rows.append(Row())
    elif action.startswith("remove:") and len(rows) > 1:
        index = _int(action.removeprefix("remove:"), -1)
        rows = [r for i, r in enumerate(rows) if i != index]
    return Builder("any" if sent.get("combine") == "any" else "all", rows or [Row()], sent.get("name", "").strip(), sent.get("description", "").strip())


def definition(builder: Builder, kinds: dict[str, str], name: str = "draft") -> dict[str, Any]:
    """The segment definition of the rows; ``kinds``: field → its kind (number, text, time, list)."""
    return {"name": builder.name or name, "description": builder.description, "where": {builder.combine: [_condition(row, kinds) for row in builder.rows]}}


def _condition(row: Row, kinds: dict[str, str]) -> dict[str, Any]:
    value = row.value.strip()
    if row.field == TAG:
        condition: dict[str, Any] = {"tag": value}
    elif row.field == SEGMENT:
        condition = {"segment": value}
    elif row.field == CONSENT:
        condition = {"consent": value, "granted": row.op != "not_granted"}
    elif row.field == EVENT:
        event_type, _, amount = value.partition(" ")
        condition = {"event": event_type.strip()}
        if amount.strip():
            condition["within_days" if row.op == "within_days" else "at_least"] = _number(amount.strip())
    else:
        condition = {"field": row.field, "op": row.op, "value": _value(kinds.get(row.field, "text"), row.op, value)}
        if row.op == "is_empty":
            condition.pop("value")
    return {"not": condition} if row.negate else condition


def _value(kind: str, op: str, text: str) -> Any:
    if op == "between":
        low, _, high = text.partition(",")
        return [_shaped(kind, low.strip()), _shaped(kind, high.strip())]
    if op in LISTED:
        return [part.strip() for part in text.split(",") if part.strip()]
    if op in ("within_days", "not_within_days"):
        return _number(text)
    return _shaped(kind, text)


def _shaped(kind: str, text: str) -> Any:
    return _number(text) if kind == "number" else text


def _number(text: str) -> Any:
    """A number when the text is one; else the text, for the service to refuse by name."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def normalise(builder: Builder, operators: dict[str, list[str]]) -> None:
    """Each row on a field that exists, with an operator of that field (the first, after the field changed)."""
    for row in builder.rows:
        if row.field not in operators:
            row.field = next(iter(operators))
        if row.op not in operators[row.field]:
            row.op = operators[row.field][0]


def place_errors(builder: Builder, refusal: Exception, word: Callable[[Problem], str]) -> None:
    """The service's problems, each worded by ``word`` and put next to the row its path names; a
    refusal without problems (an error of no field) split into them from its message."""
    problems = [f"{p.path}: {word(p)}" for p in getattr(refusal, "problems", ())]
    for problem in problems or _PROBLEMS.split(str(refusal).removeprefix("invalid segment: ")):
        found = _ROW_PATH.match(problem.partition(": ")[0])
        if found and int(found.group(1)) < len(builder.rows):
            row = builder.rows[int(found.group(1))]
            row.error = f"{row.error}; {problem}" if row.error else problem
        else:
            builder.error = f"{builder.error}; {problem}" if builder.error else problem


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or "")
    except ValueError:
        return default
