"""A segment definition (JSON or YAML): conditions on profile fields, traits, tags, consent,
behaviour in time windows and membership of saved segments, combined with all / any / not.
Validation errors name the offending path, e.g. ``where.all[1].value: revenue takes a number``.
"""

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NoReturn, Union, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, ValidationInfo, field_validator

from cdp.errors import Problem, SegmentInvalid
from cdp.segments.fields import FIELDS, OPERATORS
from cdp.segments.problems import Refusal
from cdp.segments.suggest import suggestions
from cdp.warehouse.column_types import FIRST_YEAR, LAST_YEAR
from schemas.payloads import PAYLOAD_BY_EVENT_TYPE
from schemas.payloads.consent import Purpose

Number = int | float
Text = Annotated[str, Field(max_length=1000)]
MAX_PROPERTIES = 50  # property values one event condition compares


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldCondition(_Node):
    """``{field: revenue, op: ">=", value: 500}``; see ``cdp segment fields`` for fields and operators."""

    field: str
    op: str
    value: Any = None

    @field_validator("field")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in FIELDS:
            raise Refusal("unknown_field", given=name, suggestions=suggestions(name, list(FIELDS)), known=", ".join(sorted(FIELDS)))
        return name

    @field_validator("op")
    @classmethod
    def _allowed(cls, op: str, info: ValidationInfo) -> str:
        field = FIELDS.get(info.data.get("field", ""))
        if field and op not in OPERATORS[field.kind]:
            raise Refusal("op_not_allowed", field=info.data["field"], kind=field.kind, allowed=", ".join(OPERATORS[field.kind]), op=op)
        return op

    @field_validator("value")
    @classmethod
    def _shaped(cls, value: Any, info: ValidationInfo) -> Any:
        field, op = FIELDS.get(info.data.get("field", "")), info.data.get("op")
        if not field or op is None:
            return value
        return check_value(f"{info.data['field']} {op}", field.kind, op, value)


