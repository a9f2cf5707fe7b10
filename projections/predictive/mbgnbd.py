"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a customer may also drop out right
after their first purchase, so P(alive) falls below 1 for a customer who never came back. Same
inputs and units as ``bgnbd``; compared with it in benchmarks/predictive.py."""

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from projections.predictive import alive
from projections.predictive.bgnbd import BgNbd, fit_by


def log_likelihood(params: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1) - betaln(a, b)
    still = -(r + x) * np.log(alpha + T)
    dropped = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x)
    return common + np.logaddexp(still, dropped)


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:
    return fit_by(log_likelihood, x, t_x, T, "MBG/NBD")


def p_alive(params: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    return alive.mbgnbd(params.r, params.alpha, params.a, params.b, x, t_x, T)


def expected_purchases(params: BgNbd, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if t <= 0:
        return np.zeros_like(np.asarray(T, dtype=float))
    ratio = (alpha + T) / (alpha + T + t)
    growth = (a + b + x) / (a - 1) * (1 - ratio ** (r + x) * hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + T + t)))
    return growth * p_alive(params, x, t_x, T)
