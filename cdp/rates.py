"""The exchange-rate table (``DATA_DIR/rates.sqlite``): dated rates to the reporting currency.

The operator loads it from CSV (``cdp rates load``, ``cdp.services.rates``); the projections read
it as an explicit input (``projections.currency``), never the wall clock, so a rebuild with the
same table gives the same rows. A rate loaded again for the same day and currency replaces the
earlier one. Backed up with the data directory (``cdp.backup.stores``).
"""

import threading
from datetime import date
from pathlib import Path

from cdp.config import Settings
from cdp.sqlite_store import open_store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rates (
    day TEXT NOT NULL,
    currency TEXT NOT NULL,
    rate REAL NOT NULL,
    PRIMARY KEY (currency, day)
)
"""
Rates = dict[str, dict[date, float]]  # currency → day → units of the reporting currency per unit


class RateStore:
    def __init__(self, path: Path):
        self._db = open_store(path, _SCHEMA)
        self._lock = threading.Lock()

    def load(self, rows: list[tuple[date, str, float]]) -> int:
        """Stores ``(day, currency, rate)`` rows in one transaction; returns how many changed the table."""
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO rates (day, currency, rate) VALUES (?, ?, ?) ON CONFLICT (currency, day) DO UPDATE SET rate = excluded.rate WHERE rate != excluded.rate",
                    [(day.isoformat(), currency, rate) for day, currency, rate in rows],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return self._db.total_changes - before

    def table(self) -> Rates:
        with self._lock:
            rows = self._db.execute("SELECT currency, day, rate FROM rates ORDER BY currency, day").fetchall()
        found: Rates = {}
        for currency, day, rate in rows:
            found.setdefault(currency, {})[date.fromisoformat(day)] = rate
        return found

    def close(self) -> None:
        self._db.close()


def with_rates(settings: Settings, rates: Rates) -> Settings:
    """``settings`` with ``rates`` added to the configured ones (``[profile.currency.rates]``; a
    loaded rate wins for its day), where the profile reads them."""
    currency = settings.profile.currency
    merged = {code: {**currency.rates.get(code, {}), **by_day} for code, by_day in rates.items()}
    if not merged:
        return settings
    rules = currency.model_validate({**currency.model_dump(), "rates": {**currency.rates, **merged}})
    return settings.model_copy(update={"profile": settings.profile.model_copy(update={"currency": rules})})
