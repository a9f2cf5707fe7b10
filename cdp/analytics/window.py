"""The time window and period every analysis takes: [start, end) in UTC, grouped by day, week or month."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal

from cdp.errors import CdpError
from cdp.warehouse.column_types import FIRST_YEAR, LAST_YEAR

Period = Literal["day", "week", "month"]
# the SQL that truncates a time to its period: fixed text chosen by name, never user text
TRUNCATE: dict[str, str] = {"day": "toDate({})", "week": "toMonday({})", "month": "toStartOfMonth({})"}
TIME = "DateTime64(3, 'UTC')"


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def params(self) -> dict[str, str]:
        return {"start": _text(self.start), "end": _text(self.end)}

    def where(self, column: str) -> str:
        return f"{column} >= {{start:{TIME}}} AND {column} < {{end:{TIME}}}"


def window(start: str | date | None, end: str | date | None) -> Window:
    """``[start, end)``; dates mean midnight UTC. Defaults: all time."""
    chosen = Window(_at("start", start, datetime(1970, 1, 1, tzinfo=UTC)), _at("end", end, datetime(2100, 1, 1, tzinfo=UTC)))
    if start is not None and end is not None and chosen.start > chosen.end:
        raise CdpError(f"end: {chosen.end.date()} is before start, {chosen.start.date()}")
    return chosen


def truncate(period: str, column: str) -> str:
    if period not in TRUNCATE:
        raise CdpError(f"period: expected day, week or month, got {period[:50]!r}")
    return TRUNCATE[period].format(column)


def _at(field: str, value: str | date | None, default: datetime) -> datetime:
    if value is None:
        return default
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise CdpError(f"{field}: expected a date like 2025-10-01, got {value[:50]!r}") from None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise CdpError(f"{field}: expected a date between {FIRST_YEAR} and {LAST_YEAR}, got {value.date()}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _text(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
