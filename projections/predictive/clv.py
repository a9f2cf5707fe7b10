"""Predicted CLV: expected margin over a horizon, discounted month by month.

CLV = margin × expected amount per purchase × Σ_k (expected purchases in month k) / (1 + d)^k, with d
the monthly rate equivalent to the configured annual discount rate; the last month may be partial.
"""

import numpy as np

from projections.predictive import bgnbd
from projections.predictive.bgnbd import BgNbd

MONTH_DAYS = 30.0


def discounted_purchases(params: BgNbd, horizon_days: float, annual_discount_rate: float,
                         x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Expected purchases over the horizon, each month's worth discounted to today (days as the unit)."""
    monthly = (1 + annual_discount_rate) ** (MONTH_DAYS / 365.0) - 1
    total = np.zeros_like(np.asarray(T, dtype=float))
    before = total
    month = 1
    while (month - 1) * MONTH_DAYS < horizon_days:
        upto = bgnbd.expected_purchases(params, min(month * MONTH_DAYS, horizon_days), x, t_x, T)
        total = total + (upto - before) / (1 + monthly) ** month
        before, month = upto, month + 1
    return total
