"""One currency basis for value (docs/domain.md §6): amounts converted to the reporting currency.

A shop selling in CNY and USD must not add 100 CNY to 100 USD. With ``reporting`` set, the
profile converts each purchase and refund at the rate of its event's date (UTC): the latest rate
of its currency dated on or before that day, from the rates table the operator loads (``cdp rates
load``; the platform passes it in as ``rates``). Value tiers, RFM, CLV, loyalty points, segments
on revenue and revenue analytics then read converted amounts; the event keeps its original
amount and currency, and ``daily_sales`` keeps revenue per currency as sent.

A purchase in a currency with no rate for its date is never guessed: it still counts as a
purchase (recency, frequency, lifecycle), with no amount, and ``cdp rates missing`` reports it.
Rates are an explicit input, like configuration: a rebuild with the same table gives the same
rows; loading rates changes nothing already projected until ``cdp projections rebuild``.

Unset ``reporting`` (the default) takes amounts as sent: right for a shop with one currency.
"""

import bisect
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.payloads.base import Currency

DAY_MS = 86_400_000
Rate = Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]


class CurrencyRules(BaseModel):
    """``[profile.currency]``: the reporting currency; ``rates`` are loaded by ``cdp rates load``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reporting: Currency | None = Field(default=None, description="ISO 4217 code amounts are converted to (e.g. CNY); unset: amounts as sent.")
    rates: dict[Currency, dict[date, Rate]] = Field(default={}, description="Currency → day → units of the reporting currency per unit; loaded with `cdp rates load`.")
    @cached_property
    def days(self) -> dict[str, tuple[list[int], list[float]]]:
        """Per currency, its rates' day numbers (days since 1970-01-01) and rates, by day; for ``converted``."""
        days = {}
        for currency, by_day in self.rates.items():
            ordered = sorted(by_day.items())
            days[currency] = ([_day_number(d) for d, _ in ordered], [rate for _, rate in ordered])
        return days

    def converted(self, amount: float, currency: str, ms: int) -> float | None:
        """``amount`` of ``currency`` at the time ``ms`` in the reporting currency; None without a rate."""
        if self.reporting is None or currency == self.reporting:
            return amount
        found = self.days.get(currency)
        if found is None:
            return None
        days, rates = found
        i = bisect.bisect_right(days, ms // DAY_MS) - 1
        return None if i < 0 else round(amount * rates[i], 6)


def _day_number(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000 // DAY_MS
