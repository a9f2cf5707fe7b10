"""What the warehouse does to a value before inserting it (``insert_converter``): dates given as text
are read, DateTime64 values become the integers the column stores, rounded down, also before 1970."""

import random
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cdp.warehouse.column_types import insert_converter, parse

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def convert(type_text: str, value):
    converter = insert_converter(parse(type_text))
    assert converter is not None
    return converter(value)


def ticks_by_parts(value: datetime, precision: int) -> int:
    """The same figure from the timedelta's parts, rounded down with integers only."""
    delta = value - EPOCH
    microseconds = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return microseconds // 10 ** (6 - precision) if precision <= 6 else microseconds * 10 ** (precision - 6)


@pytest.mark.parametrize("text, ticks", [
    ("2025-01-01T03:04:05.678Z", 1_735_700_645_678),
    ("2025-01-01T11:04:05.678+08:00", 1_735_700_645_678),
    ("2025-01-01T03:04:05.678", 1_735_700_645_678),  # naive: UTC
    ("1970-01-01T00:00:00Z", 0),
    ("1969-12-31T23:59:59.9995Z", -1),  # rounded down, not toward zero
])  # fmt: skip
def test_datetime64_text_becomes_the_stored_ticks(text: str, ticks: int):
    assert convert("DateTime64(3, 'UTC')", text) == ticks


def test_datetime64_ticks_match_integer_arithmetic_at_every_precision():
    rng = random.Random(5)
    for _ in range(2000):
        value = EPOCH + timedelta(microseconds=rng.randrange(-2_208_988_800 * 10**6, 4_102_444_800 * 10**6))
        for precision in (0, 3, 6, 9):
            assert convert(f"DateTime64({precision}, 'UTC')", value) == ticks_by_parts(value, precision)


def test_values_other_than_aware_datetimes_and_text_pass_through():
    naive = datetime(2025, 1, 1, 3, 4, 5)
    assert convert("DateTime64(3, 'UTC')", naive) is naive
    assert convert("DateTime64(3, 'UTC')", 1_735_700_645_678) == 1_735_700_645_678


def test_datetime_and_date_text_are_read():
    assert convert("DateTime('UTC')", "2025-01-01T03:04:05Z") == datetime(2025, 1, 1, 3, 4, 5, tzinfo=UTC)
    assert convert("DateTime('UTC')", "2025-01-01 03:04:05") == datetime(2025, 1, 1, 3, 4, 5, tzinfo=UTC)
    aware = datetime(2025, 1, 1, 3, 4, 5, tzinfo=timezone(timedelta(hours=8)))
    assert convert("DateTime('UTC')", aware) is aware
    assert convert("Date", "2025-01-02") == date(2025, 1, 2)
    assert convert("Date32", date(2025, 1, 2)) == date(2025, 1, 2)


def test_maps_arrays_and_wrappers_convert_what_they_hold():
    assert convert("Map(String, DateTime64(3, 'UTC'))", {"vip": "2025-01-01T03:04:05.678Z", "new": EPOCH}) == {"vip": 1_735_700_645_678, "new": 0}
    assert convert("Array(Nullable(DateTime64(3, 'UTC')))", ["1970-01-01T00:00:00.001Z", None]) == [1, None]
    assert convert("Nullable(DateTime64(3, 'UTC'))", "1970-01-01T00:00:01Z") == 1000
    assert convert("Array(Date)", ["2025-01-02"]) == [date(2025, 1, 2)]


@pytest.mark.parametrize("type_text", ["String", "UInt64", "Float64", "Array(String)", "Map(String, UInt32)", "LowCardinality(String)", "Tuple(String, DateTime)"])
def test_types_whose_values_never_change_need_no_converter(type_text: str):
    assert insert_converter(parse(type_text)) is None
