"""Exchange rates, for every door: load a dated rates table from CSV, and report the sales no rate
converts (projections.currency, docs/operations.md "Currencies"). Loading is an administrator's
act, audited whatever its outcome; the report reads the warehouse's ``daily_sales``.
"""

import csv
import io
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.services import Caller
from cdp.services.audited import audited
from projections.currency import DAY_MS
from cdp.warehouse.views import daily_sales

ADMIN = "admin"
COLUMNS = ("date", "currency", "rate")
MAX_NAME = 200  # of a file name as the audit log keeps it
MAX_RATE = 1e9


@dataclass(frozen=True)
class LoadReport:
    rows: int  # rates in the file
    changed: int  # rates new or different from those stored
    reporting: str  # the currency they convert to
    rebuild_needed: bool  # the table changed: events already projected were converted without it


@dataclass(frozen=True)
class Unconverted:
    """Sales of one currency on days it has no rate for: counted as purchases, with no amount."""

    currency: str
    first_day: str  # YYYY-MM-DD
    last_day: str
    purchases: int
    revenue: float  # as sent, in ``currency``
    refunds: int
    refunded: float


class RateService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform, self.caller = platform, caller

    def load(self, path: Path) -> LoadReport:
        """Stores the rates of a CSV file (``date,currency,rate``: one unit of ``currency`` is
        ``rate`` units of the reporting currency on ``date``); all of them, or none if a row is bad."""
        with audited(self.platform.audit, self.caller, "rates.load", path.name[:MAX_NAME]) as detail:
            self.caller.require(ADMIN)
            reporting = self._reporting()
            if not path.is_file():
                raise CdpError(f"{path}: no such file")
            rows = parse_rates(path.read_bytes().decode("utf-8-sig", errors="replace"), path.name, reporting)
            changed = self.platform.rates.load(rows)
            detail.update({"rows": len(rows), "changed": changed})
            return LoadReport(len(rows), changed, reporting, rebuild_needed=changed > 0)

    def missing(self) -> list[Unconverted]:
        """Per currency, the sales on days with no rate to the reporting currency (none: every sale converts)."""
        self.caller.require(ADMIN)
        reporting = self._reporting()
        currency = self.platform.rules.profile.currency
        db = self.platform.warehouse.database
        days = self.platform.warehouse.query(
            "SELECT currency, toString(day) AS iso_day, dateDiff('day', toDate('1970-01-01'), day) AS day_number, sum(purchases) AS purchases, sum(revenue) AS revenue, sum(refunds) AS refunds, sum(refunded) AS refunded "
            f"FROM `{db}`.`{daily_sales.ROLLUP.name}` WHERE currency != {{reporting:String}} GROUP BY currency, day ORDER BY currency, day_number",
            {"reporting": reporting},
        )
        found: dict[str, list[dict]] = {}
        for day in days:
            if currency.converted(1.0, day["currency"], day["day_number"] * DAY_MS) is None:
                found.setdefault(day["currency"], []).append(day)
        return [
            Unconverted(code, rows[0]["iso_day"], rows[-1]["iso_day"], sum(r["purchases"] for r in rows), round(sum(r["revenue"] for r in rows), 2), sum(r["refunds"] for r in rows), round(sum(r["refunded"] for r in rows), 2))
            for code, rows in found.items()
        ]

    def _reporting(self) -> str:
        reporting = self.platform.settings.profile.currency.reporting
        if reporting is None:
            raise CdpError("profile.currency.reporting: not set, so amounts are taken as sent; set it in cdp.toml ([profile.currency] reporting = \"CNY\") to convert to one currency")
        return reporting


def parse_rates(text: str, name: str, reporting: str) -> list[tuple[date, str, float]]:
    """The rows of a rates CSV; raises ``CdpError`` naming the line and field of the first bad one."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or [f.strip().lower() for f in reader.fieldnames] != list(COLUMNS):
        raise CdpError(f"{name} line 1: expected the header {','.join(COLUMNS)}, got {','.join(reader.fieldnames or [])[:100]!r}")
    rows, seen = [], {}
    for line, raw in enumerate(reader, start=2):
        values = [(v or "").strip() for v in raw.values()]
        if None in raw or len(values) != len(COLUMNS):
            raise CdpError(f"{name} line {line}: expected 3 fields (date,currency,rate)")
        day, currency, rate = _day(values[0], name, line), _currency(values[1], name, line), _rate(values[2], name, line)
        if currency == reporting and rate != 1:
            raise CdpError(f"{name} line {line}: rate: {currency} is the reporting currency, its rate is 1, not {rate}")
        if seen.setdefault((currency, day), line) != line:
            raise CdpError(f"{name} line {line}: {currency} on {day} is given on line {seen[(currency, day)]} already")
        rows.append((day, currency, rate))
    if not rows:
        raise CdpError(f"{name}: no rates (expected lines of {','.join(COLUMNS)})")
    return rows


def _day(value: str, name: str, line: int) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CdpError(f"{name} line {line}: date: {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def _currency(value: str, name: str, line: int) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise CdpError(f"{name} line {line}: currency: {value[:40]!r} is not a three-letter ISO 4217 code")
    return value.upper()


def _rate(value: str, name: str, line: int) -> float:
    try:
        rate = float(value)
    except ValueError:
        rate = math.nan
    if not 0 < rate <= MAX_RATE:
        raise CdpError(f"{name} line {line}: rate: {value[:40]!r} is not a positive number (units of the reporting currency per unit)")
    return rate
