"""Dates in a customer's own time zone: birthdays, holidays, quiet hours. Pure (no clock): every
moment is computed from a date and a zone, so a rebuild computes the same moments."""

from datetime import UTC, date, datetime, timedelta, tzinfo

from projections.triggers.rules import Holiday, QuietHours, TriggerRules, zone_or_none

DAY_MS = 86_400_000


def customer_zone(traits: dict, rules: TriggerRules) -> tzinfo:
    """The zone of the first valid time-zone trait, else the configured default."""
    for name in rules.time_zone_traits:
        zone = zone_or_none(traits.get(name, [None])[0])
        if zone is not None:
            return zone
    return zone_or_none(rules.default_time_zone) or UTC


def birthday(traits: dict, rules: TriggerRules) -> tuple[int, int] | None:
    """(month, day) of the first trait of ``birthday_traits`` that holds a date (YYYY-MM-DD, or MM-DD)."""
    for name in rules.birthday_traits:
        value = traits.get(name, [None])[0]
        if isinstance(value, str):
            found = month_day(value.strip()[:10])  # a date, or the date part of a timestamp
            if found is not None:
                return found
    return None


def month_day(text: str) -> tuple[int, int] | None:
    """(month, day) of "YYYY-MM-DD" or "MM-DD"; None when it is no date (29 February is one)."""
    try:
        if len(text) == 10:
            parsed = date.fromisoformat(text)
            return parsed.month, parsed.day
        if len(text) == 5 and text[2] == "-":
            month, day = int(text[:2]), int(text[3:])
            date(2000, month, day)  # a leap year: 02-29 is valid
            return month, day
    except ValueError:
        return None
    return None


def occurrence(year: int, month: int, day: int) -> date:
    """That day in ``year``; 29 February falls on the 28th in other years."""
    if (month, day) == (2, 29) and not _leap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def yearly_days(month: int, day: int, days_before: int, as_of: int, only_years: list[int] | None = None) -> list[date]:
    """The firing days (``days_before`` ahead of the yearly date) around ``as_of``: last year's, this year's, next year's."""
    year = datetime.fromtimestamp(as_of / 1000, UTC).year
    years = [y for y in (year - 1, year, year + 1) if not only_years or y in only_years]
    return [occurrence(y, month, day) - timedelta(days=days_before) for y in years]


def holiday_days(holiday: Holiday, days_before: int, as_of: int) -> list[date]:
    month, day = int(holiday.month_day[:2]), int(holiday.month_day[3:])
    return yearly_days(month, day, days_before, as_of, holiday.years)


def local_midnight(day: date, zone: tzinfo) -> int:
    """The first moment (ms, UTC) of ``day`` in ``zone``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() * 1000)


def day_of(ms: int) -> str:
    """The UTC date of a moment, as an action's cause names it."""
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def quiet_until(ms: int, zone: tzinfo, quiet: QuietHours | None) -> datetime | None:
    """When quiet hours end (UTC), if ``ms`` falls inside them in ``zone``; None otherwise."""
    if quiet is None or quiet.start == quiet.end:
        return None
    local = datetime.fromtimestamp(ms / 1000, zone)
    now = local.time().replace(tzinfo=None)
    overnight = quiet.start > quiet.end  # 21:00-09:00 spans midnight
    inside = (now >= quiet.start or now < quiet.end) if overnight else quiet.start <= now < quiet.end
    if not inside:
        return None
    end_day = local.date() + timedelta(days=1) if overnight and now >= quiet.start else local.date()
    end = datetime(end_day.year, end_day.month, end_day.day, quiet.end.hour, quiet.end.minute, tzinfo=zone)
    return end.astimezone(UTC)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
