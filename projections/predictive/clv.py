"""Predicted CLV: expected margin over a horizon, discounted month by month.

CLV = margin × expected amount per purchase × Σ_k (expected purchases in month k) / (1 + d)^k, with d
the monthly rate equivalent to the configured annual discount rate; the last month may be partial.
"""

from collections.abc import Callable

import numpy as np

MONTH_DAYS = 30.0


def discounted_purchases(expected_within: Callable[[float], np.ndarray], horizon_days: float, annual_discount_rate: float) -> np.ndarray:
    """Expected purchases over the horizon, each month's worth discounted to today (days as the
    unit); ``expected_within(t)``: each customer's expected purchases in the next ``t`` days."""
    monthly = (1 + annual_discount_rate) ** (MONTH_DAYS / 365.0) - 1
    total = before = expected_within(0.0)
    month = 1
    while (month - 1) * MONTH_DAYS < horizon_days:
        upto = expected_within(min(month * MONTH_DAYS, horizon_days))
        total = total + (upto - before) / (1 + monthly) ** month
        before, month = upto, month + 1
    return total
