"""Compiles a segment to ClickHouse SQL with server-side ``{name:Type}`` parameters.

Every value and every trait or property name travels as a parameter; the SQL text holds only
identifiers from the field registry. Profile fields are read from ``profiles FINAL``. A tag, or a
field of another customer table, is a semi-join (``customer_id IN`` that table's current rows that
match) when only a stored row can match; otherwise it adds one LEFT JOIN on that table's current rows
(a customer without a row there is compared as the column's zero value). Behaviour conditions
select customers from ``events`` (events of customers merged away count for their survivor, see
``queries.customer_events_sql``). Consent conditions, and the purpose of an export, read consent
as ``cdp.segments.consent`` says.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from cdp.segments import consent
from cdp.segments.consent import ConsentScope
from cdp.segments.fields import FIELDS, Field
from cdp.segments.model import AllOf, AnyOf, ConsentCondition, EventCondition, FieldCondition, NotOf, Segment, TagCondition, TraitCondition
from cdp.queries import customer_events_sql
from projections.tables import customer_tags, profiles
from projections.tables.table import blank_row

TIME = "DateTime64(3, 'UTC')"
COMPARE = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass
class Compiled:
    """``FROM`` + ``WHERE`` over current profiles (alias ``p``), and the parameters they use."""

    from_sql: str
    where_sql: str
    params: dict[str, Any]

    def customers_sql(self) -> str:
        """``SELECT customer_id`` of the members: what an analysis narrows to (``cdp.analytics.filters``)
        and what a send checks its customers against (``evaluate.members_among``)."""
        return f"SELECT p.customer_id AS customer_id {self.from_sql} WHERE ({self.where_sql})"

    def count_sql(self) -> str:
        return f"SELECT count() AS customers {self.from_sql} WHERE {self.where_sql}"

    def members_sql(self, columns: list[str]) -> str:
        select = ", ".join(f"p.`{c}` AS `{c}`" for c in columns)
        return f"SELECT {select} {self.from_sql} WHERE {self.where_sql} ORDER BY p.customer_id LIMIT {{limit:UInt64}} OFFSET {{offset:UInt64}}"


@dataclass
class _Builder:
    database: str
    as_of: datetime
    scope: ConsentScope
    params: dict[str, Any] = field(default_factory=dict)
    joins: dict[str, str] = field(default_factory=dict)  # table name → alias

    def param(self, value: Any, type_: str) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"{{{name}:{type_}}}"

    def column(self, table_name: str, column: str) -> str:
        if table_name == profiles.TABLE.name:
            return f"p.`{column}`"
        alias = self.joins.setdefault(table_name, f"j{len(self.joins)}")
        return f"{alias}.`{column}`"

    def table(self, name: str) -> str:
        return f"`{self.database}`.`{name}`"

    def customers_where(self, table_name: str, condition: str) -> str:
        """The profile is one of the customers whose current row of ``table_name`` meets ``condition``."""
        return f"p.customer_id IN (SELECT customer_id FROM {self.table(table_name)} FINAL WHERE {condition})"


def compile_segment(segment: Segment, database: str, as_of: datetime, consent_scope: ConsentScope | None = None) -> Compiled:
    """``as_of``: the time "within N days" counts back from (the data's latest event time, usually).
    ``consent_scope``: how consent is read (default: the built-in defaults, now); with a purpose,
    only customers with consent to it in force and not suppressed for it are members."""
    scope = consent_scope or ConsentScope()
    b = _Builder(database, as_of, scope)
    where = _condition(b, segment.where)
    if scope.purpose is not None:
        where = f"({where} AND {consent.contactable(b, scope, scope.purpose)})"
    joins = "".join(
        f" LEFT JOIN (SELECT * FROM {b.table(name)} FINAL) AS {alias} ON {alias}.customer_id = p.customer_id" for name, alias in b.joins.items()
    )
    return Compiled(f"FROM {b.table(profiles.TABLE.name)} AS p FINAL{joins}", where, b.params)


def _condition(b: _Builder, node: Any) -> str:
    if isinstance(node, AllOf):
        return "(" + " AND ".join(_condition(b, c) for c in node.all) + ")"
    if isinstance(node, AnyOf):
        return "(" + " OR ".join(_condition(b, c) for c in node.any) + ")"
    if isinstance(node, NotOf):
        return f"NOT {_condition(b, node.not_)}"
    if isinstance(node, FieldCondition):
        return _field(b, node)
    if isinstance(node, TraitCondition):
        return _trait(b, node)
    if isinstance(node, TagCondition):  # a customer without a tags row holds no tag
        return b.customers_where(customer_tags.TABLE.name, f"has(tags, {b.param(node.tag, 'String')})")
    if isinstance(node, EventCondition):
        return _behaviour(b, node)
    if isinstance(node, ConsentCondition):
        return consent.in_force(b, b.scope, node.consent, node.granted)
    raise TypeError(f"not a segment condition: {node!r}")


def _field(b: _Builder, node: FieldCondition) -> str:
    f = FIELDS[node.field]
    if f.table.name != profiles.TABLE.name and _needs_a_row(f, node.op, node.value):
        return b.customers_where(f.table.name, _compare(b, f"`{f.column}`", f.kind, node.op, node.value))
    return _compare(b, b.column(f.table.name, f.column), f.kind, node.op, node.value)


def _needs_a_row(f: Field, op: str, value: Any) -> bool:
    """Whether a customer without a row in ``f.table`` (whom a LEFT JOIN gives the column's zero value)
    cannot meet the condition, and the column cannot be NULL: the condition then means exactly "has a
    current row that meets it", a semi-join."""
    if next(c.type for c in f.table.columns if c.name == f.column).startswith("Nullable"):
        return False
    zero = blank_row(f.table)[f.column]
    return op in ("contains", "contains_any") or (op == "=" and value != zero) or (op == "in" and zero not in value)


def _compare(b: _Builder, column: str, kind: str, op: str, value: Any) -> str:
    if op == "is_empty":
        return {"list": f"empty({column})", "text": f"{column} = ''"}.get(kind, f"isNull({column})")
    if kind == "list":
        if op == "contains":
            return f"has({column}, {b.param(value, 'String')})"
        return f"{'hasAny' if op == 'contains_any' else 'hasAll'}({column}, {b.param(value, 'Array(String)')})"
    if kind == "time":
        return _time(b, column, op, value)
    type_ = "Float64" if kind == "number" else "String"
    if op in ("in", "not_in"):
        return f"{column} {'IN' if op == 'in' else 'NOT IN'} {b.param(value, 'Array(String)')}"
    if op == "between":
        return f"{column} BETWEEN {b.param(value[0], type_)} AND {b.param(value[1], type_)}"
    return f"{column} {COMPARE[op]} {b.param(value, type_)}"


def _time(b: _Builder, column: str, op: str, value: Any) -> str:
    if op in ("within_days", "not_within_days"):
        since = f"{b.param(_text(b.as_of), TIME)} - toIntervalSecond({b.param(round(value * 86400), 'Int64')})"
        return f"{column} >= {since}" if op == "within_days" else f"({column} < {since} OR isNull({column}))"
    if op == "between":
        return f"{column} >= {b.param(_text(value[0]), TIME)} AND {column} < {b.param(_text(value[1]), TIME)}"
    return f"{column} {'<' if op == 'before' else '>='} {b.param(_text(value), TIME)}"


def _trait(b: _Builder, node: TraitCondition) -> str:
    traits, key = b.column(profiles.TABLE.name, "traits"), b.param(node.trait, "String")
    if node.op == "exists":
        return f"JSONHas({traits}, {key})"
    if isinstance(node.value, float):
        return f"(JSONHas({traits}, {key}) AND JSONExtractFloat({traits}, {key}) {COMPARE[node.op]} {b.param(node.value, 'Float64')})"
    condition = _compare(b, f"JSONExtractString({traits}, {key})", "text", node.op, node.value)
    if node.op == "=" and isinstance(node.value, str) and orjson.dumps(node.value)[1:-1] == node.value.encode():
        # the projection writes traits with orjson, which writes this value verbatim: a text search (cheap)
        # rules out the rows that cannot hold it before the JSON is parsed (AND short-circuits)
        return f"(position({traits}, {b.param(node.value, 'String')}) > 0 AND {condition})"
    return condition


def _behaviour(b: _Builder, node: EventCondition) -> str:
    filters = [f"event_type = {b.param(node.event, 'String')}"]
    if node.within_days is not None:
        filters.append(_time(b, "occurred_at", "within_days", node.within_days))
        filters.append(f"occurred_at <= {b.param(_text(b.as_of), TIME)}")
    if node.between is not None:
        filters.append(_time(b, "occurred_at", "between", node.between))
    for name, value in node.properties.items():
        filters.append(_property(b, name, value))
    having = f"count() >= {b.param(node.at_least, 'UInt64')}"
    if node.at_most is not None:
        having += f" AND count() <= {b.param(node.at_most, 'UInt64')}"
    source = customer_events_sql(b.database, "event_type", " AND ".join(filters))
    return f"p.customer_id IN (SELECT customer_id FROM {source} GROUP BY customer_id HAVING {having})"


def _property(b: _Builder, name: str, value: bool | str | float) -> str:
    """The event property ``name`` equals ``value`` with its JSON type: a boolean only a JSON boolean, a
    number any JSON number of that value (5 = 5.0), a text only a JSON string."""
    key = b.param(name, "String")
    if isinstance(value, bool):
        return f"(JSONType(properties, {key}) = 'Bool' AND JSONExtractBool(properties, {key}) = {b.param(int(value), 'UInt8')})"
    if isinstance(value, int | float):
        return f"(JSONType(properties, {key}) IN ('Int64', 'UInt64', 'Double') AND JSONExtractFloat(properties, {key}) = {b.param(float(value), 'Float64')})"
    return f"(JSONType(properties, {key}) = 'String' AND JSONExtractString(properties, {key}) = {b.param(value, 'String')})"


def _text(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
