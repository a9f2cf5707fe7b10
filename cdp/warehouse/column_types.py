"""ClickHouse column types as trees, and the value conversions the warehouse needs.

The native protocol hands back Python objects (datetime, Decimal, UUID, tuples); callers get JSON
values (what the HTTP API and the CLI print): ``to_json_value`` turns the former into the latter.
``insert_converter`` accepts the text form of dates that rows may carry, and gives DateTime64 values
as the integers the column stores.
"""

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from collections.abc import Callable
from functools import lru_cache
from typing import Any

_WRAPPERS = ("Nullable", "LowCardinality", "SimpleAggregateFunction")
FIRST_YEAR, LAST_YEAR = 1900, 2299  # the years a DateTime64 holds: the times a query may name


@lru_cache(maxsize=512)
def parse(type_text: str) -> tuple[str, tuple]:
    """``Map(String, Array(DateTime64(3, 'UTC')))`` → ``('Map', (('String', ()), ('Array', ...)))``.

    Nullable and LowCardinality are transparent: they change no value's form.
    """
    text = type_text.strip()
    name, _, rest = text.partition("(")
    name = name.strip()
    args = tuple(_split(rest[:-1])) if rest else ()
    if name in _WRAPPERS:
        return parse(args[-1])
    if name in ("Array", "Map", "Tuple"):
        return name, tuple(parse(_unnamed(a)) for a in args)
    return name, args


def to_json_value(kind: tuple[str, tuple], value: Any) -> Any:
    if value is None:
        return None
    name, args = kind
    if name == "DateTime64":
        precision = int(args[0]) if args else 3
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{f'{value.microsecond:06d}'.ljust(precision, '0')[:precision]}" if precision else text
    if name == "DateTime":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if name in ("Date", "Date32"):
        return value.isoformat()
    if name == "Array":
        return [to_json_value(args[0], v) for v in value]
    if name == "Map":
        return {str(k): to_json_value(args[1], v) for k, v in value.items()}
    if name == "Tuple":
        return [to_json_value(a, v) for a, v in zip(args, value, strict=False)]
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return _float32_text(value) if name == "Float32" else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool | int | str | list | dict):
        return value
    return str(value)  # UUID, IP addresses


@lru_cache(maxsize=512)
def insert_converter(kind: tuple[str, tuple]) -> Callable[[Any], Any] | None:
    """What a column of this type needs done to a value before it is inserted, decided once per
    type: None where nothing (only dates given as text, and DateTime64 values, change). Text dates
    are read as ISO 8601 (naive ones as UTC); an aware DateTime64 value becomes the integer the
    column stores (``_ticks``); a Map's values and an Array's elements are converted alike. A
    converter is never given None: its callers keep None as it is.
    Deciding per type rather than per value was ~10 % of a scale-out worker's time (BENCHMARKS.md, issue 23)."""
    name, args = kind
    if name == "DateTime64":
        precision = int(args[0]) if args else 3

        def datetime64(value: Any) -> Any:
            if isinstance(value, str):
                value = _aware(datetime.fromisoformat(value))
            return _ticks(value, precision) if isinstance(value, datetime) and value.tzinfo is not None else value

        return datetime64
    if name == "DateTime":
        return lambda value: _aware(datetime.fromisoformat(value)) if isinstance(value, str) else value
    if name.startswith("Date"):
        return lambda value: date.fromisoformat(value) if isinstance(value, str) else value
    if name == "Array" and (element := insert_converter(args[0])) is not None:
        return lambda value: [None if v is None else element(v) for v in value]
    if name == "Map" and (convert := insert_converter(args[1])) is not None:
        return lambda value: {k: None if v is None else convert(v) for k, v in value.items()}
    return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _ticks(value: datetime, precision: int) -> int:
    """An aware datetime as a DateTime64(precision) column stores it (ticks since 1970, rounded down),
    which clickhouse-driver takes as given: its own conversion goes through pytz for every value (a
    tenth of a projection batch's insert time, BENCHMARKS.md, issue 23) and puts times before 1970
    a second late. Whole microseconds by timedelta arithmetic: exact, and cheaper than a timestamp."""
    microseconds = (value - _EPOCH) // _MICROSECOND
    return microseconds // 10 ** (6 - precision) if precision <= 6 else microseconds * 10 ** (precision - 6)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _split(text: str) -> list[str]:
    """Top-level comma-separated parts of a type's argument list."""
    parts, depth, quote, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        elif not quote and depth == 0 and ch == ",":
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    return [*parts, tail] if tail else parts


def _unnamed(element: str) -> str:
    """A named tuple element ``a UInt8`` → ``UInt8``."""
    head, _, tail = element.partition(" ")
    return tail if tail and "(" not in head and head[:1].islower() else element


def _float32_text(value: float) -> float:
    """The Float32 as ClickHouse prints it (the shortest text of the 32-bit value, not of the double
    it arrives as). numpy is imported on the first Float32 value, not by every command that opens
    the warehouse."""
    import numpy

    return float(str(numpy.float32(value)))