class TraitCondition(_Node):
    """``{trait: city, op: "=", value: Shanghai}``: a declared trait (profiles.traits) by name."""

    trait: Annotated[str, Field(min_length=1, max_length=200)]
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "exists"]
    value: Any = None

    @field_validator("value")
    @classmethod
    def _shaped(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        if op is None:
            return value
        kind = "text" if op in ("in", "not_in") or isinstance(value, str) else "number"
        return check_value(f"trait {info.data.get('trait')} {op}", kind, "is_empty" if op == "exists" else op, value)


SegmentName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")]


class SegmentReference(_Node):
    """``{segment: vip}``: the customer is a member of the saved segment ``vip`` as it is saved now
    (``cdp.segments.references``). Its conditions are its writer's: a caller without ``pii:read``
    may refer to a saved segment that tests personal data, as they may count it by its name."""

    segment: SegmentName


class TagCondition(_Node):
    """``{tag: promoter}``: the customer holds the tag now."""

    tag: Annotated[str, Field(min_length=1, max_length=200)]


class ConsentCondition(_Node):
    """``{consent: email_marketing}``: consent to the purpose is in force now (``granted: false``: it is not).

    A customer who never decided follows the configured default ([consent.defaults]). Suppression
    is separate: an export ``--purpose`` also leaves out suppressed customers.
    """

    consent: Purpose
    granted: bool = True

    @field_validator("consent", mode="before")
    @classmethod
    def _purpose(cls, purpose: Any) -> Any:
        if isinstance(purpose, str) and purpose not in get_args(Purpose):
            raise Refusal("no_purpose", given=purpose, suggestions=suggestions(purpose, get_args(Purpose)), known=", ".join(get_args(Purpose)))
        return purpose


class EventCondition(_Node):
    """``{event: order_placed, within_days: 30, at_least: 2}``: behaviour in a time window.

    The window is ``within_days`` before the segment's as-of time, or ``between: [from, to)``; none
    means all time. ``properties`` keeps only events whose properties equal the values given, compared
    by JSON type: ``true`` matches JSON true (not the text "true"), 5 matches 5 and 5.0, "5" only "5".
    """

    event: str
    within_days: Annotated[int, Field(gt=0, le=36500)] | None = None
    between: tuple[datetime, datetime] | None = None
    at_least: Annotated[int, Field(ge=1)] = 1
    at_most: Annotated[int, Field(ge=1)] | None = None
    properties: Annotated[dict[Annotated[str, Field(min_length=1, max_length=200)], bool | str | Number], Field(max_length=MAX_PROPERTIES)] = {}

    @field_validator("event")
    @classmethod
    def _known(cls, event_type: str) -> str:
        if event_type not in PAYLOAD_BY_EVENT_TYPE:
            raise Refusal("unknown_event", given=event_type, known=", ".join(sorted(PAYLOAD_BY_EVENT_TYPE)))
        return event_type

    @field_validator("between")
    @classmethod
    def _ordered(cls, between: tuple[datetime, datetime] | None, info: ValidationInfo) -> tuple[datetime, datetime] | None:
        if between is None:
            return None
        if info.data.get("within_days") is not None:
            raise Refusal("window_twice")
        start, end = (_in_range("between", t) for t in between)
        if start >= end:
            raise Refusal("between_order")
        return start, end

    @field_validator("at_most")
    @classmethod
    def _not_below(cls, at_most: int | None, info: ValidationInfo) -> int | None:
        if at_most is not None and at_most < info.data.get("at_least", 1):
            raise Refusal("at_most_below")
        return at_most


def _tag(node: Any) -> str | None:
    keys = node.keys() if isinstance(node, dict) else {f.alias or name for name, f in type(node).model_fields.items()}
    for key in ("all", "any", "not", "field", "trait", "tag", "event", "consent", "segment"):
        if key in keys:
            return f"<{key}>"
    return None


Condition = Annotated[
    Union[
        Annotated["AllOf", Tag("<all>")],
        Annotated["AnyOf", Tag("<any>")],
        Annotated["NotOf", Tag("<not>")],
        Annotated[FieldCondition, Tag("<field>")],
        Annotated[TraitCondition, Tag("<trait>")],
        Annotated[TagCondition, Tag("<tag>")],
        Annotated[EventCondition, Tag("<event>")],
        Annotated[ConsentCondition, Tag("<consent>")],
        Annotated[SegmentReference, Tag("<segment>")],
    ],
    Discriminator(_tag, custom_error_type="condition", custom_error_message="expected a condition: all, any, not, field, trait, tag, event, consent or segment"),
]


class AllOf(_Node):
    all: Annotated[list[Condition], Field(min_length=1)]


class AnyOf(_Node):
    any: Annotated[list[Condition], Field(min_length=1)]


class NotOf(_Node):
    not_: Condition = Field(alias="not")


class Segment(_Node):
    name: SegmentName
    description: str = ""
    where: Condition


MAX_CONDITIONS = 100  # in one definition: each becomes a subquery of the count (an event condition's costs ~10 ms of the warehouse)
# Event properties compared in one definition: each adds ~120 bytes to the count's SQL and an event
# condition ~1.3 KB, so the largest definition stays well under ClickHouse's default max_query_size
# (256 KiB), which a definition of 100 conditions of 10 properties passed (a 500, not a refusal).
MAX_PROPERTY_COMPARISONS = 400
MAX_DEPTH = 20  # all, any and not within one another (ClickHouse parses the count's SQL to a depth of 1,000)
MAX_DAYS = 36_500


def parse_segment(data: Any) -> Segment:
    """Validates a definition; raises ``SegmentInvalid`` naming each offending path (its problems
    with their codes: ours, else pydantic's type and context)."""
    try:
        segment = Segment.model_validate(data)
    except ValidationError as error:
        problems = tuple(problem_of(e) for e in error.errors(include_url=False))
        texts = [f"{p.path}: {p.text}" for p in problems]
        raise SegmentInvalid("invalid segment: " + "; ".join(texts[:5]) + (f"; and {len(texts) - 5} more" if len(texts) > 5 else ""), problems) from None
    return within_limits(segment)


def within_limits(segment: Segment) -> Segment:
    """Returns ``segment``, or raises ``SegmentInvalid`` when it has more conditions, property
    comparisons or deeper nesting than one count's SQL may."""
    found = list(conditions(segment.where, "where"))
    deepest = max((path for path, _ in found), key=_depth)
    if len(found) > MAX_CONDITIONS:
        refuse_whole("where", Refusal("too_many_conditions", given=len(found), most=MAX_CONDITIONS))
    compared = sum(len(node.properties) for _, node in found if isinstance(node, EventCondition))
    if compared > MAX_PROPERTY_COMPARISONS:
        refuse_whole("where", Refusal("too_many_properties", given=compared, most=MAX_PROPERTY_COMPARISONS))
    if _depth(deepest) > MAX_DEPTH:
        refuse_whole(deepest, Refusal("too_deep", most=MAX_DEPTH))
    return segment


def _depth(path: str) -> int:
    """How many all, any and not hold the condition at ``path``."""
    return path.count(".all[") + path.count(".any[") + path.count(".not")


def refuse_whole(path: str, refusal: Refusal) -> NoReturn:
    raise SegmentInvalid(f"invalid segment: {path}: {refusal}", (Problem(path, refusal.code, refusal.params, str(refusal)),))


def conditions(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every condition under ``node`` (all, any and not opened), with its path from ``path``."""
    if isinstance(node, AllOf | AnyOf):
        key = "all" if isinstance(node, AllOf) else "any"
        for i, child in enumerate(getattr(node, key)):
            yield from conditions(child, f"{path}.{key}[{i}]")
    elif isinstance(node, NotOf):
        yield from conditions(node.not_, f"{path}.not")
    else:
        yield path, node


def problem_of(error: Any) -> Problem:
    """One pydantic error as a problem: a segment check's code, else pydantic's type and context
    (the console's page parameters too)."""
    refusal = error.get("ctx", {}).get("error")
    if isinstance(refusal, Refusal):
        return Problem(_path(error["loc"]), refusal.code, refusal.params, str(refusal))
    context = {k: v if isinstance(v, int | float | str) else str(v) for k, v in error.get("ctx", {}).items()}
    return Problem(_path(error["loc"]), error["type"], context, error["msg"].removeprefix("Value error, "))


def check_value(what: str, kind: str, op: str, value: Any) -> Any:
    """The value an operator needs: a number, a text, a time, a list of texts, a pair, or nothing."""
    if op == "is_empty":
        if value is not None:
            raise Refusal("takes_no_value", what=what)
        return None
    if op in ("within_days", "not_within_days"):
        days = _number(what, value)
        if not 0 < days <= MAX_DAYS:
            raise Refusal("days_range", what=what, most=MAX_DAYS)
        return days
    if op == "between":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise Refusal("takes_pair", what=what)
        low, high = (_time(what, v) if kind == "time" else _number(what, v) for v in value)
        if low > high:
            raise Refusal("low_above_high", what=what)
        return [low, high]
    if op in ("in", "not_in", "contains_any", "contains_all"):
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise Refusal("takes_list", what=what)
        return value
    if kind == "time":
        return _time(what, value)
    if kind == "number":
        return _number(what, value)
    if not isinstance(value, str):
        raise Refusal("takes_text", what=what)
    return value


def _number(what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refusal("takes_number", what=what)
    return float(value)


def _time(what: str, value: Any) -> datetime:
    try:
        t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise Refusal("takes_time", what=what) from None
    return _in_range(what, t)


def _in_range(what: str, t: datetime) -> datetime:
    try:
        t = _utc(t)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first year there is
        t = datetime.min.replace(tzinfo=UTC)
    if not FIRST_YEAR <= t.year <= LAST_YEAR:
        raise Refusal("time_range", what=what, earliest=FIRST_YEAR, latest=LAST_YEAR)
    return t


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _path(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, str) and part.startswith("<"):
            continue
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text or "(segment)"


for _model in (AllOf, AnyOf, NotOf, Segment):
    _model.model_rebuild()
